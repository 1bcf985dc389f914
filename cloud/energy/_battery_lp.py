"""The linear programme behind the planner: battery schedules against the area's net grid exchange.

Sharing inside the area costs nothing to the area as a whole (the interchange price moves money
between participants), so the area's grid cost depends only on its net position per slot: it
imports the deficit left after pooling, or exports the surplus. The only real decisions are the
batteries' charge and discharge, so the programme has 3 variables per battery and slot plus two
per slot for the area's import and export, and one balance row per slot for the whole pool. The
split among sites (who shares, who imports) follows from the pool afterwards, see ``_pool``.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from cloud.energy.errors import PlanningError

FloatArray = npt.NDArray[np.float64]

#: Tiny costs (yen/kWh) that break ties the way a person would: no cycling a battery for nothing,
#: no import and export at once. Far below any tariff difference, above solver tolerances.
CYCLING_PENALTY = 1e-3
GRID_PENALTY = 1e-3


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
        return BatterySchedule(charge_wh=empty, discharge_wh=empty.copy())

    cells = batteries * slots
    # Variable blocks: charge, discharge, soc (each battery-major), then area import and export.
    charge0, discharge0, soc0, import0, export0 = 0, cells, 2 * cells, 3 * cells, 3 * cells + slots
    variables = 3 * cells + 2 * slots
    cell = np.arange(cells)
    slot_of_cell = cell % slots

    # Solve in kWh: right-hand sides near 1 keep HiGHS' scaling work small.
    capacity = fleet.capacity_wh / 1000
    max_per_slot = fleet.max_energy_per_slot_wh / 1000
    eta_c = np.repeat(fleet.charge_efficiency, slots)
    eta_d = np.repeat(fleet.discharge_efficiency, slots)

    # State of charge: soc[t] - soc[t-1] - eta_c*charge[t] + discharge[t]/eta_d = soc0 if t == 0.
    has_previous = slot_of_cell > 0
    soc_rows = np.concatenate([cell, cell, cell, cell[has_previous]])
    soc_cols = np.concatenate(
        [soc0 + cell, charge0 + cell, discharge0 + cell, soc0 + cell[has_previous] - 1]
    )
    soc_vals = np.concatenate([np.ones(cells), -eta_c, 1.0 / eta_d, -np.ones(has_previous.sum())])
    soc_rhs = np.where(has_previous, 0.0, np.repeat(fleet.initial_soc_wh / 1000, slots))

    # Area balance per slot: sum(discharge - charge) + import - export = deficit.
    slot_index = np.arange(slots)
    pool_rows = cells + np.concatenate([slot_of_cell, slot_of_cell, slot_index, slot_index])
    pool_cols = np.concatenate(
        [discharge0 + cell, charge0 + cell, import0 + slot_index, export0 + slot_index]
    )
    pool_vals = np.concatenate([np.ones(cells), -np.ones(cells), np.ones(slots), -np.ones(slots)])

    a_eq = coo_array(
        (
            np.concatenate([soc_vals, pool_vals]),
            (np.concatenate([soc_rows, pool_rows]), np.concatenate([soc_cols, pool_cols])),
        ),
        shape=(cells + slots, variables),
    ).tocsr()
    b_eq = np.concatenate([soc_rhs, area_deficit_wh / 1000])

    # Energy left at the end of the day is worth at least what it would fetch on the grid, so the
    # plan does not dump it on the last slot, yet still spends it against imports.
    terminal_value = export_yen_per_kwh * fleet.discharge_efficiency
    cost = np.zeros(variables)
    cost[charge0:discharge0] = CYCLING_PENALTY
    cost[discharge0:soc0] = CYCLING_PENALTY
    last_slot = np.arange(batteries) * slots + slots - 1
    cost[soc0 + last_slot] = -terminal_value
    cost[import0:export0] = import_yen_per_kwh + GRID_PENALTY
    cost[export0:] = -export_yen_per_kwh + GRID_PENALTY

    upper = np.concatenate(
        [
            np.repeat(max_per_slot, slots),
            np.repeat(max_per_slot, slots),
            np.repeat(capacity, slots),
            np.full(2 * slots, np.inf),
        ]
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
    charge = solution[charge0:discharge0].reshape(batteries, slots)
    discharge = solution[discharge0:soc0].reshape(batteries, slots)
    return BatterySchedule(charge_wh=charge, discharge_wh=discharge)
