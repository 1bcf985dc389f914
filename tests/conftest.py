"""Fixtures shared by every test layer."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.influxdb import InfluxDB, influxd_available
from tests.support.mosquitto import Mosquitto

# `broker` (a provisioned Mosquitto for the module's `deployment`) and `clients`.
pytest_plugins = ("tests.support.secure_mosquitto",)


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A Mosquitto broker of this test's own on a free port."""
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


# -- cloud stores on real servers -------------------------------------------------------------

POSTGRES_URL = os.environ.get("HINODE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL state-store URL whose tables live in a schema of this test's own."""
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")
    yield f"{POSTGRES_URL}?schema={schema}"
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def influxdb(tmp_path: Path) -> Iterator[InfluxDB]:
    """InfluxDB 1.x on free ports behind the v2 compatibility layer (see tests/support)."""
    if not influxd_available():
        pytest.skip("influxd is not installed (Debian package 'influxdb'; .ci/run installs it)")
    server = InfluxDB(tmp_path / "influxdb")
    server.start()
    yield server
    server.stop()
