"""The four SQL stores open their databases through one engine factory, each with its own settings:
what a connection of each store runs with on SQLite and on PostgreSQL."""

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cloud._sql_engine import sql_engine
from cloud._sql_state import SqlStateStore
from cloud.energy import SqlLedger
from cloud.health import CareStore
from cloud.registry import IdentityRegistry
from messages import ConfigError

STORES: dict[str, Callable[[str], Any]] = {
    "state": SqlStateStore,
    "care": CareStore,
    "registry": IdentityRegistry,
    "ledger": SqlLedger,
}


@contextmanager
def opened(store: str, url: str) -> Iterator[Engine]:
    opened_store = STORES[store](url)
    try:
        engine: Engine = opened_store._engine
        yield engine
    finally:
        opened_store.close()


@pytest.mark.parametrize(
    ("store", "journal_mode", "synchronous"),
    [
        ("state", "wal", 1),
        ("care", "wal", 1),
        ("registry", "delete", 2),
        ("ledger", "wal", 2),
    ],
)
def test_each_store_keeps_its_sqlite_settings(
    tmp_path: Path, store: str, journal_mode: str, synchronous: int
) -> None:
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    with opened(store, url) as engine, engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == journal_mode
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == synchronous
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


@pytest.mark.parametrize(("store", "locks_at_begin"), [("state", True), ("care", False)])
def test_only_the_state_store_takes_the_sqlite_write_lock_when_a_transaction_begins(
    tmp_path: Path, store: str, locks_at_begin: bool
) -> None:
    path = tmp_path / "state.sqlite"
    with opened(store, f"sqlite:///{path}") as engine, engine.begin() as connection:
        connection.exec_driver_sql("SELECT 1")
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            if locks_at_begin:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            else:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
        finally:
            other.close()


@pytest.mark.integration
@pytest.mark.parametrize(
    ("store", "statement_timeout", "lock_timeout"),
    [
        ("state", "30s", "30s"),
        ("care", "30s", "30s"),
        ("registry", "0", "0"),
        ("ledger", "30s", "0"),
    ],
)
def test_each_store_keeps_its_postgresql_timeouts_and_schema(
    postgres_url: str, store: str, statement_timeout: str, lock_timeout: str
) -> None:
    schema = postgres_url.rsplit("schema=", 1)[1]
    with opened(store, postgres_url) as engine, engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == statement_timeout
        assert connection.exec_driver_sql("SHOW lock_timeout").scalar() == lock_timeout
        tables = sa.inspect(connection).get_table_names(schema=schema)
    assert tables, f"the {store} store created no table in schema {schema}"


def test_an_unsupported_url_names_the_store_and_hides_the_password() -> None:
    with pytest.raises(ConfigError, match="unsupported ledger store URL") as caught:
        sql_engine("mysql://hinode:s3cret@db.example/hinode", store="ledger store")
    assert "s3cret" not in str(caught.value)
    assert "mysql://hinode:***@db.example/hinode" in str(caught.value)
