"""Compose services and init scripts run without Docker: the care API, the EV controller and the
shuttle service through the image's entry point, and PostgreSQL's first-start script giving
Grafana a read-only, care-blind role."""

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from hinode.provision import DEFAULT_OUTBOX, Deployment
from tests.conftest import POSTGRES_URL
from tests.support.ports import free_port, wait_port
from tests.support.secure_mosquitto import Client, SecureMosquitto

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
COMPOSE_DIR = REPO / "ops" / "compose"
READER = "grafana_reader"

WRAPPER = """#!{python}
# `hinode` with every command group mounted, also those hinode/cli.py does not mount yet.
from hinode.cli import app
from hinode.commands import care, energy

mounted = {{group.name for group in app.registered_groups}}
if "care" not in mounted:
    app.add_typer(care.app, name="care")
if "energy" not in mounted:
    app.add_typer(energy.app, name="energy")
app()
"""


def _hinode_on_path(directory: Path) -> str:
    directory.mkdir()
    wrapper = directory / "hinode"
    wrapper.write_text(WRAPPER.format(python=sys.executable))
    wrapper.chmod(0o755)
    return f"{directory}:{os.environ['PATH']}"


def _wait_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            wait_port(port, timeout=0.5)
        except TimeoutError:
            continue
        return
    raise AssertionError(log.read_text())


def test_care_api_service_starts_through_the_entrypoint(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "HINODE_CARE_STATE": f"sqlite:///{tmp_path / 'care.sqlite'}",
        "HINODE_STORE": f"sqlite:///{tmp_path / 'timeseries.sqlite'}",
        "HINODE_DATA_DIR": str(tmp_path),
        "HINODE_CARE_PORT": str(port),
        "PATH": _hinode_on_path(tmp_path / "bin"),
    }
    with (tmp_path / "care.log").open("wb") as log:
        process = subprocess.Popen(
            ["sh", str(COMPOSE_DIR / "hinode-entrypoint.sh"), "care-api", "--alert-interval", "0"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_listening(process, port, tmp_path / "care.log")
        # The compose healthcheck's request.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/docs", timeout=5) as response:
            assert response.status == 200
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture
def fresh_database() -> Iterator[str]:
    name = f"hinode_init_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP ROLE IF EXISTS {READER}"))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield name
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f"DROP ROLE IF EXISTS {READER}"))
    admin.dispose()


def test_postgres_init_gives_grafana_a_read_only_role_blind_to_care(fresh_database: str) -> None:
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed (Debian package postgresql-client)")
    env = {
        **os.environ,
        "PGHOST": "127.0.0.1",
        "POSTGRES_USER": "postgres",
        "POSTGRES_DB": fresh_database,
        "GRAFANA_POSTGRES_USER": READER,
        "GRAFANA_POSTGRES_PASSWORD": "reader-password",
    }
    script = COMPOSE_DIR / "postgres-init" / "10-grafana-reader.sh"
    subprocess.run(["bash", str(script)], env=env, check=True, timeout=30, capture_output=True)
    base = POSTGRES_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    owner = sa.create_engine(f"{base}/{fresh_database}")
    with owner.begin() as connection:  # what the collector and the care API create later
        connection.execute(sa.text("CREATE TABLE public.gateways (gateway text)"))
        connection.execute(sa.text("INSERT INTO public.gateways VALUES ('gw-1')"))
        connection.execute(
            sa.text(
                "CREATE TABLE care.care_alerts (person text, rule text, kind text, raised_at int8)"
            )
        )
        connection.execute(sa.text("INSERT INTO care.care_alerts VALUES ('p-1', 'r', 'k', 1)"))
        view = (COMPOSE_DIR / "postgres" / "care-alert-counts.sql").read_text()
        for statement in view.split(";"):
            if (
                statement.strip() and not statement.strip().startswith("--")
            ) or "CREATE" in statement:
                connection.execute(sa.text(statement))
    owner.dispose()
    reader = sa.create_engine(
        f"{base.replace('postgres@', f'{READER}:reader-password@')}/{fresh_database}"
    )
    try:
        with reader.connect() as connection:
            assert connection.execute(sa.text("SELECT gateway FROM gateways")).scalar() == "gw-1"
            assert (
                connection.execute(sa.text("SELECT count(*) FROM care_alert_counts")).scalar() == 1
            )
        for forbidden in (
            "SELECT person FROM care.care_alerts",
            "INSERT INTO gateways VALUES ('forged')",
        ):
            with reader.connect() as connection, pytest.raises(sa.exc.ProgrammingError):
                connection.execute(sa.text(forbidden))
    finally:
        reader.dispose()


