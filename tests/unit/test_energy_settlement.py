"""Settlement: slot energies from meter registers, a ledger balanced to zero, corrections."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud.energy import (
    JST,
    LedgerEntry,
    RegisterSample,
    SlotEnergy,
    apportion,
    day_slots,
    register_at,
    settle,
    settle_day,
    slot_balance_yen,
    slot_energies,
)

DAY = date(2026, 5, 11)
STARTS, BOUNDS = day_slots(DAY)
RECORDED = datetime(2026, 5, 12, 1, 0, tzinfo=JST)
MINUTE_MS = 60_000


def test_a_day_has_48_slots_from_midnight_jst() -> None:
    assert len(STARTS) == 48
    assert len(BOUNDS) == 49
    assert STARTS[0].isoformat() == "2026-05-11T00:00:00+09:00"
    assert STARTS[-1].isoformat() == "2026-05-11T23:30:00+09:00"
    assert BOUNDS[-1] - BOUNDS[0] == 24 * 60 * MINUTE_MS


def test_a_boundary_is_interpolated_between_the_readings_around_it() -> None:
    samples = [(0, 100.0), (10 * MINUTE_MS, 200.0)]
    assert register_at(samples, 3 * MINUTE_MS, max_gap_s=900) == pytest.approx(130.0)
    assert register_at(samples, 10 * MINUTE_MS, max_gap_s=900) == 200.0
    assert register_at(samples, 11 * MINUTE_MS, max_gap_s=900) is None
    assert register_at(samples, 3 * MINUTE_MS, max_gap_s=300) is None


def registers(
    import_per_minute: float, export_per_minute: float, *, skip: range = range(0)
) -> tuple[list[RegisterSample], list[RegisterSample]]:
    """A meter read every 5 minutes from 10 minutes before the day to 10 minutes after."""
    imports, exports = [], []
    for step in range(-2, 24 * 12 + 3):
        if step in skip:
            continue
        ts = BOUNDS[0] + step * 5 * MINUTE_MS
        minutes = step * 5
        imports.append((ts, 5000.0 + import_per_minute * minutes))
        exports.append((ts, 7000.0 + export_per_minute * minutes))
    return imports, exports


def test_slot_energy_is_the_register_difference_not_a_power_integral() -> None:
    imports, exports = registers(10.0, 2.0)
    outcomes = slot_energies("a", BOUNDS, STARTS, imports, exports)
    assert all(isinstance(outcome, SlotEnergy) for outcome in outcomes)
    assert {round(o.import_wh, 6) for o in outcomes if isinstance(o, SlotEnergy)} == {300.0}
    assert {round(o.export_wh, 6) for o in outcomes if isinstance(o, SlotEnergy)} == {60.0}


def test_a_gap_in_the_readings_leaves_the_slots_around_it_unsettled() -> None:
    imports, exports = registers(10.0, 0.0, skip=range(20, 30))
    outcomes = slot_energies("a", BOUNDS, STARTS, imports, exports)
    missing = [o.slot_start for o in outcomes if not isinstance(o, SlotEnergy)]
    assert missing  # 100 to 145 minutes: slots 03:00–03:30 … the boundaries in between
    assert all(STARTS[3] <= start <= STARTS[4] for start in missing), (
        "only the slots whose boundaries fall in the gap"
    )


def test_a_register_running_backwards_is_not_settled() -> None:
    imports, exports = registers(10.0, 0.0)
    imports = [(ts, value if ts < BOUNDS[5] else value - 10000) for ts, value in imports]
    outcomes = slot_energies("a", BOUNDS, STARTS, imports, exports)
    assert not isinstance(outcomes[4], SlotEnergy)
    assert outcomes[4].reason == "register went backwards"  # type: ignore[union-attr]


@given(st.lists(st.integers(0, 10**9), max_size=20), st.integers(0, 10**9))
def test_apportion_is_exact_and_proportional(weights: list[int], total: int) -> None:
    shares = apportion(weights, total)
    if sum(weights) == 0:
        assert shares == [0] * len(weights)
        return
    assert sum(shares) == total
    for weight, share in zip(weights, shares, strict=True):
        assert abs(share - weight * total / sum(weights)) < 1 + 1e-9


slot_energy_lists = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e"]),
        st.floats(0, 5e5, allow_nan=False),
        st.floats(0, 5e5, allow_nan=False),
    ),
    max_size=5,
    unique_by=lambda item: item[0],
)


def energies_of(slot: int, items: Sequence[tuple[str, float, float]]) -> list[SlotEnergy]:
    return [SlotEnergy(site, STARTS[slot], imp, exp) for site, imp, exp in items]


def positions(entries: Sequence[LedgerEntry]) -> dict[tuple[datetime, str], tuple[Decimal, ...]]:
    totals: dict[tuple[datetime, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for entry in entries:
        total = totals[(entry.slot_start, entry.site)]
        total[0] += entry.given_wh
        total[1] += entry.taken_wh
        total[2] += entry.amount_yen
    return {key: tuple(value) for key, value in totals.items()}


@settings(max_examples=100, deadline=None)
@given(slot_energy_lists, st.sampled_from([0, 7.5, 18, 23.37]))
def test_every_slot_balances_to_zero_in_energy_and_money(
    items: list[tuple[str, float, float]], price: float
) -> None:
    entries = settle(energies_of(0, items), [], price_yen_per_kwh=price, recorded_at=RECORDED)
    assert all(balance == 0 for balance in slot_balance_yen(entries).values())
    assert sum(e.given_wh for e in entries) == sum(e.taken_wh for e in entries)
    for entry in entries:
        assert entry.given_wh >= 0
        assert entry.taken_wh >= 0
        assert entry.given_wh == 0 or entry.taken_wh == 0
        net = next(exp - imp for site, imp, exp in items if site == entry.site)
        # Nobody gives more than its surplus nor takes more than its deficit.
        assert float(entry.given_wh) <= max(net, 0) + 0.001
        assert float(entry.taken_wh) <= max(-net, 0) + 0.001
        # Givers are paid, takers pay.
        assert entry.amount_yen <= 0 if entry.taken_wh > 0 else entry.amount_yen >= 0


@settings(max_examples=100, deadline=None)
@given(slot_energy_lists, slot_energy_lists)
def test_late_data_adds_corrections_and_never_edits(
    early: list[tuple[str, float, float]], arrived: list[tuple[str, float, float]]
) -> None:
    # Late data fills in sites that were missing and revises ones that were partial.
    late = list({site: (site, imp, exp) for site, imp, exp in early + arrived}.values())
    first = settle(energies_of(0, early), [], price_yen_per_kwh=18, recorded_at=RECORDED)
    later = RECORDED + timedelta(hours=6)
    second = settle(energies_of(0, late), first, price_yen_per_kwh=18, recorded_at=later)
    ledger = first + second
    assert all(entry.kind == "correction" for entry in second) or not first
    assert all(entry.recorded_at == later for entry in second)
    assert all(balance == 0 for balance in slot_balance_yen(ledger).values())
    # The ledger as a whole now says what settling the late data from scratch says.
    fresh = settle(energies_of(0, late), [], price_yen_per_kwh=18, recorded_at=later)
    nonzero = {key: value for key, value in positions(ledger).items() if any(value)}
    assert nonzero == {key: value for key, value in positions(fresh).items() if any(value)}
    # Settling again with nothing new adds nothing.
    assert settle(energies_of(0, late), ledger, price_yen_per_kwh=18, recorded_at=later) == []


def test_a_hand_checked_slot() -> None:
    """A exports 3 kWh; B imports 1 kWh, C 3 kWh: the pool is 3 kWh, B takes 0.75, C 2.25."""
    energies = [
        SlotEnergy("A", STARTS[20], 0.0, 3000.0),
        SlotEnergy("B", STARTS[20], 1000.0, 0.0),
        SlotEnergy("C", STARTS[20], 3000.0, 0.0),
    ]
    entries = settle(energies, [], price_yen_per_kwh=20, recorded_at=RECORDED)
    by_site = {entry.site: entry for entry in entries}
    assert by_site["A"].given_wh == Decimal(3000)
    assert by_site["B"].taken_wh == Decimal(750)
    assert by_site["C"].taken_wh == Decimal(2250)
    assert by_site["A"].amount_yen == Decimal(60)
    assert by_site["B"].amount_yen == Decimal(-15)
    assert by_site["C"].amount_yen == Decimal(-45)
    assert {entry.kind for entry in entries} == {"settlement"}
    assert {entry.revision for entry in entries} == {0}


class MemoryRegisters:
    """A register source held in memory, as the store adapter would serve it."""

    def __init__(self, samples: dict[str, tuple[list[RegisterSample], list[RegisterSample]]]):
        self.samples = samples

    def sites(self) -> Sequence[str]:
        return sorted(self.samples)

    def register_samples(
        self, site: str, quantity: str, since_ms: int, until_ms: int
    ) -> Sequence[RegisterSample]:
        imports, exports = self.samples[site]
        chosen = imports if quantity == "energy_import_wh" else exports
        return [sample for sample in chosen if since_ms <= sample[0] < until_ms]


def test_settling_a_day_then_again_after_the_gap_is_filled() -> None:
    complete = {
        "giver": registers(0.0, 20.0),
        "taker": registers(10.0, 0.0),
        "other": registers(15.0, 0.0),
    }
    with_gap = dict(complete)
    with_gap["other"] = registers(15.0, 0.0, skip=range(40, 52))
    first = settle_day(
        MemoryRegisters(with_gap), DAY, [], price_yen_per_kwh=18, recorded_at=RECORDED
    )
    assert first.missing
    assert {m.site for m in first.missing} == {"other"}
    assert len(first.entries) == 48 * 3 - len(first.missing)
    second = settle_day(
        MemoryRegisters(complete),
        DAY,
        first.entries,
        price_yen_per_kwh=18,
        recorded_at=RECORDED + timedelta(days=1),
    )
    assert not second.missing
    assert second.entries
    assert {entry.kind for entry in second.entries} == {"correction"}
    corrected_slots = {entry.slot_start for entry in second.entries}
    assert corrected_slots == {m.slot_start for m in first.missing}
    ledger = first.entries + second.entries
    assert all(balance == 0 for balance in slot_balance_yen(ledger).values())
    # Per slot the giver makes 600 Wh, the takers need 300 + 450: all of it is shared.
    for (_, site), (given_wh, taken_wh, _) in positions(ledger).items():
        if site == "giver":
            assert given_wh == Decimal(600)
            assert taken_wh == 0
