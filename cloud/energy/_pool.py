"""Split each slot's area pool among sites, and derive site-to-site transfers for the ledger.

A site whose net position (generation + discharge − consumption − charge) is positive is a giver:
it shares out and exports, never imports. A negative one is a taker: it shares in and imports,
never exports. When the pool is short, every taker receives the same fraction of its deficit;
when it is long, every giver shares the same fraction of its surplus. So no site imports while
sharing out, and none imports and exports in the same slot, by construction.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]
TransferRule = Literal["proportional", "priority"]


@dataclass(frozen=True)
class PoolSplit:
    """Per site (rows) and slot (columns), in Wh."""

    grid_import_wh: FloatArray
    grid_export_wh: FloatArray
    shared_in_wh: FloatArray
    shared_out_wh: FloatArray


@dataclass(frozen=True)
class SlotTransfers:
    """The transfers of one slot: giver index, taker index and energy, aligned arrays."""

    giver: IndexArray
    taker: IndexArray
    wh: FloatArray


def split_pool(net_wh: FloatArray) -> PoolSplit:
    """Split the pool of each slot given every site's net position (sites × slots)."""
    surplus = np.maximum(net_wh, 0.0)
    deficit = np.maximum(-net_wh, 0.0)
    total_surplus = surplus.sum(axis=0)
    total_deficit = deficit.sum(axis=0)
    shared = np.minimum(total_surplus, total_deficit)
    with np.errstate(divide="ignore", invalid="ignore"):
        give_fraction = np.where(total_surplus > 0, shared / total_surplus, 0.0)
        take_fraction = np.where(total_deficit > 0, shared / total_deficit, 0.0)
    shared_out = surplus * give_fraction
    shared_in = deficit * take_fraction
    return PoolSplit(
        grid_import_wh=deficit - shared_in,
        grid_export_wh=surplus - shared_out,
        shared_in_wh=shared_in,
        shared_out_wh=shared_out,
    )


def derive_transfers(
    shared_out_wh: FloatArray, shared_in_wh: FloatArray, rule: TransferRule
) -> list[SlotTransfers]:
    """Site-to-site transfers per slot whose sums match each site's shared energy.

    ``proportional``: each giver serves every taker in proportion to the taker's share of the
    pool (dense: givers × takers pairs). ``priority``: givers and takers in site order are
    matched greedily, giving at most givers + takers − 1 pairs per slot (compact ledgers).
    """
    slots = shared_out_wh.shape[1]
    return [
        (_proportional if rule == "proportional" else _priority)(
            shared_out_wh[:, slot], shared_in_wh[:, slot]
        )
        for slot in range(slots)
    ]


def _proportional(shared_out: FloatArray, shared_in: FloatArray) -> SlotTransfers:
    givers = np.flatnonzero(shared_out > 0)
    takers = np.flatnonzero(shared_in > 0)
    total = shared_in[takers].sum()
    if givers.size == 0 or takers.size == 0 or total <= 0:
        return _no_transfers()
    amounts = np.outer(shared_out[givers], shared_in[takers] / total)
    giver_grid, taker_grid = np.meshgrid(givers, takers, indexing="ij")
    return SlotTransfers(
        giver=giver_grid.ravel(), taker=taker_grid.ravel(), wh=amounts.ravel().astype(np.float64)
    )


def _priority(shared_out: FloatArray, shared_in: FloatArray) -> SlotTransfers:
    givers = [int(index) for index in np.flatnonzero(shared_out > 0)]
    takers = [int(index) for index in np.flatnonzero(shared_in > 0)]
    left_out = {index: float(shared_out[index]) for index in givers}
    left_in = {index: float(shared_in[index]) for index in takers}
    pairs: list[tuple[int, int, float]] = []
    giver_pos = taker_pos = 0
    while giver_pos < len(givers) and taker_pos < len(takers):
        giver, taker = givers[giver_pos], takers[taker_pos]
        amount = min(left_out[giver], left_in[taker])
        pairs.append((giver, taker, amount))
        left_out[giver] -= amount
        left_in[taker] -= amount
        # Advance whichever side is used up; floating residue below a milliwatt-hour is noise.
        if left_out[giver] <= 1e-6:
            giver_pos += 1
        if left_in[taker] <= 1e-6:
            taker_pos += 1
    if not pairs:
        return _no_transfers()
    return SlotTransfers(
        giver=np.array([pair[0] for pair in pairs], dtype=np.intp),
        taker=np.array([pair[1] for pair in pairs], dtype=np.intp),
        wh=np.array([pair[2] for pair in pairs], dtype=np.float64),
    )


def _no_transfers() -> SlotTransfers:
    return SlotTransfers(
        giver=np.zeros(0, dtype=np.intp),
        taker=np.zeros(0, dtype=np.intp),
        wh=np.zeros(0, dtype=np.float64),
    )
