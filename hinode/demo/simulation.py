"""The quarter's simulated devices: one per unit, seeded per site and device, coupled per site."""

import zlib
from collections.abc import Callable

from hinode.demo.quarter import CHARGER_MODELS, SimulatedSite, SimulatedUnit
from simulators.modbus import SimulatedDevice, create_device

INVERTER = "sunspec_inverter"


def unit_seed(site: SimulatedSite, unit: SimulatedUnit) -> int:
    """A seed per site and device, stable across runs, so that no two sites mirror each other."""
    return zlib.crc32(f"{site.site}/{unit.device}".encode())


def site_devices(site: SimulatedSite, now: Callable[[], float]) -> dict[int, SimulatedDevice]:
    """The site's devices by Modbus unit id; its grid meter measures everything behind it."""
    devices: dict[int, SimulatedDevice] = {}
    behind: list[SimulatedDevice] = []
    for unit in site.units:
        if unit.device == site.grid_meter:
            continue
        device = create_device(
            unit.model,
            now=now,
            load=unit.load,
            seed=unit_seed(site, unit),
            unit_max_current_a=unit.max_current_a,
            rated_w=unit.size_w if unit.model == INVERTER else None,
            peak_w=None if unit.model == INVERTER else unit.size_w,
        )
        devices[unit.unit] = device
        if unit.model == INVERTER or unit.model in CHARGER_MODELS:
            behind.append(device)
    for unit in site.units:
        if unit.device != site.grid_meter:
            continue
        devices[unit.unit] = create_device(
            unit.model,
            now=now,
            load=unit.load,
            seed=unit_seed(site, unit),
            peak_w=unit.size_w,
            behind_the_meter=behind,
        )
    return dict(sorted(devices.items()))
