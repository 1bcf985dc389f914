"""Which simulated device each model id makes, and the options they take."""

from collections.abc import Callable

from simulators.modbus._device import SimulatedDevice
from simulators.modbus._loads import LOAD_KINDS
from simulators.modbus.abb_terra_ac import AbbTerraAc
from simulators.modbus.em24 import Em24
from simulators.modbus.keba_p30 import KebaP30
from simulators.modbus.phoenix_charx import PhoenixCharx
from simulators.modbus.sdm120 import Sdm120
from simulators.modbus.sdm630 import Sdm630
from simulators.modbus.sunspec_inverter import SunSpecInverter
from simulators.modbus.sunspec_meter import SunSpecMeter

MODELS: tuple[str, ...] = (
    "sdm630",
    "sdm120",
    "em24",
    "sunspec_inverter",
    "sunspec_meter",
    "abb_terra_ac",
    "phoenix_charx",
    "keba_p30",
)


def create_device(
    model: str,
    *,
    now: Callable[[], float],
    load: str = "factory",
    seed: int = 0,
    unit_max_current_a: float = 32.0,
) -> SimulatedDevice:
    """A new simulated *model*; raises ValueError for an unknown model or option.

    ``load`` picks a meter's demand curve; ``unit_max_current_a`` caps a charger (its wiring).
    """
    if model not in MODELS:
        msg = f"unknown model {model!r}; expected one of {', '.join(MODELS)}"
        raise ValueError(msg)
    if load not in LOAD_KINDS:
        msg = f"unknown load {load!r}; expected one of {', '.join(LOAD_KINDS)}"
        raise ValueError(msg)
    if unit_max_current_a < 6.0:
        msg = f"unit_max_current_a must be at least 6 A (IEC 61851), got {unit_max_current_a}"
        raise ValueError(msg)
    if model == "sdm630":
        return Sdm630(now=now, load=load, seed=seed)
    if model == "sdm120":
        return Sdm120(now=now, load=load, seed=seed)
    if model == "em24":
        return Em24(now=now, load=load, seed=seed)
    if model == "sunspec_meter":
        return SunSpecMeter(now=now, load=load, seed=seed)
    if model == "sunspec_inverter":
        return SunSpecInverter(now=now, seed=seed)
    if model == "abb_terra_ac":
        return AbbTerraAc(now=now, seed=seed, unit_max_current_a=unit_max_current_a)
    if model == "phoenix_charx":
        return PhoenixCharx(now=now, seed=seed, unit_max_current_a=unit_max_current_a)
    return KebaP30(now=now, seed=seed, unit_max_current_a=unit_max_current_a)
