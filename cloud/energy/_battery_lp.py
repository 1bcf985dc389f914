"""The linear programme behind the planner: battery schedules against the area's net grid exchange.

Sharing inside the area costs nothing to the area as a whole (the interchange price moves money
between participants), so the area's grid cost depends only on its net position per slot: it
imports the deficit left after pooling, or exports the surplus. The only real decisions are the
batteries' charge and discharge. The split among sites (who shares, who imports) follows from
the pool afterwards, see ``_pool``.

The area's cost in a slot is convex in its net position, with a kink at zero: the import price
on the deficit side, the export price on the surplus side. Away from the kink a slot is simply
priced, and batteries need not see each other there; consecutive slots at the same price can be
merged into one block, because a battery indifferent between them can spread its block total
evenly without breaking its bounds. So the programme is solved in rounds: every slot is first
assumed to stay on the side of the kink it starts on (priced linearly, merged into blocks);
slots whose result crosses the kink get their own balance row in the next round. Each linear
piece lies below the convex cost, so a round's optimum that crosses no kink is optimal for the
true cost. In the worst case every slot is coupled, which is the plain formulation: 3 variables
per battery and slot, two per slot for the area's import and export, one pool row per slot.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from cloud.energy.errors import PlanningError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Tiny costs (yen/kWh) that break ties the way a person would: no cycling a battery for nothing,
#: no import and export at once. Far below any tariff difference, above solver tolerances.
CYCLING_PENALTY = 1e-3
GRID_PENALTY = 1e-3
#: A slot whose area position after batteries crosses zero by more than this (Wh) is coupled.
KINK_TOLERANCE_WH = 1e-3
#: After this many rounds every slot is coupled: the last round is the plain formulation.
MAX_ROUNDS = 4


@dataclass(frozen=True)
class BatteryFleet:
    """The batteries of the area, one entry per battery site; energies in Wh per slot."""

    capacity_wh: FloatArray
    max_energy_per_slot_wh: FloatArray
    charge_efficiency: FloatArray
    discharge_efficiency: FloatArray
    initial_soc_wh: FloatArray


@dataclass(frozen=True)
class BatterySchedule:
    """Charge and discharge per battery (rows) and slot (columns), at the site's side."""

    charge_wh: FloatArray
    discharge_wh: FloatArray
    #: Programmes solved to get here (1 when no slot's assumption failed).
    rounds: int = 1


@dataclass(frozen=True)
class _Block:
    """Consecutive slots that batteries see as one: [start, stop), coupled or at one price."""

    start: int
    stop: int
    coupled: bool
    price: float


def schedule_batteries(
    fleet: BatteryFleet,
    area_deficit_wh: FloatArray,
    import_yen_per_kwh: FloatArray,
    export_yen_per_kwh: float,
) -> BatterySchedule:
    """Cheapest battery schedule given the area's deficit (consumption − generation) per slot."""
    batteries = fleet.capacity_wh.size
    slots = area_deficit_wh.size
    if batteries == 0:
        empty = np.zeros((0, slots))
        return BatterySchedule(charge_wh=empty, discharge_wh=empty.copy(), rounds=0)

    in_deficit = area_deficit_wh > 0
    # A slot at exactly zero has no side to stay on.
    coupled = np.abs(area_deficit_wh) <= KINK_TOLERANCE_WH
    side_price = np.where(in_deficit, import_yen_per_kwh, export_yen_per_kwh)
    for round_number in range(1, MAX_ROUNDS + 1):
        if round_number == MAX_ROUNDS:
            coupled = np.ones(slots, dtype=np.bool_)
        blocks = _blocks(coupled, side_price, in_deficit)
        charge, discharge = _solve(
            fleet, blocks, area_deficit_wh, import_yen_per_kwh, export_yen_per_kwh
        )
        position = area_deficit_wh - (discharge - charge).sum(axis=0)
        crossed = ~coupled & np.where(
            in_deficit, position < -KINK_TOLERANCE_WH, position > KINK_TOLERANCE_WH
        )
        if not crossed.any():
            return BatterySchedule(charge_wh=charge, discharge_wh=discharge, rounds=round_number)
        coupled = coupled | crossed
    msg = "battery scheduling did not settle"  # unreachable: the last round couples every slot
    raise PlanningError(msg)


def _blocks(coupled: BoolArray, side_price: FloatArray, in_deficit: BoolArray) -> list[_Block]:
    blocks: list[_Block] = []
    for slot in range(coupled.size):
        price = float(side_price[slot])
        if coupled[slot]:
            blocks.append(_Block(slot, slot + 1, coupled=True, price=price))
            continue
        last = blocks[-1] if blocks else None
        if (
            last is not None
            and not last.coupled
            and last.price == price
            and in_deficit[last.start] == in_deficit[slot]
        ):
            blocks[-1] = _Block(last.start, slot + 1, coupled=False, price=price)
        else:
            blocks.append(_Block(slot, slot + 1, coupled=False, price=price))
    return blocks


