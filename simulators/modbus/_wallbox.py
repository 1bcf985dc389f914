"""The charger devices' common part: a charge point behind a register map, its commands, watchdog.

Each charger module lists its datasheet's registers as :class:`Reading` rows and where it takes
its commands (:class:`CommandRegisters`); :class:`ChargerDevice` renders the one and applies the
other. State codes, and registers only one device has, stay in the device's module.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from simulators.modbus._charger import (
    CHARGING_POWER_FACTOR,
    MAX_CURRENT_A,
    ChargePoint,
    accepted_limit,
)
from simulators.modbus._device import PHASES, STATEFUL_STEP_S, PhaseExchange, SimulatedDevice
from simulators.modbus._registers import ModbusError, Point, Table

ChargePointQuantity = Callable[[ChargePoint, float], float]

#: What a register of one phase can hold (the phase by its index, 0 = L1).
PHASE_QUANTITIES: dict[str, Callable[[ChargePoint, float, int], float]] = {
    "current_a": lambda point, t, index: point.phase_currents_a(t)[index],
    "voltage_v": lambda point, t, index: point.voltages_v(t)[index],
}
#: What a register of the whole charge point can hold.
QUANTITIES: dict[str, ChargePointQuantity] = {
    "active_power_w": lambda point, t: sum(point.phase_powers_w(t)),
    "power_factor": lambda point, t: (
        CHARGING_POWER_FACTOR if point.phase_currents_a(t)[0] > 0 else 0.0
    ),
    "energy_import_wh": lambda point, _: point.total_energy_wh,
    "session_energy_wh": lambda point, _: point.session_energy_wh,
    "session_time_s": lambda point, _: point.session_seconds,
    "offered_current_a": lambda point, t: point.offered_current_a(t),
    "applied_limit_a": lambda point, t: point.applied_limit_a(t),
    "commanded_limit_a": lambda point, _: point.commanded_limit_a,
    "device_max_a": lambda point, _: point.device_max_a,
    "failsafe_current_a": lambda point, _: point.failsafe_current_a,
    "failsafe_timeout_s": lambda point, _: point.failsafe_timeout_s,
}


@dataclass(frozen=True, slots=True)
class Reading:
    """One register of a charger's map and the charge point quantity it shows.

    ``phase`` is the phase's index (0 = L1) for a per-phase quantity; ``truth`` the canonical
    quantity ``truth()`` reports the register under, or None when readers do not rely on it.
    """

    point: Point
    quantity: str
    phase: int | None = None
    truth: str | None = None

    def __post_init__(self) -> None:
        known = QUANTITIES if self.phase is None else PHASE_QUANTITIES
        if self.quantity not in known:
            msg = f"no charge point quantity {self.quantity!r}"
            raise ValueError(msg)


def per_phase(quantity: str, points: Sequence[Point]) -> list[Reading]:
    """The readings of a quantity with one register per phase, *points* from L1 on."""
    return [Reading(point, quantity, index, quantity) for index, point in enumerate(points)]


@dataclass(frozen=True, slots=True)
class CommandRegisters:
    """Where a charger takes its one-register commands (holding addresses), and in what units.

    Every accepted command feeds the fail-safe watchdog; a current setpoint also arms it.
    """

    enable: int
    enable_value: int  # the value (0 or 1) that lets the charger charge; the other stops it
    failsafe_timeout: int  # seconds, 0 = off
    setpoint: int | None = None
    failsafe_current: int | None = None
    amps: Callable[[int], float] = float  # a current register's value in A
    acknowledged: frozenset[int] = frozenset()  # accepted, with no effect in the simulator


class ChargerDevice(SimulatedDevice):
    """A charger device: one :class:`ChargePoint`, a table of readings and command registers.

    Subclasses set ``register_blocks``, ``readings``, ``commands`` and the fail-safe defaults,
    and extend :meth:`_render` with their own state codes.
    """

    max_step_s = STATEFUL_STEP_S
    register_blocks: ClassVar[Iterable[tuple[Table, int, int]]]
    readings: ClassVar[Sequence[Reading]]
    commands: ClassVar[CommandRegisters]
    default_failsafe_current_a: ClassVar[float]
    default_failsafe_timeout_s: ClassVar[float]

    def __init__(self, *, now: Callable[[], float], seed: int, unit_max_current_a: float) -> None:
        super().__init__(now=now, seed=seed, blocks=self.register_blocks)
        self.charge_point = ChargePoint(
            seed=seed,
            start=self.time,
            device_max_a=min(MAX_CURRENT_A, unit_max_current_a),
            failsafe_current_a=self.default_failsafe_current_a,
            failsafe_timeout_s=self.default_failsafe_timeout_s,
        )

    def _advance(self, start: float, end: float) -> None:
        self.charge_point.advance(start, end)

    def ac_exchange(self, t: float) -> tuple[PhaseExchange, PhaseExchange, PhaseExchange]:
        return self.charge_point.exchange(t)

    def _write(self, address: int, values: list[int]) -> ModbusError | None:
        if len(values) != 1:
            return ModbusError.ILLEGAL_ADDRESS
        value, point, commands = values[0], self.charge_point, self.commands
        if address in (commands.setpoint, commands.failsafe_current):
            amps = commands.amps(value)
            if not accepted_limit(amps, point.device_max_a):
                return ModbusError.ILLEGAL_VALUE
            if address == commands.setpoint:
                point.command(amps, self.time)
                return None
            point.failsafe_current_a = amps
        elif address == commands.failsafe_timeout:
            point.failsafe_timeout_s = float(value)
        elif address == commands.enable:
            if value not in (0, 1):
                return ModbusError.ILLEGAL_VALUE
            point.enabled = value == commands.enable_value
        elif address not in commands.acknowledged:
            return ModbusError.ILLEGAL_ADDRESS
        point.heartbeat(self.time)
        return None

    def _render(self, t: float) -> None:
        point = self.charge_point
        for reading in self.readings:
            if reading.phase is None:
                value, phase = QUANTITIES[reading.quantity](point, t), None
            else:
                value = PHASE_QUANTITIES[reading.quantity](point, t, reading.phase)
                phase = PHASES[reading.phase]
            self.show(
                reading.point, value, None if reading.truth is None else (reading.truth, phase)
            )
        self.record(("charger_state", None), float(point.state(t)))
