"""Time series in SQLite (WAL): the embedded default store."""

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from cloud._model import ReadingQuery, StoredReading
from messages import TransportError

logger = logging.getLogger(__name__)

#: How long a writer waits for another process holding the database lock.
BUSY_TIMEOUT_S = 30.0

# The primary key is the reading's identity, so a re-delivered message is ignored by the
# database itself; its order (device, quantity, ts) serves the per-device time-range queries
# and the ts index the time-range queries across devices. An absent phase is stored as '' (a
# key column cannot be NULL in a WITHOUT ROWID table).
SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    device   TEXT    NOT NULL,
    quantity TEXT    NOT NULL,
    ts       INTEGER NOT NULL,
    phase    TEXT    NOT NULL DEFAULT '',
    site     TEXT    NOT NULL,
    gateway  TEXT    NOT NULL,
    value    REAL    NOT NULL,
    seq      INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    PRIMARY KEY (device, quantity, ts, phase, site, gateway)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS readings_by_time ON readings (ts);
"""

INSERT = (
    "INSERT OR IGNORE INTO readings (site, gateway, device, quantity, phase, ts, value, seq, kind)"
    " VALUES (?, ?, ?, ?, coalesce(?, ''), ?, ?, ?, ?)"
)

SELECT = (
    "SELECT site, gateway, device, quantity, nullif(phase, ''), ts, value, seq, kind FROM readings"
)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) a time-series database at *path* in WAL mode."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a crash of the process (what the collector guards
        # against); only an OS crash or power cut may lose the last commits.
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(SCHEMA)
    except (sqlite3.Error, OSError) as exc:
        msg = f"cannot open time-series database {path}: {exc}"
        raise TransportError(msg) from exc
    return connection


class SqliteTimeSeries:
    """Readings in one SQLite file; ``write`` is one transaction with one ``executemany``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        self._connection = connect(path)

    def write(self, readings: Sequence[StoredReading]) -> int:
        if not readings:
            return 0
        connection = self._connection
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                cursor = connection.executemany(INSERT, readings)
                stored = cursor.rowcount
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            msg = f"writing {len(readings)} readings to {self.path} failed: {exc}"
            raise TransportError(msg) from exc
        return stored

    def query(self, query: ReadingQuery) -> Iterator[StoredReading]:
        clauses: list[str] = []
        params: list[object] = []
        for clause, value in (
            ("ts >= ?", query.since),
            ("ts < ?", query.until),
            ("device = ?", query.device),
            ("quantity = ?", query.quantity),
        ):
            if value is not None:
                clauses.append(clause)
                params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"{SELECT}{where} ORDER BY ts, site, gateway, device, quantity, phase"
        # A connection of its own, so a long export does not hold the writer's.
        reader = connect(self.path)
        try:
            cursor = reader.execute(sql, params)
            while rows := cursor.fetchmany(5000):
                for row in rows:
                    yield StoredReading(*row)
        except sqlite3.Error as exc:
            msg = f"reading {self.path} failed: {exc}"
            raise TransportError(msg) from exc
        finally:
            reader.close()

    def count(self) -> int:
        """How many readings are stored."""
        (total,) = self._connection.execute("SELECT count(*) FROM readings").fetchone()
        return int(total)

    def close(self) -> None:
        self._connection.close()
