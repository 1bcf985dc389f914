"""SQLite (WAL) adapter of the outbox; the only module of the edge that imports sqlite3.

All SQLite work runs on one worker thread so that an fsync never stalls the event loop.
"""

import asyncio
import contextlib
import copy
import logging
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from edge.outbox._port import (
    BatchBuilder,
    DropReport,
    MessageBuilder,
    OutboxError,
    OutboxLimits,
    OutboxRow,
    Sealed,
    StagedBatch,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS staged (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL,
    reading TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    readings INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
"""

#: Rows examined per step when dropping: bounds the work of one transaction.
_DROP_CHUNK = 10_000


class _Drops:
    """Running total of what the drop policy removed since the last report."""

    def __init__(self) -> None:
        self.messages = 0
        self.readings = 0
        self.reasons: list[str] = []
        self.first_seq = -1
        self.last_seq = -1

    def add(self, reason: str, seqs: list[int], readings: int) -> None:
        if not seqs:
            return
        self.messages += len(seqs)
        self.readings += readings
        if reason not in self.reasons:
            self.reasons.append(reason)
        if self.first_seq < 0:
            self.first_seq = seqs[0]
        self.last_seq = max(self.last_seq, seqs[-1])


class SqliteOutbox:
    """The outbox in one SQLite file. Use ``async with SqliteOutbox.open(path, limits)``."""

    def __init__(self, path: Path, limits: OutboxLimits, *, synchronous: str = "FULL") -> None:
        self.path = path
        self.limits = limits
        self._synchronous = synchronous
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        self._db: sqlite3.Connection | None = None
        self._next_seq = 0
        #: next_seq as of the last commit: what readers on the loop may see.
        self._visible_next_seq = 0
        self._pending_ops: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._rows = 0
        self._bytes = 0
        self._readings = 0
        self._drops = _Drops()
        self._grown = asyncio.Event()

    @classmethod
    def open(cls, path: Path, limits: OutboxLimits, *, synchronous: str = "FULL") -> "SqliteOutbox":
        """An outbox to enter with ``async with``; *synchronous* FULL survives a power cut."""
        return cls(path, limits, synchronous=synchronous)

    async def __aenter__(self) -> Self:
        try:
            await self._run(self._open)
        except (sqlite3.Error, OSError) as exc:
            self._executor.shutdown(wait=False)
            msg = f"cannot open the outbox {self.path}: {exc}"
            raise OutboxError(msg) from None
        log.info(
            "outbox opened",
            extra={"path": str(self.path), "depth": self._rows, "next_seq": self._next_seq},
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._flusher is not None:
            await asyncio.shield(self._flusher)
        await asyncio.shield(self._run(self._close))
        self._executor.shutdown(wait=True)

    # -- the port ---------------------------------------------------------------------------

    @property
    def depth(self) -> int:
        return self._rows

    @property
    def depth_readings(self) -> int:
        return self._readings

    @property
    def depth_bytes(self) -> int:
        return self._bytes

    @property
    def last_seq(self) -> int:
        return self._visible_next_seq - 1

    async def stage(self, device: str, readings: Sequence[str], now_ms: int) -> int:
        return await self._grouped(partial(self._stage, device, list(readings), now_ms))

    async def seal(self, device: str, through_id: int, build: BatchBuilder, now_ms: int) -> int:
        seq = await self._grouped(partial(self._seal, device, through_id, build, now_ms))
        self._grown.set()
        return seq

    async def append(
        self, build: MessageBuilder, now_ms: int, *, cursor: tuple[str, int] | None = None
    ) -> int:
        """Store one message; *cursor* (name, value) is saved in the same transaction.

        A device's transfer position kept this way never runs ahead of (skips) or behind
        (repeats) the messages that are durable.
        """
        seq = await self._grouped(partial(self._append, build, now_ms, cursor))
        self._grown.set()
        return seq

    async def save_cursor(self, name: str, value: int) -> None:
        """Save a cursor on its own (a record that carries nothing to publish)."""
        await self._grouped(partial(self._save_cursor, name, value))

    async def cursors(self) -> dict[str, int]:
        """Every saved cursor by name."""
        return await self._grouped(self._cursors)

    async def staged(self) -> list[StagedBatch]:
        # Queued behind the writes already asked for, so that it sees them.
        return await self._grouped(self._staged)

    async def read_after(self, seq: int, limit: int) -> list[OutboxRow]:
        return await self._run(self._read_after, seq, limit)

    async def delete(self, seqs: Iterable[int]) -> None:
        ranges = seq_ranges(seqs)
        if ranges:
            await self._run(self._delete, ranges)

    async def expire(self, now_ms: int) -> None:
        await self._run(self._expire, now_ms - self.limits.max_age_ms)

    def take_drops(self) -> DropReport | None:
        drops, self._drops = self._drops, _Drops()
        if drops.messages == 0:
            return None
        return DropReport(
            messages=drops.messages,
            readings=drops.readings,
            reasons=tuple(drops.reasons),
            first_seq=drops.first_seq,
            last_seq=drops.last_seq,
        )

    async def wait_for_rows(self, after_seq: int) -> None:
        while self.last_seq <= after_seq:
            self._grown.clear()
            await self._grown.wait()

    # -- group commit ------------------------------------------------------------------------

    async def _grouped(self, operation: Callable[[], T]) -> T:
        """Run *operation* in the next shared transaction: one fsync for every writer waiting."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending_ops.append((operation, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_ops(), name="outbox-commit")
        return await future

    async def _flush_ops(self) -> None:
        while self._pending_ops:
            batch, self._pending_ops = self._pending_ops, []
            try:
                outcomes = await self._run(self._apply, [operation for operation, _ in batch])
            except (sqlite3.Error, OSError) as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    def _apply(self, operations: list[Callable[[], Any]]) -> list[tuple[bool, Any]]:
        db = self._conn()
        before_all = self._snapshot()
        outcomes: list[tuple[bool, Any]] = []
        db.execute("BEGIN IMMEDIATE")
        try:
            for operation in operations:
                before = self._snapshot()
                db.execute("SAVEPOINT operation")
                try:
                    value = operation()
                except Exception as exc:  # noqa: BLE001 - handed to the caller that asked
                    db.execute("ROLLBACK TO operation")
                    db.execute("RELEASE operation")
                    self._restore(before)
                    outcomes.append((False, exc))
                else:
                    db.execute("RELEASE operation")
                    outcomes.append((True, value))
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            self._restore(before_all)
            raise
        self._visible_next_seq = self._next_seq
        return outcomes

    def _snapshot(self) -> tuple[int, int, int, int, _Drops]:
        return self._next_seq, self._rows, self._bytes, self._readings, copy.deepcopy(self._drops)

    def _restore(self, snapshot: tuple[int, int, int, int, _Drops]) -> None:
        self._next_seq, self._rows, self._bytes, self._readings, self._drops = snapshot

    # -- the worker thread -------------------------------------------------------------------

    async def _run(self, function: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, function, *args)

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            msg = "outbox is not open"
            raise RuntimeError(msg)
        return self._db

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={self._synchronous}")
        db.executescript(_SCHEMA)
        self._db = db
        stored = db.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()
        rows, size, readings, top = db.execute(
            "SELECT count(*), coalesce(sum(length(payload)), 0), coalesce(sum(readings), 0), "
            "coalesce(max(seq), -1) FROM outbox"
        ).fetchone()
        self._next_seq = max(stored[0] if stored else 0, top + 1)
        self._visible_next_seq = self._next_seq
        self._rows, self._bytes, self._readings = rows, size, readings

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _stage(self, device: str, readings: list[str], now_ms: int) -> int:
        db = self._conn()
        db.executemany(
            "INSERT INTO staged (device, reading, created_ms) VALUES (?, ?, ?)",
            [(device, reading, now_ms) for reading in readings],
        )
        last: int = db.execute("SELECT last_insert_rowid()").fetchone()[0]
        return last

    def _seal(self, device: str, through_id: int, build: BatchBuilder, now_ms: int) -> int:
        db = self._conn()
        staged = [
            text
            for (text,) in db.execute(
                "SELECT reading FROM staged WHERE device = ? AND id <= ? ORDER BY id",
                (device, through_id),
            )
        ]
        if not staged:
            return -1
        seq = self._next_seq
        sealed = build(seq, staged)
        self._insert(db, seq, sealed, now_ms)
        db.execute("DELETE FROM staged WHERE device = ? AND id <= ?", (device, through_id))
        self._next_seq = seq + 1
        return seq

    def _append(
        self, build: MessageBuilder, now_ms: int, cursor: tuple[str, int] | None = None
    ) -> int:
        db = self._conn()
        seq = self._next_seq
        sealed = build(seq)
        self._insert(db, seq, sealed, now_ms)
        if cursor is not None:
            self._save_cursor(*cursor)
        self._next_seq = seq + 1
        return seq

    def _save_cursor(self, name: str, value: int) -> None:
        self._conn().execute(
            "INSERT INTO cursors (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def _cursors(self) -> dict[str, int]:
        return dict(self._conn().execute("SELECT name, value FROM cursors").fetchall())

    def _insert(self, db: sqlite3.Connection, seq: int, sealed: Sealed, now_ms: int) -> None:
        payload, readings = sealed.payload, sealed.readings
        db.execute(
            "INSERT INTO outbox (seq, topic, payload, readings, created_ms) VALUES (?, ?, ?, ?, ?)",
            (seq, sealed.topic, payload, readings, now_ms),
        )
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('next_seq', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (seq + 1,),
        )
        # Totals move before the commit: a failed commit (disk full) leaves them high, which
        # only makes the next drop come a little early.
        self._rows += 1
        self._bytes += len(payload)
        self._readings += readings
        self._enforce_size(db)

    def _enforce_size(self, db: sqlite3.Connection) -> None:
        rows_over = self._rows - self.limits.max_rows
        if rows_over > 0:
            self._drop_oldest(db, "max_rows", rows=rows_over)
        while self._bytes > self.limits.max_bytes and self._rows > 1:
            if not self._drop_oldest(
                db, "max_bytes", bytes_over=self._bytes - self.limits.max_bytes
            ):
                break

    def _drop_oldest(
        self, db: sqlite3.Connection, reason: str, *, rows: int = 0, bytes_over: int = 0
    ) -> bool:
        candidates = db.execute(
            "SELECT seq, length(payload), readings FROM outbox ORDER BY seq LIMIT ?",
            (max(rows, 1) if rows else _DROP_CHUNK,),
        ).fetchall()
        chosen: list[tuple[int, int, int]] = []
        freed = 0
        for seq, size, readings in candidates:
            if rows and len(chosen) >= rows:
                break
            if not rows and freed >= bytes_over:
                break
            chosen.append((seq, size, readings))
            freed += size
        if not chosen:
            return False
        seqs = [seq for seq, _, _ in chosen]
        db.execute("DELETE FROM outbox WHERE seq BETWEEN ? AND ?", (seqs[0], seqs[-1]))
        dropped_readings = sum(readings for _, _, readings in chosen)
        self._rows -= len(chosen)
        self._bytes -= freed
        self._readings -= dropped_readings
        self._drops.add(reason, seqs, dropped_readings)
        # The agent reports the drops once per maintenance round; here only for debugging.
        log.debug(
            "outbox full: dropped oldest messages",
            extra={"reason": reason, "messages": len(seqs), "readings": dropped_readings},
        )
        return True

    def _expire(self, cutoff_ms: int) -> None:
        db = self._conn()
        while True:
            with _transaction(db):
                old = db.execute(
                    "SELECT seq, length(payload), readings, created_ms FROM outbox "
                    "ORDER BY seq LIMIT ?",
                    (_DROP_CHUNK,),
                ).fetchall()
                chosen = []
                for row in old:
                    if row[3] >= cutoff_ms:
                        break
                    chosen.append(row)
                if not chosen:
                    return
                seqs = [row[0] for row in chosen]
                db.execute("DELETE FROM outbox WHERE seq BETWEEN ? AND ?", (seqs[0], seqs[-1]))
            dropped_readings = sum(row[2] for row in chosen)
            self._rows -= len(chosen)
            self._bytes -= sum(row[1] for row in chosen)
            self._readings -= dropped_readings
            self._drops.add("max_age", seqs, dropped_readings)
            log.debug(
                "outbox: dropped expired messages",
                extra={"reason": "max_age", "messages": len(seqs), "readings": dropped_readings},
            )
            if len(chosen) < len(old):
                return

    def _staged(self) -> list[StagedBatch]:
        db = self._conn()
        batches: dict[str, tuple[int, list[str]]] = {}
        for row_id, device, reading in db.execute(
            "SELECT id, device, reading FROM staged ORDER BY id"
        ):
            _, readings = batches.get(device, (row_id, []))
            readings.append(reading)
            batches[device] = (row_id, readings)
        return [StagedBatch(device, last, readings) for device, (last, readings) in batches.items()]

    def _read_after(self, seq: int, limit: int) -> list[OutboxRow]:
        db = self._conn()
        return [
            OutboxRow(row_seq, topic, payload, readings)
            for row_seq, topic, payload, readings in db.execute(
                "SELECT seq, topic, payload, readings FROM outbox WHERE seq > ? "
                "ORDER BY seq LIMIT ?",
                (seq, limit),
            )
        ]

    def _delete(self, ranges: list[tuple[int, int]]) -> None:
        db = self._conn()
        # A delete lost to a power cut only sends an acknowledged message again (the collector
        # drops the duplicate), so deletes skip the fsync that inserts pay for.
        db.execute("PRAGMA synchronous=NORMAL")
        try:
            self._delete_ranges(db, ranges)
        finally:
            db.execute(f"PRAGMA synchronous={self._synchronous}")

    def _delete_ranges(self, db: sqlite3.Connection, ranges: list[tuple[int, int]]) -> None:
        removed_rows = removed_bytes = removed_readings = 0
        with _transaction(db):
            for first, last in ranges:
                for size, readings in db.execute(
                    "DELETE FROM outbox WHERE seq BETWEEN ? AND ? "
                    "RETURNING length(payload), readings",
                    (first, last),
                ).fetchall():
                    removed_rows += 1
                    removed_bytes += size
                    removed_readings += readings
        self._rows -= removed_rows
        self._bytes -= removed_bytes
        self._readings -= removed_readings


class _transaction:  # noqa: N801 - used like a function
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on an exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def seq_ranges(seqs: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted, merged inclusive ranges covering *seqs*: ``[1, 2, 3, 7]`` → ``[(1, 3), (7, 7)]``."""
    ranges: list[tuple[int, int]] = []
    for seq in sorted(set(seqs)):
        if ranges and seq == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], seq)
        else:
            ranges.append((seq, seq))
    return ranges
