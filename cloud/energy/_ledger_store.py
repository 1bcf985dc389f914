"""The append-only settlement ledger in SQL, beside the state store, where Grafana can read it.

SQLAlchemy Core on SQLite or PostgreSQL, on the state store's URLs (``sqlite:///PATH``,
``postgresql://…[?schema=NAME]``). The code only inserts: an entry's identity is
(slot_start, site, revision), and a correction is a new revision, never an update. Energies and
money are exact decimals (NUMERIC on PostgreSQL, decimal text on SQLite); times are epoch
milliseconds like the state store's other tables.
"""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from cloud._sql_engine import sql_engine
from cloud._sql_url import redacted
from cloud.energy._settlement import EntryKind, LedgerEntry
from cloud.energy._time import JST
from messages import ConfigError, TransportError

LEDGER_TABLE = "energy_ledger"
STATEMENT_TIMEOUT_MS = 30_000


class _ExactDecimal(sa.types.TypeDecorator[Decimal]):
    """NUMERIC on PostgreSQL; decimal text on SQLite, whose NUMERIC would be a binary float."""

    impl = sa.Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(40))
        return dialect.type_descriptor(sa.Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


def _table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        LEDGER_TABLE,
        metadata,
        sa.Column("slot_start", sa.BigInteger, primary_key=True),
        sa.Column("site", sa.String(64), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("given_wh", _ExactDecimal(), nullable=False),
        sa.Column("taken_wh", _ExactDecimal(), nullable=False),
        sa.Column("amount_yen", _ExactDecimal(), nullable=False),
        sa.Column("price_yen_per_kwh", _ExactDecimal(), nullable=False),
        sa.Column("recorded_at", sa.BigInteger, nullable=False),
    )


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def _one_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class SqlLedger:
    """The settlement ledger as the ``energy_ledger`` table; ``JsonlLedger``'s interface.

    ``recorded_at`` is kept to the millisecond.
    """

    def __init__(self, url: str) -> None:
        self.url = redacted(url)
        self._engine, schema = sql_engine(
            url, store="ledger store", wal=True, statement_timeout_ms=STATEMENT_TIMEOUT_MS
        )
        self._table = _table(sa.MetaData(schema=schema))
        try:
            with self._engine.begin() as connection:
                self._table.create(connection, checkfirst=True)
        except SQLAlchemyError as exc:
            self._engine.dispose()
            msg = f"cannot open ledger store {self.url}: {_one_line(exc)}"
            raise TransportError(msg) from exc

    def entries(self) -> list[LedgerEntry]:
        """Every entry, by slot, site and revision."""
        table = self._table
        query = sa.select(table).order_by(table.c.slot_start, table.c.site, table.c.revision)
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(query).all()
        except SQLAlchemyError as exc:
            msg = f"reading the ledger from {self.url} failed: {_one_line(exc)}"
            raise TransportError(msg) from exc
        return [
            LedgerEntry(
                slot_start=datetime.fromtimestamp(row.slot_start / 1000, JST),
                site=row.site,
                revision=row.revision,
                kind=cast("EntryKind", row.kind),
                given_wh=row.given_wh,
                taken_wh=row.taken_wh,
                amount_yen=row.amount_yen,
                price_yen_per_kwh=row.price_yen_per_kwh,
                recorded_at=datetime.fromtimestamp(row.recorded_at / 1000, JST),
            )
            for row in rows
        ]

    def append(self, entries: Sequence[LedgerEntry]) -> None:
        """Insert *entries* in one transaction: all of them or, on any conflict, none."""
        if not entries:
            return
        rows = [
            {
                "slot_start": _ms(entry.slot_start),
                "site": entry.site,
                "revision": entry.revision,
                "kind": entry.kind,
                "given_wh": entry.given_wh,
                "taken_wh": entry.taken_wh,
                "amount_yen": entry.amount_yen,
                "price_yen_per_kwh": entry.price_yen_per_kwh,
                "recorded_at": _ms(entry.recorded_at),
            }
            for entry in entries
        ]
        try:
            with self._engine.begin() as connection:
                connection.execute(sa.insert(self._table), rows)
        except IntegrityError as exc:
            # Two settlement runs raced and chose the same revision: nothing was written.
            msg = (
                f"ledger {self.url}: an entry with the same slot, site and revision is "
                "already recorded (another settlement ran at the same time); settle again"
            )
            raise ConfigError(msg) from exc
        except SQLAlchemyError as exc:
            msg = f"writing the ledger to {self.url} failed: {_one_line(exc)}"
            raise TransportError(msg) from exc

    def close(self) -> None:
        self._engine.dispose()
