"""Settle one JST day: read the grid-meter registers through a port, append to the ledger."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from cloud.energy._registers import (
    DEFAULT_MAX_GAP_S,
    MissingSlot,
    RegisterSource,
    SlotEnergy,
    slot_energies,
)
from cloud.energy._settlement import LedgerEntry, settle
from cloud.energy._time import day_slots

#: How far beyond the day's bounds to read, so that the first and last boundary can be
#: interpolated between a reading before and one after.
_MARGIN_MS = 3_600_000


@dataclass(frozen=True)
class DaySettlement:
    """The entries a settlement run appends, and the site slots it could not settle yet."""

    day: date
    entries: list[LedgerEntry]
    missing: list[MissingSlot]
    energies: list[SlotEnergy]


def settle_day(
    source: RegisterSource,
    day: date,
    ledger: Sequence[LedgerEntry],
    *,
    price_yen_per_kwh: float | Decimal,
    recorded_at: datetime,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
) -> DaySettlement:
    """Settle (or correct) every slot of *day* with the data *source* has now."""
    starts, bounds = day_slots(day)
    since, until = bounds[0] - _MARGIN_MS, bounds[-1] + _MARGIN_MS
    energies: list[SlotEnergy] = []
    missing: list[MissingSlot] = []
    for site in source.sites():
        for outcome in slot_energies(
            site,
            bounds,
            starts,
            source.register_samples(site, "energy_import_wh", since, until),
            source.register_samples(site, "energy_export_wh", since, until),
            max_gap_s=max_gap_s,
        ):
            if isinstance(outcome, SlotEnergy):
                energies.append(outcome)
            else:
                missing.append(outcome)
    entries = settle(energies, ledger, price_yen_per_kwh=price_yen_per_kwh, recorded_at=recorded_at)
    return DaySettlement(day=day, entries=entries, missing=missing, energies=energies)
