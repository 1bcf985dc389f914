"""Which simulated device each model id makes, and the options they take."""

from collections.abc import Callable, Sequence

from simulators.modbus._device import SimulatedDevice
from simulators.modbus._loads import LOAD_KINDS
from simulators.modbus.abb_terra_ac import AbbTerraAc
from simulators.modbus.em24 import Em24
from simulators.modbus.keba_p30 import KebaP30
from simulators.modbus.phoenix_charx import PhoenixCharx
from simulators.modbus.sdm120 import Sdm120
from simulators.modbus.sdm630 import Sdm630
from simulators.modbus.sunspec_inverter import MAX_RATED_W, RATED_W, SunSpecInverter
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
_METERS: dict[str, Callable[..., SimulatedDevice]] = {
    "sdm630": Sdm630,
    "sdm120": Sdm120,
    "em24": Em24,
    "sunspec_meter": SunSpecMeter,
}
METER_MODELS = frozenset(_METERS)
#: What may stand behind a meter: things that draw or feed in power of their own.
BEHIND_THE_METER_MODELS = frozenset(
    {"sunspec_inverter", "abb_terra_ac", "phoenix_charx", "keba_p30"}
)


def create_device(
    model: str,
    *,
    now: Callable[[], float],
    load: str = "factory",
    seed: int = 0,
    unit_max_current_a: float = 32.0,
    peak_w: float | None = None,
    rated_w: float | None = None,
    behind_the_meter: Sequence[SimulatedDevice] = (),
) -> SimulatedDevice:
    """A new simulated *model*; raises ValueError for an unknown model or option.

    ``load`` picks a meter's demand curve and ``peak_w`` its size; ``unit_max_current_a`` caps a
    charger (its wiring); ``rated_w`` sizes an inverter; ``behind_the_meter`` makes a meter
    measure those inverters and chargers too, as at a site's connection point.
    """
    _check_options(model, load, unit_max_current_a, peak_w, rated_w, behind_the_meter)
    if model in METER_MODELS:
        return _METERS[model](
            now=now, load=load, seed=seed, peak_w=peak_w, behind_the_meter=behind_the_meter
        )
    if model == "sunspec_inverter":
        return SunSpecInverter(now=now, seed=seed, rated_w=RATED_W if rated_w is None else rated_w)
    if model == "abb_terra_ac":
        return AbbTerraAc(now=now, seed=seed, unit_max_current_a=unit_max_current_a)
    if model == "phoenix_charx":
        return PhoenixCharx(now=now, seed=seed, unit_max_current_a=unit_max_current_a)
    return KebaP30(now=now, seed=seed, unit_max_current_a=unit_max_current_a)


def _check_options(
    model: str,
    load: str,
    unit_max_current_a: float,
    peak_w: float | None,
    rated_w: float | None,
    behind_the_meter: Sequence[SimulatedDevice],
) -> None:
    if model not in MODELS:
        msg = f"unknown model {model!r}; expected one of {', '.join(MODELS)}"
        raise ValueError(msg)
    if load not in LOAD_KINDS:
        msg = f"unknown load {load!r}; expected one of {', '.join(LOAD_KINDS)}"
        raise ValueError(msg)
    if unit_max_current_a < 6.0:
        msg = f"unit_max_current_a must be at least 6 A (IEC 61851), got {unit_max_current_a}"
        raise ValueError(msg)
    if peak_w is not None and not peak_w > 0:
        msg = f"peak_w must be positive, got {peak_w}"
        raise ValueError(msg)
    if rated_w is not None and not 0 < rated_w <= MAX_RATED_W:
        msg = f"rated_w must be in (0, {MAX_RATED_W:.0f}] W, got {rated_w}"
        raise ValueError(msg)
    if behind_the_meter and model not in METER_MODELS:
        msg = f"behind_the_meter needs a meter; {model!r} is none"
        raise ValueError(msg)
    wrong = [
        device.model for device in behind_the_meter if device.model not in BEHIND_THE_METER_MODELS
    ]
    if wrong:
        msg = (
            f"only inverters and chargers stand behind a meter, got {', '.join(wrong)}; "
            f"expected {', '.join(sorted(BEHIND_THE_METER_MODELS))}"
        )
        raise ValueError(msg)
    if len({id(device) for device in behind_the_meter}) != len(behind_the_meter):
        msg = "a device stands behind the meter twice"
        raise ValueError(msg)
