"""The SQL settlement ledger on SQLite and PostgreSQL: exact, append-only, what settlement reads."""

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from cloud import state_url
from cloud.energy import JST, LedgerEntry, SqlLedger, settle_day
from messages import ConfigError

DAY = date(2026, 5, 11)
RECORDED = datetime(2026, 5, 12, 9, 0, 0, 123_000, tzinfo=JST)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return state_url(tmp_path)
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def ledger(url: str) -> Iterator[SqlLedger]:
    store = SqlLedger(url)
    yield store
    store.close()


def _entry(site: str, revision: int, given: str, taken: str, amount: str) -> LedgerEntry:
    return LedgerEntry(
        slot_start=datetime(2026, 5, 11, 12, 30, tzinfo=JST),
        site=site,
        revision=revision,
        kind="settlement" if revision == 1 else "correction",
        given_wh=Decimal(given),
        taken_wh=Decimal(taken),
        amount_yen=Decimal(amount),
        price_yen_per_kwh=Decimal("18.37"),
        recorded_at=RECORDED,
    )


def test_entries_come_back_exactly_as_appended(ledger: SqlLedger, url: str) -> None:
    entries = [
        _entry("factory", 1, "3333.333", "0", "61.23"),
        _entry("home-1", 1, "0", "3333.333", "-61.23"),
    ]
    ledger.append(entries)
    reopened = SqlLedger(url)
    try:
        assert reopened.entries() == entries
    finally:
        reopened.close()


def test_an_entry_with_a_recorded_identity_is_refused_and_nothing_is_written(
    ledger: SqlLedger,
) -> None:
    first = _entry("factory", 1, "1000", "0", "18.37")
    ledger.append([first])
    with pytest.raises(ConfigError, match="same slot, site and revision"):
        ledger.append([_entry("city-hall", 1, "0", "1000", "-18.37"), first])
    assert ledger.entries() == [first]


class _Registers:
    """Two sites' grid-meter registers: a factory exporting, a hall importing, all day."""

    def __init__(self, hall_import_wh_per_slot: int) -> None:
        self.hall = hall_import_wh_per_slot

    def register_samples(
        self, site: str, quantity: str, since_ms: int, until_ms: int
    ) -> list[tuple[int, float]]:
        per_slot = {
            ("factory", "energy_export_wh"): 4000,
            ("hall", "energy_import_wh"): self.hall,
        }.get((site, quantity), 0)
        start = int(datetime(2026, 5, 11, tzinfo=JST).timestamp() * 1000) - 3_600_000
        step = int(timedelta(minutes=30).total_seconds() * 1000)
        samples = [(start + n * step, float(n * per_slot)) for n in range(52)]
        return [(ts, value) for ts, value in samples if since_ms <= ts < until_ms]

    def sites(self) -> list[str]:
        return ["factory", "hall"]


def test_settlement_reads_its_own_entries_back_and_appends_only_corrections(
    ledger: SqlLedger,
) -> None:
    first = settle_day(
        _Registers(3000), DAY, ledger.entries(), price_yen_per_kwh=18, recorded_at=RECORDED
    )
    ledger.append(first.entries)
    again = settle_day(
        _Registers(3000), DAY, ledger.entries(), price_yen_per_kwh=18, recorded_at=RECORDED
    )
    assert again.entries == []
    corrected = settle_day(
        _Registers(3500), DAY, ledger.entries(), price_yen_per_kwh=18, recorded_at=RECORDED
    )
    assert {entry.kind for entry in corrected.entries} == {"correction"}
    ledger.append(corrected.entries)
    assert ledger.entries() == sorted(
        [*first.entries, *corrected.entries],
        key=lambda entry: (entry.slot_start, entry.site, entry.revision),
    )
    for slot in {entry.slot_start for entry in ledger.entries()}:
        assert sum(e.amount_yen for e in ledger.entries() if e.slot_start == slot) == 0
