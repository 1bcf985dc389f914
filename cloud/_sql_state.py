"""The state store through SQLAlchemy Core: the same code on SQLite and PostgreSQL (psycopg 3).

Two collectors may write at once. On PostgreSQL each sequence row is locked (``FOR UPDATE``, in
key order so two writers cannot deadlock) while its gaps are rewritten; on SQLite a write
transaction starts with ``BEGIN IMMEDIATE``, so the whole database is locked from the start.
"""

import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from cloud._model import (
    DeadLetter,
    DeadLetterSummary,
    DeviceActivity,
    DeviceRecord,
    EventRecord,
    GapRecord,
    GatewayRecord,
    GatewayState,
    SeqRange,
    SequenceReport,
    StateUpdate,
)
from cloud._sequence import merge_sequences, state_supersedes
from cloud._sql_engine import sql_engine
from cloud._sql_url import redacted
from messages import TransportError

logger = logging.getLogger(__name__)

STATEMENT_TIMEOUT_MS = 30_000
#: Open gaps of one (gateway, boot_id) reported after a write; the table keeps them all.
REPORTED_GAPS_LIMIT = 1000


def _tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    gateways = sa.Table(
        "gateways",
        metadata,
        sa.Column("gateway", sa.String(64), primary_key=True),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("online", sa.Boolean),
        sa.Column("boot_id", sa.String(64)),
        sa.Column("state_seq", sa.BigInteger),
        sa.Column("state_sent_at", sa.BigInteger),
        sa.Column("version", sa.String(50)),
        sa.Column("devices", sa.Text),
        sa.Column("state_changed_at", sa.BigInteger),
        sa.Column("last_seen", sa.BigInteger),
    )
    devices = sa.Table(
        "devices",
        metadata,
        sa.Column("site", sa.String(64), primary_key=True),
        sa.Column("gateway", sa.String(64), primary_key=True),
        sa.Column("device", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16)),
        sa.Column("last_ts", sa.BigInteger),
        sa.Column("last_seen", sa.BigInteger),
        sa.Column("messages", sa.BigInteger, nullable=False),
        sa.Column("readings", sa.BigInteger, nullable=False),
        sa.Column("online", sa.Boolean),
    )
    sequences = sa.Table(
        "sequences",
        metadata,
        sa.Column("gateway", sa.String(64), primary_key=True),
        sa.Column("boot_id", sa.String(64), primary_key=True),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("first_seq", sa.BigInteger),
        sa.Column("last_seq", sa.BigInteger),
        sa.Column("messages", sa.BigInteger, nullable=False),
        sa.Column("duplicates", sa.BigInteger, nullable=False),
        sa.Column("filled", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    gaps = sa.Table(
        "gaps",
        metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("gateway", sa.String(64), nullable=False),
        sa.Column("boot_id", sa.String(64), nullable=False),
        sa.Column("first_seq", sa.BigInteger, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("opened_at", sa.BigInteger, nullable=False),
        sa.Index("gaps_by_sequence", "gateway", "boot_id", "first_seq"),
    )
    dead_letters = sa.Table(
        "dead_letters",
        metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("payload_size", sa.BigInteger, nullable=False),
        sa.Index("dead_letters_by_time", "received_at"),
    )
    events = sa.Table(
        "events",
        metadata,
        sa.Column("gateway", sa.String(64), primary_key=True),
        sa.Column("boot_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("device", sa.String(64)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
    )
    return {
        "gateways": gateways,
        "devices": devices,
        "sequences": sequences,
        "gaps": gaps,
        "dead_letters": dead_letters,
        "events": events,
    }


class SqlStateStore:
    """Gateway, device, sequence, event and dead-letter tables on SQLite or PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = redacted(url)
        # Two collectors may write at once: on SQLite each write takes the database lock first.
        self._engine, schema = sql_engine(
            url,
            store="state store",
            thread_check=False,
            wal=True,
            synchronous_normal=True,
            immediate=True,
            statement_timeout_ms=STATEMENT_TIMEOUT_MS,
            lock_timeout_ms=STATEMENT_TIMEOUT_MS,
        )
        self._postgres = self._engine.dialect.name == "postgresql"
        self._metadata = sa.MetaData(schema=schema)
        self._t = _tables(self._metadata)
        try:
            with self._engine.begin() as connection:
                if self._postgres:
                    # Two collectors starting together must not both create the tables.
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(4649)"))
                self._metadata.create_all(connection)
        except SQLAlchemyError as exc:
            self._engine.dispose()
            msg = f"cannot open state store {self.url}: {_one_line(exc)}"
            raise TransportError(msg) from exc

    def _insert(self, table: sa.Table) -> Any:
        dialect = postgresql if self._postgres else sqlite
        return dialect.insert(table)

    # -- writing ---------------------------------------------------------------------------

    def record(self, update: StateUpdate) -> SequenceReport:
        if update.is_empty():
            return SequenceReport()
        try:
            with self._engine.begin() as connection:
                self._record_dead_letters(connection, update.dead_letters)
                self._record_gateways(connection, update)
                report, seen = self._record_sequences(connection, update)
                self._record_devices(connection, update.devices, seen)
                self._record_events(connection, update.events)
                return report
        except SQLAlchemyError as exc:
            msg = f"writing state to {self.url} failed: {_one_line(exc)}"
            raise TransportError(msg) from exc

    def _record_dead_letters(self, connection: Connection, letters: Sequence[DeadLetter]) -> None:
        if letters:
            connection.execute(
                self._t["dead_letters"].insert(),
                [
                    {
                        "received_at": letter.received_at,
                        "topic": letter.topic,
                        "reason": letter.reason,
                        "payload": letter.payload,
                        "payload_size": letter.payload_size,
                    }
                    for letter in letters
                ],
            )

    def _record_gateways(self, connection: Connection, update: StateUpdate) -> None:
        table = self._t["gateways"]
        seen = sorted(update.gateways_seen.items())
        if seen:
            insert = self._insert(table)
            newer = sa.case(
                (table.c.last_seen.is_(None), insert.excluded.last_seen),
                (insert.excluded.last_seen > table.c.last_seen, insert.excluded.last_seen),
                else_=table.c.last_seen,
            )
            connection.execute(
                insert.on_conflict_do_update(
                    index_elements=[table.c.gateway], set_={"last_seen": newer}
                ),
                [{"gateway": gw, "site": site, "last_seen": at} for (site, gw), at in seen],
            )
        for state in update.gateway_states:
            self._apply_state(connection, state)

    def _apply_state(self, connection: Connection, state: GatewayState) -> None:
        table = self._t["gateways"]
        select = sa.select(table.c.boot_id, table.c.state_seq, table.c.state_sent_at).where(
            table.c.gateway == state.gateway
        )
        if self._postgres:
            select = select.with_for_update()
        row = connection.execute(select).one_or_none()
        current = None
        if row is not None and row.boot_id is not None:
            current = (row.boot_id, row.state_seq, row.state_sent_at)
        if not state_supersedes(current, state.boot_id, state.seq, state.sent_at):
            return
        connection.execute(
            table.update()
            .where(table.c.gateway == state.gateway)
            .values(
                online=state.online,
                boot_id=state.boot_id,
                state_seq=state.seq,
                state_sent_at=state.sent_at,
                version=state.version,
                devices=",".join(state.devices) if state.online else table.c.devices,
                state_changed_at=state.received_at,
            )
        )

    def _record_devices(
        self,
        connection: Connection,
        devices: dict[tuple[str, str, str], DeviceActivity],
        seen: dict[tuple[str, str], frozenset[int]],
    ) -> None:
        if not devices:
            return
        table = self._t["devices"]
        insert = self._insert(table)
        excluded = insert.excluded

        def newest(column: sa.Column[Any], new: Any) -> Any:
            return sa.case(
                (column.is_(None), new),
                (new.is_(None), column),
                (new > column, new),
                else_=column,
            )

        connection.execute(
            insert.on_conflict_do_update(
                index_elements=[table.c.site, table.c.gateway, table.c.device],
                set_={
                    "kind": sa.func.coalesce(excluded.kind, table.c.kind),
                    "last_ts": newest(table.c.last_ts, excluded.last_ts),
                    "last_seen": newest(table.c.last_seen, excluded.last_seen),
                    "messages": table.c.messages + excluded.messages,
                    "readings": table.c.readings + excluded.readings,
                    "online": sa.func.coalesce(excluded.online, table.c.online),
                },
            ),
            [
                {
                    "site": site,
                    "gateway": gateway,
                    "device": device,
                    "kind": activity.kind,
                    "last_ts": activity.last_ts,
                    "last_seen": activity.last_seen,
                    "messages": messages,
                    "readings": readings,
                    "online": activity.online,
                }
                for (site, gateway, device), activity in sorted(devices.items())
                for messages, readings in [_new_counts(activity, gateway, seen)]
            ],
        )

    def _record_events(self, connection: Connection, events: Sequence[EventRecord]) -> None:
        if events:
            connection.execute(
                self._insert(self._t["events"]).on_conflict_do_nothing(),
                [
                    {
                        "gateway": e.gateway,
                        "boot_id": e.boot_id,
                        "seq": e.seq,
                        "position": e.index,
                        "site": e.site,
                        "ts": e.ts,
                        "kind": e.kind,
                        "device": e.device,
                        "reason": e.reason,
                        "details": e.details,
                    }
                    for e in events
                ],
            )

    def _record_sequences(
        self, connection: Connection, update: StateUpdate
    ) -> tuple[SequenceReport, dict[tuple[str, str], frozenset[int]]]:
        """Merge the batch's sequence numbers; also return those already seen, per key."""
        sequences, gaps = self._t["sequences"], self._t["gaps"]
        duplicates = filled = 0
        opened: list[tuple[str, str, SeqRange]] = []
        open_gaps: dict[tuple[str, str], tuple[SeqRange, ...]] = {}
        seen: dict[tuple[str, str], frozenset[int]] = {}
        for (site, gateway, boot_id), seqs in sorted(update.sequences.items()):
            key = (sequences.c.gateway == gateway) & (sequences.c.boot_id == boot_id)
            connection.execute(
                self._insert(sequences).on_conflict_do_nothing(),
                {
                    "gateway": gateway,
                    "boot_id": boot_id,
                    "site": site,
                    "messages": 0,
                    "duplicates": 0,
                    "filled": 0,
                    "updated_at": update.recorded_at,
                },
            )
            select = sa.select(sequences.c.first_seq, sequences.c.last_seq).where(key)
            if self._postgres:
                select = select.with_for_update()
            span = connection.execute(select).one()
            gap_key = (gaps.c.gateway == gateway) & (gaps.c.boot_id == boot_id)
            before = {
                SeqRange(row.first_seq, row.last_seq): (row.id, row.opened_at)
                for row in connection.execute(
                    sa.select(gaps.c.id, gaps.c.first_seq, gaps.c.last_seq, gaps.c.opened_at).where(
                        gap_key,
                        gaps.c.last_seq >= min(seqs),
                        gaps.c.first_seq <= max(seqs),
                    )
                )
            }
            merged = merge_sequences(span.first_seq, span.last_seq, before, seqs)
            after = set(merged.gaps)
            removed = [before[g][0] for g in before if g not in after]
            added = [g for g in merged.gaps if g not in before]
            if removed:
                connection.execute(gaps.delete().where(gaps.c.id.in_(removed)))
            if added:
                connection.execute(
                    gaps.insert(),
                    [
                        {
                            "gateway": gateway,
                            "boot_id": boot_id,
                            "first_seq": g.first,
                            "last_seq": g.last,
                            "opened_at": _opened_at(g, before, update.recorded_at),
                        }
                        for g in added
                    ],
                )
            connection.execute(
                sequences.update()
                .where(key)
                .values(
                    first_seq=merged.first,
                    last_seq=merged.last,
                    messages=sequences.c.messages + len(seqs) - merged.duplicates,
                    duplicates=sequences.c.duplicates + merged.duplicates,
                    filled=sequences.c.filled + merged.filled,
                    updated_at=update.recorded_at,
                )
            )
            duplicates += merged.duplicates
            filled += merged.filled
            if merged.duplicate_seqs:
                seen[(gateway, boot_id)] = merged.duplicate_seqs
            opened.extend((gateway, boot_id, g) for g in merged.opened)
            open_gaps[(gateway, boot_id)] = tuple(
                SeqRange(row.first_seq, row.last_seq)
                for row in connection.execute(
                    sa.select(gaps.c.first_seq, gaps.c.last_seq)
                    .where(gap_key)
                    .order_by(gaps.c.first_seq)
                    .limit(REPORTED_GAPS_LIMIT)
                )
            )
        report = SequenceReport(
            duplicates=duplicates, filled=filled, opened=tuple(opened), open_gaps=open_gaps
        )
        return report, seen

    # -- reading ---------------------------------------------------------------------------

    def gateways(self) -> list[GatewayRecord]:
        table = self._t["gateways"]
        rows = self._fetch(sa.select(table).order_by(table.c.site, table.c.gateway))
        return [
            GatewayRecord(
                site=row.site,
                gateway=row.gateway,
                online=row.online,
                boot_id=row.boot_id,
                version=row.version,
                last_seen=row.last_seen,
                state_changed_at=row.state_changed_at,
            )
            for row in rows
        ]

    def devices(self) -> list[DeviceRecord]:
        table = self._t["devices"]
        rows = self._fetch(sa.select(table).order_by(table.c.site, table.c.gateway, table.c.device))
        return [
            DeviceRecord(
                site=row.site,
                gateway=row.gateway,
                device=row.device,
                kind=row.kind or "unknown",
                last_ts=row.last_ts,
                last_seen=row.last_seen,
                messages=row.messages,
                readings=row.readings,
                online=row.online,
            )
            for row in rows
        ]

    def gaps(self) -> list[GapRecord]:
        table = self._t["gaps"]
        rows = self._fetch(
            sa.select(table).order_by(table.c.opened_at, table.c.gateway, table.c.first_seq)
        )
        return [
            GapRecord(
                gateway=row.gateway,
                boot_id=row.boot_id,
                first=row.first_seq,
                last=row.last_seq,
                opened_at=row.opened_at,
            )
            for row in rows
        ]

    def dead_letters(self, latest: int = 10) -> DeadLetterSummary:
        table = self._t["dead_letters"]
        (count,) = self._fetch(sa.select(sa.func.count()).select_from(table))
        rows = self._fetch(sa.select(table).order_by(table.c.id.desc()).limit(latest))
        return DeadLetterSummary(
            count=int(count[0]),
            latest=tuple(
                DeadLetter(
                    received_at=row.received_at,
                    topic=row.topic,
                    payload=bytes(row.payload),
                    payload_size=row.payload_size,
                    reason=row.reason,
                )
                for row in rows
            ),
        )

    def _fetch(self, statement: sa.Executable) -> list[sa.Row[Any]]:
        try:
            with self._engine.connect() as connection:
                return list(connection.execute(statement))
        except SQLAlchemyError as exc:
            msg = f"reading state from {self.url} failed: {_one_line(exc)}"
            raise TransportError(msg) from exc

    def drop(self) -> None:
        """Drop every table of this store (tests use it to clean up after themselves)."""
        with self._engine.begin() as connection:
            self._metadata.drop_all(connection)

    def close(self) -> None:
        self._engine.dispose()


def _new_counts(
    activity: DeviceActivity, gateway: str, seen: dict[tuple[str, str], frozenset[int]]
) -> tuple[int, int]:
    """Messages and readings of *activity* less those of messages the store had seen before."""
    again = [
        readings
        for boot_id, seq, readings in activity.counted
        if seq in seen.get((gateway, boot_id), frozenset())
    ]
    return activity.messages - len(again), activity.readings - sum(again)


def _opened_at(gap: SeqRange, before: dict[SeqRange, tuple[int, int]], now: int) -> int:
    for old, (_id, opened_at) in before.items():
        if old.first <= gap.first and gap.last <= old.last:
            return opened_at
    return now


def _one_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