def test_ev_controller_service_commands_its_chargers_through_the_secure_broker(
    tmp_path: Path,
) -> None:
    """The compose `ev-controller`: entry point, controller identity, TLS, ACL, a command
    delivered to the charger's gateway and to no other."""
    now = dt.datetime.now(dt.UTC)
    deployment = Deployment.create(tmp_path / "pki", broker_hosts=["127.0.0.1"], now=now)
    for gateway in ("gw-1", "gw-2"):
        deployment.provision_gateway(
            site="factory-a",
            gateway=gateway,
            out=tmp_path / gateway,
            now=now,
            files_dir=str(tmp_path / gateway),
            outbox_path=DEFAULT_OUTBOX,
        )
    deployment.provision_service(role="controller", name="ev-controller", out=tmp_path, now=now)
    broker = SecureMosquitto(tmp_path / "broker", deployment)
    broker.start()
    clients = []
    try:
        for gateway in ("gw-1", "gw-2"):
            client = Client(gateway, tmp_path / "pki" / "ca.crt")
            clients.append(client)
            client.connect(
                broker.cert_port,
                cert=tmp_path / gateway / "gateway.crt",
                key=tmp_path / gateway / "gateway.key",
            )
            client.subscribe("hinode/v1/#")
        (tmp_path / "ev-site.yaml").write_text(
            "site: factory-a\nsite_limit_a: 32\ngrid_meter: meter-main\n"
            "chargers:\n  - {device: charger-1, gateway: gw-1, phases: 3, max_current_a: 16}\n"
        )
        env = {
            **os.environ,
            "PATH": _hinode_on_path(tmp_path / "bin"),
            "HINODE_MQTT_HOST": "127.0.0.1",
            "HINODE_MQTT_PORT": str(broker.password_port),
            "HINODE_MQTT_USERNAME": "ev-controller",
            "HINODE_MQTT_PASSWORD_FILE": str(tmp_path / "ev-controller.password"),
            "HINODE_EV_CONFIG": str(tmp_path / "ev-site.yaml"),
            "HINODE_DATA_DIR": str(tmp_path / "data"),
            # The store the collectors write; InfluxDB in compose, SQLite here.
            "HINODE_STORE": f"sqlite:///{tmp_path / 'data' / 'timeseries.sqlite'}",
            "SSL_CERT_FILE": str(tmp_path / "pki" / "ca.crt"),
        }
        script = str(COMPOSE_DIR / "hinode-entrypoint.sh")
        result = subprocess.run(
            ["sh", script, "ev-controller", "--rounds", "1"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert clients[0].wait_for("hinode/v1/factory-a/gw-1/cmd/charger-1", timeout=10)
        assert clients[1].topics() == []
    finally:
        for client in clients:
            client.close()
        broker.stop()


def test_shuttle_service_sends_a_booked_route_through_the_secure_broker(tmp_path: Path) -> None:
    """The compose `shuttle-service`: entry point, controller identity, TLS, ACL; a ride booked in
    its config goes out as a route command to the depot gateway, its state file is written."""
    now = dt.datetime.now(dt.UTC)
    deployment = Deployment.create(tmp_path / "pki", broker_hosts=["127.0.0.1"], now=now)
    deployment.provision_gateway(
        site="midorigaoka",
        gateway="gw-depot",
        out=tmp_path / "gw-depot",
        now=now,
        files_dir=str(tmp_path / "gw-depot"),
        outbox_path=DEFAULT_OUTBOX,
    )
    deployment.provision_service(role="controller", name="shuttle-service", out=tmp_path, now=now)
    broker = SecureMosquitto(tmp_path / "broker", deployment)
    broker.start()
    gateway = Client("gw-depot", tmp_path / "pki" / "ca.crt")
    try:
        gateway.connect(
            broker.cert_port,
            cert=tmp_path / "gw-depot" / "gateway.crt",
            key=tmp_path / "gw-depot" / "gateway.key",
        )
        gateway.subscribe("hinode/v1/#")
        soon = now + dt.timedelta(minutes=5)
        later = now + dt.timedelta(hours=1)
        (tmp_path / "shuttles.yaml").write_text(
            "site: midorigaoka\n"
            "shuttles:\n"
            "  - {id: shuttle-1, gateway: gw-depot, position: [36.5600, 136.6500], capacity: 4}\n"
            "rides:\n"
            "  - {id: mrs-sato, pickup: [36.5610, 136.6500], dropoff: [36.5630, 136.6500],\n"
            f"     earliest_pickup: '{soon.isoformat()}', latest_dropoff: '{later.isoformat()}'}}\n"
        )
        data_dir = tmp_path / "data"
        env = {
            **os.environ,
            "PATH": _hinode_on_path(tmp_path / "bin"),
            "HINODE_MQTT_HOST": "127.0.0.1",
            "HINODE_MQTT_PORT": str(broker.password_port),
            "HINODE_MQTT_USERNAME": "shuttle-service",
            "HINODE_MQTT_PASSWORD_FILE": str(tmp_path / "shuttle-service.password"),
            "HINODE_SHUTTLE_CONFIG": str(tmp_path / "shuttles.yaml"),
            "HINODE_DATA_DIR": str(data_dir),
            "HINODE_BOOKING_PORT": str(free_port()),
            "HINODE_BOOKING_HOST": "127.0.0.1",
            "SSL_CERT_FILE": str(tmp_path / "pki" / "ca.crt"),
        }
        script = str(COMPOSE_DIR / "hinode-entrypoint.sh")
        result = subprocess.run(
            ["sh", script, "shuttle-service", "--rounds", "3"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert gateway.wait_for("hinode/v1/midorigaoka/gw-depot/cmd/shuttle-1", timeout=10)
        assert (data_dir / "mobility-state.json").exists()
        assert "1 route commands sent" in result.stdout
    finally:
        gateway.close()
        broker.stop()
