"""The register-map meters' common part: a site's AC quantities written through a device's table.

Each meter module lists its datasheet's registers as :class:`Reading` rows (the point: address,
data type, scale, word order; and the quantity it holds); :class:`RegisterMeter` renders them.
"""

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from simulators.modbus._device import PHASES, SimulatedDevice
from simulators.modbus._electrics import AcSnapshot, EnergyCounters
from simulators.modbus._registers import ModbusError, Point, Table
from simulators.modbus._site import MeteredSite

PhaseQuantity = Callable[[AcSnapshot, int], float]
SiteQuantity = Callable[[AcSnapshot, EnergyCounters], float]


def _line_voltage_v(snapshot: AcSnapshot, index: int) -> float:
    """L1-L2, L2-L3, L3-L1 for index 0, 1, 2."""
    return snapshot.line_voltage_v(index, (index + 1) % 3)


def _average_line_voltage_v(snapshot: AcSnapshot, counters: EnergyCounters) -> float:
    del counters
    return sum(_line_voltage_v(snapshot, index) for index in range(3)) / 3.0


def _total_phase_angle_deg(snapshot: AcSnapshot, counters: EnergyCounters) -> float:
    del counters
    return math.degrees(math.acos(min(1.0, abs(snapshot.power_factor))))


#: What a register of one phase can hold (the phase by its index, 0 = L1).
PHASE_QUANTITIES: dict[str, PhaseQuantity] = {
    "voltage_v": lambda snapshot, index: snapshot.phases[index].voltage_v,
    "current_a": lambda snapshot, index: snapshot.phases[index].current_a,
    "active_power_w": lambda snapshot, index: snapshot.phases[index].active_power_w,
    "apparent_power_va": lambda snapshot, index: snapshot.phases[index].apparent_power_va,
    "reactive_power_var": lambda snapshot, index: snapshot.phases[index].reactive_power_var,
    "power_factor": lambda snapshot, index: snapshot.phases[index].power_factor,
    "phase_angle_deg": lambda snapshot, index: snapshot.phase_angle_deg(index),
    "voltage_ll_v": _line_voltage_v,
}
#: What a register of the whole connection can hold.
SITE_QUANTITIES: dict[str, SiteQuantity] = {
    "average_voltage_v": lambda snapshot, _: snapshot.average_voltage_v,
    "average_voltage_ll_v": _average_line_voltage_v,
    "average_current_a": lambda snapshot, _: snapshot.current_a / 3.0,
    "current_a": lambda snapshot, _: snapshot.current_a,
    "neutral_current_a": lambda snapshot, _: snapshot.neutral_current_a,
    "active_power_w": lambda snapshot, _: snapshot.active_power_w,
    "apparent_power_va": lambda snapshot, _: snapshot.apparent_power_va,
    "reactive_power_var": lambda snapshot, _: snapshot.reactive_power_var,
    "power_factor": lambda snapshot, _: snapshot.power_factor,
    "phase_angle_deg": _total_phase_angle_deg,
    "frequency_hz": lambda snapshot, _: snapshot.frequency_hz,
    "energy_import_wh": lambda _, counters: counters.import_wh,
    "energy_export_wh": lambda _, counters: counters.export_wh,
    "energy_total_wh": lambda _, counters: counters.import_wh + counters.export_wh,
    # The phases share the import counter evenly over the years.
    "energy_import_per_phase_wh": lambda _, counters: counters.import_wh / 3.0,
    "reactive_energy_import_varh": lambda _, counters: counters.reactive_import_varh,
    "reactive_energy_total_varh": lambda _, counters: counters.reactive_import_varh,
    # The site never exports reactive energy.
    "reactive_energy_export_varh": lambda _snapshot, _counters: 0.0,
}


@dataclass(frozen=True, slots=True)
class Setting:
    """A one-register setup value the meter accepts writes to: its values and its default."""

    point: Point
    values: range
    default: int


@dataclass(frozen=True, slots=True)
class Reading:
    """One register of a meter's map and the quantity it shows.

    ``phase`` is the phase's index (0 = L1) for a per-phase quantity, None for the whole
    connection. ``truth``: whether readers rely on the register, so ``truth()`` reports it under
    (quantity, phase) — the phase as "l1"… on a three-phase meter, None on a single-phase one.
    """

    point: Point
    quantity: str
    phase: int | None = None
    truth: bool = True

    def __post_init__(self) -> None:
        known = SITE_QUANTITIES if self.phase is None else PHASE_QUANTITIES
        if self.quantity not in known:
            msg = f"no {'site' if self.phase is None else 'phase'} quantity {self.quantity!r}"
            raise ValueError(msg)


def per_phase(quantity: str, points: Sequence[Point], *, truth: bool = True) -> list[Reading]:
    """The readings of a quantity with one register per phase, *points* from L1 on."""
    return [Reading(point, quantity, index, truth) for index, point in enumerate(points)]


class RegisterMeter(MeteredSite, SimulatedDevice):
    """A meter whose register map is a table of readings of its site's quantities.

    Subclasses set ``phases``, ``register_blocks``, ``readings`` and the writable ``settings``
    (none: the meter refuses every write), and extend :meth:`_render` with what their map holds
    besides (fixed setup registers, serial numbers).
    """

    phases: ClassVar[int]
    register_blocks: ClassVar[Iterable[tuple[Table, int, int]]]
    readings: ClassVar[Sequence[Reading]]
    settings: ClassVar[Sequence[Setting]] = ()

    def __init__(
        self,
        *,
        now: Callable[[], float],
        load: str,
        seed: int,
        peak_w: float | None = None,
        behind_the_meter: Sequence[SimulatedDevice] = (),
    ) -> None:
        super().__init__(now=now, seed=seed, blocks=self.register_blocks)
        self._measure_site(
            load=load,
            phases=self.phases,
            seed=seed,
            peak_w=peak_w,
            behind_the_meter=behind_the_meter,
        )
        self._settings = {setting.point.address: setting.default for setting in self.settings}

    def _write(self, address: int, values: list[int]) -> ModbusError | None:
        writable = {setting.point.address: setting for setting in self.settings}
        setting = writable.get(address) if len(values) == 1 else None
        if setting is None:
            return ModbusError.ILLEGAL_ADDRESS
        if values[0] not in setting.values:
            return ModbusError.ILLEGAL_VALUE
        self._settings[address] = values[0]
        return None

    def _render(self, t: float) -> None:
        snapshot, counters = self.site.snapshot(t), self.site.counters
        for reading in self.readings:
            if reading.phase is None:
                value = SITE_QUANTITIES[reading.quantity](snapshot, counters)
                phase = None
            else:
                value = PHASE_QUANTITIES[reading.quantity](snapshot, reading.phase)
                phase = PHASES[reading.phase] if self.phases == 3 else None
            self.show(reading.point, value, (reading.quantity, phase) if reading.truth else None)
        for setting in self.settings:
            self.show(setting.point, self._settings[setting.point.address])
