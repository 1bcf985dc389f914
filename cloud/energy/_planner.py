"""Interchange planner: one day of an area's sites, batteries and the pool between them."""

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from cloud.energy._battery_lp import BatteryFleet, schedule_batteries
from cloud.energy._plan_input import PlanRequest
from cloud.energy._pool import SlotTransfers, TransferRule, derive_transfers, split_pool
from cloud.energy._time import SLOT, slot_starts

FloatArray = npt.NDArray[np.float64]
#: Energies below this (Wh) are solver noise, not decisions.
NOISE_WH = 1e-6


@dataclass(frozen=True)
class InterchangePlan:
    """A day's plan. Arrays are sites (rows, in ``site_ids`` order) × slots (columns), in Wh."""

    area: str
    site_ids: tuple[str, ...]
    slot_starts: tuple[datetime, ...]
    generation_wh: FloatArray
    consumption_wh: FloatArray
    grid_import_wh: FloatArray
    grid_export_wh: FloatArray
    shared_in_wh: FloatArray
    shared_out_wh: FloatArray
    battery_charge_wh: FloatArray
    battery_discharge_wh: FloatArray
    #: State of charge at the end of each slot; NaN for sites without a battery.
    soc_wh: FloatArray
    transfers: tuple[SlotTransfers, ...]
    import_yen_per_kwh: FloatArray
    export_yen_per_kwh: float
    interchange_yen_per_kwh: float
    emission_factor_kg_per_kwh: float


def plan_interchange(
    request: PlanRequest,
    *,
    emission_factor_kg_per_kwh: float,
    transfer_rule: TransferRule = "proportional",
) -> InterchangePlan:
    """Plan the day: battery schedules that minimise the area's grid cost, then the pool split."""
    sites = request.sites
    generation = np.array([site.generation_wh for site in sites], dtype=np.float64)
    consumption = np.array([site.consumption_wh for site in sites], dtype=np.float64)
    site_count, slots = generation.shape
    import_price = np.array(request.prices.import_per_slot(), dtype=np.float64)
    export_price = request.prices.grid_export_yen_per_kwh

    battery_rows = [index for index, site in enumerate(sites) if site.battery is not None]
    batteries = [site.battery for site in sites if site.battery is not None]
    slot_hours = SLOT.total_seconds() / 3600
    one_way = np.sqrt(np.array([battery.efficiency for battery in batteries], dtype=np.float64))
    fleet = BatteryFleet(
        capacity_wh=np.array([battery.capacity_wh for battery in batteries], dtype=np.float64),
        max_energy_per_slot_wh=np.array(
            [battery.power_w * slot_hours for battery in batteries], dtype=np.float64
        ),
        charge_efficiency=one_way,
        discharge_efficiency=one_way.copy(),
        initial_soc_wh=np.array([battery.soc_wh for battery in batteries], dtype=np.float64),
    )
    schedule = schedule_batteries(
        fleet, (consumption - generation).sum(axis=0), import_price, export_price
    )

    charge = np.zeros((site_count, slots))
    discharge = np.zeros((site_count, slots))
    soc = np.full((site_count, slots), np.nan)
    if battery_rows:
        limit = fleet.max_energy_per_slot_wh[:, None]
        charge[battery_rows] = _clean(schedule.charge_wh, limit)
        discharge[battery_rows] = _clean(schedule.discharge_wh, limit)
        soc[battery_rows] = _state_of_charge(fleet, charge[battery_rows], discharge[battery_rows])

    net = generation + discharge - consumption - charge
    net[np.abs(net) < NOISE_WH] = 0.0
    split = split_pool(net)
    return InterchangePlan(
        area=request.area,
        site_ids=tuple(site.id for site in sites),
        slot_starts=tuple(slot_starts(request.start, slots)),
        generation_wh=generation,
        consumption_wh=consumption,
        grid_import_wh=split.grid_import_wh,
        grid_export_wh=split.grid_export_wh,
        shared_in_wh=split.shared_in_wh,
        shared_out_wh=split.shared_out_wh,
        battery_charge_wh=charge,
        battery_discharge_wh=discharge,
        soc_wh=soc,
        transfers=tuple(derive_transfers(split.shared_out_wh, split.shared_in_wh, transfer_rule)),
        import_yen_per_kwh=import_price,
        export_yen_per_kwh=export_price,
        interchange_yen_per_kwh=request.prices.interchange_yen_per_kwh,
        emission_factor_kg_per_kwh=emission_factor_kg_per_kwh,
    )


def _clean(energy_wh: FloatArray, limit_wh: FloatArray) -> FloatArray:
    """Clip solver output into its bounds and drop noise."""
    cleaned = np.clip(energy_wh, 0.0, limit_wh)
    cleaned[cleaned < NOISE_WH] = 0.0
    return cleaned


def _state_of_charge(fleet: BatteryFleet, charge: FloatArray, discharge: FloatArray) -> FloatArray:
    """Replay the schedule so the reported state follows exactly from the reported flows."""
    gained = charge * fleet.charge_efficiency[:, None]
    delta = gained - discharge / fleet.discharge_efficiency[:, None]
    soc = fleet.initial_soc_wh[:, None] + np.cumsum(delta, axis=1)
    # The solver's tolerance can leave the state a hair outside its bounds.
    return np.clip(soc, 0.0, fleet.capacity_wh[:, None])