def _solve(
    fleet: BatteryFleet,
    blocks: list[_Block],
    area_deficit_wh: FloatArray,
    import_yen_per_kwh: FloatArray,
    export_yen_per_kwh: float,
) -> tuple[FloatArray, FloatArray]:
    """One programme over *blocks*; returns charge and discharge per battery and slot (Wh)."""
    batteries = fleet.capacity_wh.size
    count = len(blocks)
    cells = batteries * count
    coupled_blocks = np.array([index for index, b in enumerate(blocks) if b.coupled], dtype=int)
    coupled_count = coupled_blocks.size
    # Variable blocks: charge, discharge, soc (each battery-major over blocks), then the area's
    # import and export in coupled slots.
    charge0, discharge0, soc0 = 0, cells, 2 * cells
    import0 = 3 * cells
    export0 = import0 + coupled_count
    variables = export0 + coupled_count
    cell = np.arange(cells)
    block_of_cell = cell % count
    length = np.array([block.stop - block.start for block in blocks], dtype=np.float64)

    # Solve in kWh: right-hand sides near 1 keep HiGHS' scaling work small.
    capacity = fleet.capacity_wh / 1000
    max_per_slot = fleet.max_energy_per_slot_wh / 1000
    eta_c = np.repeat(fleet.charge_efficiency, count)
    eta_d = np.repeat(fleet.discharge_efficiency, count)

    # State of charge: soc[k] - soc[k-1] - eta_c*charge[k] + discharge[k]/eta_d = soc0 if k == 0.
    has_previous = block_of_cell > 0
    soc_rows = np.concatenate([cell, cell, cell, cell[has_previous]])
    soc_cols = np.concatenate(
        [soc0 + cell, charge0 + cell, discharge0 + cell, soc0 + cell[has_previous] - 1]
    )
    soc_vals = np.concatenate([np.ones(cells), -eta_c, 1.0 / eta_d, -np.ones(has_previous.sum())])
    soc_rhs = np.where(has_previous, 0.0, np.repeat(fleet.initial_soc_wh / 1000, count))

    # Area balance in each coupled slot: sum(discharge - charge) + import - export = deficit.
    row_of_block = np.full(count, -1)
    row_of_block[coupled_blocks] = np.arange(coupled_count)
    in_pool = row_of_block[block_of_cell] >= 0
    pool_cells = cell[in_pool]
    pool_cell_rows = cells + row_of_block[block_of_cell[in_pool]]
    pool_slots = np.arange(coupled_count)
    pool_rows = np.concatenate(
        [pool_cell_rows, pool_cell_rows, cells + pool_slots, cells + pool_slots]
    )
    pool_cols = np.concatenate(
        [discharge0 + pool_cells, charge0 + pool_cells, import0 + pool_slots, export0 + pool_slots]
    )
    pool_vals = np.concatenate(
        [
            np.ones(pool_cells.size),
            -np.ones(pool_cells.size),
            np.ones(coupled_count),
            -np.ones(coupled_count),
        ]
    )
    coupled_slots = np.array([blocks[index].start for index in coupled_blocks], dtype=int)

    a_eq = coo_array(
        (
            np.concatenate([soc_vals, pool_vals]),
            (np.concatenate([soc_rows, pool_rows]), np.concatenate([soc_cols, pool_cols])),
        ),
        shape=(cells + coupled_count, variables),
    ).tocsr()
    b_eq = np.concatenate([soc_rhs, area_deficit_wh[coupled_slots] / 1000])

    # A priced block's energy moves the area's bill at that block's price: charging buys (or
    # stops selling), discharging saves (or sells).
    block_price = np.array([0.0 if b.coupled else b.price for b in blocks])
    cell_price = block_price[block_of_cell]
    # Energy left at the end of the day is worth at least what it would fetch on the grid, so the
    # plan does not dump it on the last slot, yet still spends it against imports.
    terminal_value = export_yen_per_kwh * fleet.discharge_efficiency
    cost = np.zeros(variables)
    cost[charge0:discharge0] = CYCLING_PENALTY + cell_price
    cost[discharge0:soc0] = CYCLING_PENALTY - cell_price
    last_block = np.arange(batteries) * count + count - 1
    cost[soc0 + last_block] = -terminal_value
    cost[import0:export0] = import_yen_per_kwh[coupled_slots] + GRID_PENALTY
    cost[export0:] = -export_yen_per_kwh + GRID_PENALTY

    per_block = np.outer(max_per_slot, length).ravel()
    upper = np.concatenate(
        [per_block, per_block, np.repeat(capacity, count), np.full(2 * coupled_count, np.inf)]
    )
    # milp without integer variables is HiGHS' LP solver with less overhead than linprog.
    result = milp(
        cost,
        constraints=LinearConstraint(a_eq, b_eq, b_eq),
        bounds=Bounds(np.zeros(variables), upper),
        # Presolve finds little to remove here and costs about a tenth of the solve.
        options={"presolve": False},
    )
    if result.status != 0 or result.x is None:
        msg = f"battery scheduling failed: {result.message}"
        raise PlanningError(msg)
    solution = np.asarray(result.x, dtype=np.float64) * 1000
    # Spread each block's energy evenly over its slots (see the module docstring).
    spread = np.repeat(1.0 / length, length.astype(int))
    slot_block = np.repeat(np.arange(count), length.astype(int))
    charge = solution[charge0:discharge0].reshape(batteries, count)[:, slot_block] * spread
    discharge = solution[discharge0:soc0].reshape(batteries, count)[:, slot_block] * spread
    return charge, discharge
