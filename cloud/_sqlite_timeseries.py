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

#: Pages of cache per connection (negative: KiB); B-tree inserts slow down sharply without it.
CACHE_KIB = 32 * 1024

# A series is one (site, gateway, device, quantity, phase); readings refer to it by number, so a
# row is four numbers and inserts stay fast. The readings key (series, ts) is the reading's
# identity, so a re-delivered message is ignored by the database itself, and its order serves
# the time-range queries per device and quantity; the ts index serves those across devices.
# An absent phase is stored as '' (NULLs are never equal in a UNIQUE constraint).
SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    id       INTEGER PRIMARY KEY,
    site     TEXT NOT NULL,
    gateway  TEXT NOT NULL,
    device   TEXT NOT NULL,
    quantity TEXT NOT NULL,
    phase    TEXT NOT NULL DEFAULT '',
    kind     TEXT NOT NULL,
    UNIQUE (device, quantity, phase, site, gateway)
);
CREATE TABLE IF NOT EXISTS readings (
    series INTEGER NOT NULL REFERENCES series (id),
    ts     INTEGER NOT NULL,
    value  REAL    NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (series, ts)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS readings_by_time ON readings (ts);
"""

INSERT = "INSERT OR IGNORE INTO readings (series, ts, value, seq) VALUES (?, ?, ?, ?)"
_INSERT_SERIES = (
    "INSERT OR IGNORE INTO series (site, gateway, device, quantity, phase, kind)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_SERIES_ID = (
    "SELECT id FROM series"
    " WHERE device = ? AND quantity = ? AND phase = ? AND site = ? AND gateway = ?"
)
_SELECT = (
    "SELECT s.site, s.gateway, s.device, s.quantity, nullif(s.phase, ''), r.ts, r.value, r.seq,"
    " s.kind FROM readings AS r JOIN series AS s ON s.id = r.series"
)

SeriesKey = tuple[str, str, str, str, str | None]


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
        connection.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        connection.executescript(SCHEMA)
        columns = {row[1] for row in connection.execute("PRAGMA table_info(readings)")}
    except (sqlite3.Error, OSError) as exc:
        msg = f"cannot open time-series database {path}: {exc}"
        raise TransportError(msg) from exc
    if "series" not in columns:
        connection.close()
        msg = f"{path} holds readings in an older layout; move it aside and start afresh"
        raise TransportError(msg)
    return connection


class SqliteTimeSeries:
    """Readings in one SQLite file; ``write`` is one transaction with one ``executemany``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        self._connection = connect(path)
        #: Series ids never change once given, so each process keeps the ones it has met.
        self._series: dict[SeriesKey, int] = {}

    def _series_id(self, reading: StoredReading) -> int:
        """The id of *reading*'s series, created if new (inside the write transaction)."""
        site, gateway, device, quantity, phase = reading[:5]
        values = (site, gateway, device, quantity, phase or "")
        self._connection.execute(_INSERT_SERIES, (*values, reading.kind))
        (series,) = self._connection.execute(
            _SERIES_ID, (device, quantity, phase or "", site, gateway)
        ).fetchone()
        self._series[reading[:5]] = series
        return int(series)

    def write(self, readings: Sequence[StoredReading]) -> int:
        if not readings:
            return 0
        connection = self._connection
        known = self._series
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                rows = [
                    (known.get(r[:5]) or self._series_id(r), r.ts, r.value, r.seq) for r in readings
                ]
                cursor = connection.executemany(INSERT, rows)
                stored = cursor.rowcount
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                self._series.clear()  # ids met in the rolled-back transaction are gone
                raise
        except sqlite3.Error as exc:
            msg = f"writing {len(readings)} readings to {self.path} failed: {exc}"
            raise TransportError(msg) from exc
        return stored

    def query(self, query: ReadingQuery) -> Iterator[StoredReading]:
        clauses: list[str] = []
        params: list[object] = []
        for clause, value in (
            ("r.ts >= ?", query.since),
            ("r.ts < ?", query.until),
            ("s.device = ?", query.device),
            ("s.quantity = ?", query.quantity),
        ):
            if value is not None:
                clauses.append(clause)
                params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        # (ts, series) is the order of the ts index, so a long export streams without a sort.
        sql = f"{_SELECT}{where} ORDER BY r.ts, r.series"
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
