"""One SQLAlchemy engine factory for the SQL stores: SQLite, or PostgreSQL through psycopg 3.

Every store gets the same connect timeout, busy timeout and pre-ping; what a store needs beyond
that (``BEGIN IMMEDIATE``, WAL, a statement or lock timeout, …) it asks for by keyword, so the
differences between the stores are visible at the call.
"""

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from cloud._sql_url import redacted, split_schema
from messages import ConfigError

CONNECT_TIMEOUT_S = 10
#: How long a SQLite connection waits for another writer's lock before it fails.
SQLITE_BUSY_TIMEOUT_S = 30

_POSTGRES_SCHEMES = ("postgresql://", "postgresql+psycopg://", "postgres://")


def sql_engine(
    url: str,
    *,
    store: str,
    create_parent_dir: bool = False,
    thread_check: bool = True,
    wal: bool = False,
    synchronous_normal: bool = False,
    immediate: bool = False,
    statement_timeout_ms: int | None = None,
    lock_timeout_ms: int | None = None,
) -> tuple[Engine, str | None]:
    """An engine for *url* and the schema its ``?schema=NAME`` names (None on SQLite).

    *store* names the store in the error for an unsupported URL. SQLite only:
    *create_parent_dir* makes the database file's directory; ``thread_check=False`` lets the
    pool hand a connection to another thread; *wal* and *synchronous_normal* set those pragmas
    on each connection; *immediate* starts every transaction with ``BEGIN IMMEDIATE`` so a
    writer holds the database lock from its first statement. PostgreSQL only:
    *statement_timeout_ms* and *lock_timeout_ms* bound each statement and each lock wait.
    """
    if url.startswith("sqlite:///"):
        if create_parent_dir:
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return _sqlite(
            url,
            thread_check=thread_check,
            wal=wal,
            synchronous_normal=synchronous_normal,
            immediate=immediate,
        ), None
    if url.startswith(_POSTGRES_SCHEMES):
        plain, schema = split_schema(url)
        options = [
            f"-c {name}={value}"
            for name, value in (
                ("statement_timeout", statement_timeout_ms),
                ("lock_timeout", lock_timeout_ms),
            )
            if value is not None
        ]
        connect_args: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S}
        if options:
            connect_args["options"] = " ".join(options)
        engine = sa.create_engine(
            "postgresql+psycopg://" + plain.split("://", 1)[1],
            pool_pre_ping=True,
            connect_args=connect_args,
        )
        return engine, schema
    msg = f"unsupported {store} URL {redacted(url)!r}: expected sqlite:///PATH or postgresql://…"
    raise ConfigError(msg)


def _sqlite(
    url: str, *, thread_check: bool, wal: bool, synchronous_normal: bool, immediate: bool
) -> Engine:
    # pysqlite's timeout is SQLite's busy timeout (sqlite3_busy_timeout), in seconds.
    connect_args: dict[str, Any] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
    if not thread_check:
        connect_args["check_same_thread"] = False
    engine = sa.create_engine(url, connect_args=connect_args)
    pragmas = [
        *(["PRAGMA journal_mode=WAL"] if wal else []),
        *(["PRAGMA synchronous=NORMAL"] if synchronous_normal else []),
    ]
    if pragmas or immediate:

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            if immediate:
                # Let SQLAlchemy's begin event issue BEGIN IMMEDIATE instead of pysqlite's BEGIN.
                dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            for pragma in pragmas:
                cursor.execute(pragma)
            cursor.close()

    if immediate:

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
