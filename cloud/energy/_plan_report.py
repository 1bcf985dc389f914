"""The planner's output document: per slot and site flows, per site figures, area totals."""

from typing import Any

import numpy as np
import numpy.typing as npt

from cloud.energy._planner import InterchangePlan

FloatArray = npt.NDArray[np.float64]
WH_DECIMALS = 3


def _ratio(part: float, whole: float) -> float | None:
    return None if whole <= 0 else round(min(max(part / whole, 0.0), 1.0), 4)


def _kwh(wh: FloatArray) -> FloatArray:
    return wh / 1000.0


def site_costs_yen(plan: InterchangePlan) -> FloatArray:
    """Each site's money for the day: grid bill minus feed-in plus the interchange balance."""
    per_slot = (
        _kwh(plan.grid_import_wh) * plan.import_yen_per_kwh
        - _kwh(plan.grid_export_wh) * plan.export_yen_per_kwh
        + _kwh(plan.shared_in_wh - plan.shared_out_wh) * plan.interchange_yen_per_kwh
    )
    return np.asarray(per_slot.sum(axis=1), dtype=np.float64)


def standalone_cost_yen(plan: InterchangePlan) -> float:
    """What the area would pay with every site on its own: no pool, no batteries."""
    net = plan.generation_wh - plan.consumption_wh
    bill = _kwh(np.maximum(-net, 0.0)) * plan.import_yen_per_kwh
    feed_in = _kwh(np.maximum(net, 0.0)) * plan.export_yen_per_kwh
    return float((bill - feed_in).sum())


def plan_document(plan: InterchangePlan) -> dict[str, Any]:
    """The JSON document of ``hinode energy plan --json``."""
    ids = plan.site_ids
    slots: list[dict[str, Any]] = []
    for slot, start in enumerate(plan.slot_starts):
        transfers = plan.transfers[slot]
        slots.append(
            {
                "start": start.isoformat(),
                "transfers": [
                    {"from": ids[giver], "to": ids[taker], "wh": round(float(wh), WH_DECIMALS)}
                    for giver, taker, wh in zip(
                        transfers.giver.tolist(),
                        transfers.taker.tolist(),
                        transfers.wh.tolist(),
                        strict=True,
                    )
                ],
                "sites": {site_id: _site_slot(plan, row, slot) for row, site_id in enumerate(ids)},
            }
        )
    costs = site_costs_yen(plan)
    import_total = plan.grid_import_wh.sum(axis=1)
    export_total = plan.grid_export_wh.sum(axis=1)
    consumption_total = plan.consumption_wh.sum(axis=1)
    generation_total = plan.generation_wh.sum(axis=1)
    sites = {
        site_id: {
            "self_sufficiency": _ratio(
                consumption_total[row] - import_total[row], consumption_total[row]
            ),
            "self_consumption": _ratio(
                generation_total[row] - export_total[row], generation_total[row]
            ),
            "cost_yen": round(float(costs[row]), 2),
            "co2_kg": round(float(import_total[row] / 1000 * plan.emission_factor_kg_per_kwh), 3),
        }
        for row, site_id in enumerate(ids)
    }
    return {"slots": slots, "sites": sites, "totals": plan_totals(plan)}


def plan_totals(plan: InterchangePlan) -> dict[str, Any]:
    """Area totals for the day."""
    consumption = float(plan.consumption_wh.sum())
    generation = float(plan.generation_wh.sum())
    grid_import = float(plan.grid_import_wh.sum())
    grid_export = float(plan.grid_export_wh.sum())
    factor = plan.emission_factor_kg_per_kwh
    standalone_import = float(np.maximum(plan.consumption_wh - plan.generation_wh, 0.0).sum())
    return {
        "generation_wh": round(generation, WH_DECIMALS),
        "consumption_wh": round(consumption, WH_DECIMALS),
        "grid_import_wh": round(grid_import, WH_DECIMALS),
        "grid_export_wh": round(grid_export, WH_DECIMALS),
        "shared_wh": round(float(plan.shared_out_wh.sum()), WH_DECIMALS),
        "battery_charge_wh": round(float(plan.battery_charge_wh.sum()), WH_DECIMALS),
        "battery_discharge_wh": round(float(plan.battery_discharge_wh.sum()), WH_DECIMALS),
        "self_sufficiency": _ratio(consumption - grid_import, consumption),
        "self_consumption": _ratio(generation - grid_export, generation),
        "cost_yen": round(float(site_costs_yen(plan).sum()), 2),
        "standalone_cost_yen": round(standalone_cost_yen(plan), 2),
        "co2_kg": round(grid_import / 1000 * factor, 3),
        "standalone_co2_kg": round(standalone_import / 1000 * factor, 3),
        "emission_factor_kg_per_kwh": factor,
    }


def _site_slot(plan: InterchangePlan, row: int, slot: int) -> dict[str, float | None]:
    soc = float(plan.soc_wh[row, slot])
    return {
        "grid_import_wh": round(float(plan.grid_import_wh[row, slot]), WH_DECIMALS),
        "grid_export_wh": round(float(plan.grid_export_wh[row, slot]), WH_DECIMALS),
        "shared_in_wh": round(float(plan.shared_in_wh[row, slot]), WH_DECIMALS),
        "shared_out_wh": round(float(plan.shared_out_wh[row, slot]), WH_DECIMALS),
        "battery_charge_wh": round(float(plan.battery_charge_wh[row, slot]), WH_DECIMALS),
        "battery_discharge_wh": round(float(plan.battery_discharge_wh[row, slot]), WH_DECIMALS),
        "soc_wh": None if np.isnan(soc) else round(soc, WH_DECIMALS),
    }
