"""The interchange ledger: per 30-minute slot and site, energy given to and taken from the pool.

Each site's grid meter nets over the slot (export − import), as the market does per 30 minutes.
Sites with a positive net gave to the pool, sites with a negative net took from it; the pool is
the smaller side, shared pro rata on the larger side. Takers pay the interchange price to
givers, so every slot balances to zero — exactly: energies are whole milliwatt-hours and money
whole sen (0.01 yen), apportioned by largest remainder.

The ledger is append-only. Settling again after late data (gaps filled by the collector) adds
correction entries carrying the difference to what the ledger already says; nothing is edited.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from cloud.energy._registers import SlotEnergy

EntryKind = Literal["settlement", "correction"]
_MWH_PER_WH = 1000
_SEN_PER_YEN = 100
_MWH_PER_KWH = 1_000_000


@dataclass(frozen=True)
class LedgerEntry:
    """One line of the ledger; amounts are the site's credit (+) or debit (−)."""

    slot_start: datetime
    site: str
    revision: int
    kind: EntryKind
    given_wh: Decimal
    taken_wh: Decimal
    amount_yen: Decimal
    price_yen_per_kwh: Decimal
    recorded_at: datetime


@dataclass(frozen=True)
class SitePosition:
    """A site's position in one slot, in exact units (mWh, sen)."""

    given_mwh: int
    taken_mwh: int
    amount_sen: int


def apportion(weights: Sequence[int], total: int) -> list[int]:
    """Split the whole number *total* in proportion to *weights*, summing exactly to *total*."""
    weight_sum = sum(weights)
    if weight_sum == 0 or total == 0:
        return [0] * len(weights)
    shares = [weight * total // weight_sum for weight in weights]
    remainders = [weight * total % weight_sum for weight in weights]
    left = total - sum(shares)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        shares[index] += 1
    return shares


def settle_slot(
    energies: Sequence[SlotEnergy], price_yen_per_kwh: Decimal
) -> dict[str, SitePosition]:
    """The balanced positions of one slot's sites."""
    net_mwh = {
        energy.site: round((energy.export_wh - energy.import_wh) * _MWH_PER_WH)
        for energy in energies
    }
    givers = sorted(site for site, net in net_mwh.items() if net > 0)
    takers = sorted(site for site, net in net_mwh.items() if net < 0)
    surplus = [net_mwh[site] for site in givers]
    deficit = [-net_mwh[site] for site in takers]
    shared_mwh = min(sum(surplus), sum(deficit))
    money = Decimal(shared_mwh) * price_yen_per_kwh * _SEN_PER_YEN / _MWH_PER_KWH
    money_sen = int(money.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    given = apportion(surplus, shared_mwh)
    taken = apportion(deficit, shared_mwh)
    positions = {site: SitePosition(0, 0, 0) for site in net_mwh}
    for site, given_mwh, credit in zip(givers, given, apportion(given, money_sen), strict=True):
        positions[site] = SitePosition(given_mwh, 0, credit)
    for site, taken_mwh, debit in zip(takers, taken, apportion(taken, money_sen), strict=True):
        positions[site] = SitePosition(0, taken_mwh, -debit)
    return positions


def _ledger_positions(entries: Iterable[LedgerEntry]) -> dict[str, SitePosition]:
    totals: dict[str, SitePosition] = {}
    for entry in entries:
        before = totals.get(entry.site, SitePosition(0, 0, 0))
        totals[entry.site] = SitePosition(
            before.given_mwh + int(entry.given_wh * _MWH_PER_WH),
            before.taken_mwh + int(entry.taken_wh * _MWH_PER_WH),
            before.amount_sen + int(entry.amount_yen * _SEN_PER_YEN),
        )
    return totals


def settle(
    energies: Iterable[SlotEnergy],
    ledger: Iterable[LedgerEntry],
    *,
    price_yen_per_kwh: float | Decimal,
    recorded_at: datetime,
) -> list[LedgerEntry]:
    """New ledger entries for the slots in *energies*, given the entries already in *ledger*.

    A slot not yet in the ledger gets one ``settlement`` entry per measured site; a slot already
    there gets ``correction`` entries (next revision) for the sites whose position changed.
    """
    price = Decimal(str(price_yen_per_kwh))
    by_slot: dict[datetime, list[SlotEnergy]] = defaultdict(list)
    for energy in energies:
        by_slot[energy.slot_start].append(energy)
    existing: dict[datetime, list[LedgerEntry]] = defaultdict(list)
    for entry in ledger:
        existing[entry.slot_start].append(entry)

    new_entries: list[LedgerEntry] = []
    for slot_start in sorted(by_slot):
        target = settle_slot(by_slot[slot_start], price)
        previous = existing.get(slot_start, [])
        current = _ledger_positions(previous)
        kind: EntryKind = "correction" if previous else "settlement"
        revision = max((entry.revision for entry in previous), default=-1) + 1
        for site in sorted(set(target) | set(current)):
            want = target.get(site, SitePosition(0, 0, 0))
            have = current.get(site, SitePosition(0, 0, 0))
            change = SitePosition(
                want.given_mwh - have.given_mwh,
                want.taken_mwh - have.taken_mwh,
                want.amount_sen - have.amount_sen,
            )
            if previous and change == SitePosition(0, 0, 0):
                continue
            new_entries.append(
                LedgerEntry(
                    slot_start=slot_start,
                    site=site,
                    revision=revision,
                    kind=kind,
                    given_wh=Decimal(change.given_mwh) / _MWH_PER_WH,
                    taken_wh=Decimal(change.taken_mwh) / _MWH_PER_WH,
                    amount_yen=Decimal(change.amount_sen) / _SEN_PER_YEN,
                    price_yen_per_kwh=price,
                    recorded_at=recorded_at,
                )
            )
    return new_entries


def slot_balance_yen(entries: Iterable[LedgerEntry]) -> dict[datetime, Decimal]:
    """Sum of amounts per slot; zero for every slot of a sound ledger."""
    balance: dict[datetime, Decimal] = defaultdict(Decimal)
    for entry in entries:
        balance[entry.slot_start] += entry.amount_yen
    return dict(balance)
