"""Phoenix Contact CHARX SEC-3100 charge controller (one charging point) over Modbus TCP.

Register table: Phoenix Contact "CHARX SEC-3xxx" user manual, Modbus server section, as used by
evcc-io/evcc charger/phoenix-charx.go: holding and input tables show the same registers; station
registers from 100, charging point n at n×1000: x232 voltages (s32, mV), x238 currents (s32, mA),
x244 power (s32, mW), x250 energy (s64, Wh), x287 charging time (u32, s), x289 session energy
(u32, Wh), x299 IEC 61851 state as ASCII ('A1', 'B2', 'C2'), x300 enable, x301 current setpoint
(u16, A). Words are big-endian. The published table has no Modbus watchdog, so the simulator adds
a fail-safe pair next to the setpoint: x302 fail-safe current (A), x303 timeout (s, 0 = off).
"""

from collections.abc import Callable

from simulators.modbus._charger import (
    MAX_CURRENT_A,
    STATE_A,
    STATE_C,
    ChargePoint,
    accepted_limit,
)
from simulators.modbus._device import PHASES, STATEFUL_STEP_S, PhaseExchange, SimulatedDevice
from simulators.modbus._registers import ModbusError, Point, Table

POINT_BASE = 1000  # charging point 1


def _at(offset: int, dtype: str, scale: float = 1.0, words: int = 0) -> Point:
    return Point(Table.HOLDING, POINT_BASE + offset, dtype, scale, words=words)


DEVICE_NAME = Point(Table.HOLDING, 100, "string", words=10)
SOFTWARE_VERSION = Point(Table.HOLDING, 110, "string", words=4)
CONTROLLER_COUNT = Point(Table.HOLDING, 114, "u16")
METER_TYPE = _at(112, "u16")
VOLTAGE = (_at(232, "s32", 0.001), _at(234, "s32", 0.001), _at(236, "s32", 0.001))
CURRENT = (_at(238, "s32", 0.001), _at(240, "s32", 0.001), _at(242, "s32", 0.001))
ACTIVE_POWER = _at(244, "s32", 0.001)
TOTAL_ENERGY = _at(250, "s64")
STATE_OF_CHARGE = _at(264, "u16")
EV_ID = _at(265, "string", words=10)
RFID = _at(275, "string", words=10)
CHARGING_TIME = _at(287, "u32")
SESSION_ENERGY = _at(289, "u32")
IEC_STATE = _at(299, "u16")
ENABLE = _at(300, "u16")
CURRENT_SETPOINT = _at(301, "u16")
FAILSAFE_CURRENT = _at(302, "u16")
FAILSAFE_TIMEOUT = _at(303, "u16")

BLOCKS = tuple(
    (table, start, count)
    for table in (Table.HOLDING, Table.INPUT)
    for start, count in ((100, 20), (POINT_BASE + 100, 210))
)
DEFAULT_FAILSAFE_CURRENT_A = 6.0
METER_INTERNAL = 1


class PhoenixCharx(SimulatedDevice):
    """A CHARX SEC-3100 controlling one charging point with its commuter's car."""

    model = "phoenix_charx"
    max_step_s = STATEFUL_STEP_S

    def __init__(self, *, now: Callable[[], float], seed: int, unit_max_current_a: float) -> None:
        super().__init__(now=now, seed=seed, blocks=BLOCKS)
        self.charge_point = ChargePoint(
            seed=seed,
            start=self.time,
            device_max_a=min(MAX_CURRENT_A, unit_max_current_a),
            failsafe_current_a=DEFAULT_FAILSAFE_CURRENT_A,
            failsafe_timeout_s=0.0,
        )

    def _advance(self, start: float, end: float) -> None:
        self.charge_point.advance(start, end)

    def ac_exchange(self, t: float) -> tuple[PhaseExchange, PhaseExchange, PhaseExchange]:
        return self.charge_point.exchange(t)

    def _write(self, address: int, values: list[int]) -> ModbusError | None:
        if len(values) != 1:
            return ModbusError.ILLEGAL_ADDRESS
        value, point = values[0], self.charge_point
        if address in (CURRENT_SETPOINT.address, FAILSAFE_CURRENT.address):
            if not accepted_limit(float(value), point.device_max_a):
                return ModbusError.ILLEGAL_VALUE
            if address == CURRENT_SETPOINT.address:
                point.command(float(value), self.time)
                return None
            point.failsafe_current_a = float(value)
        elif address == FAILSAFE_TIMEOUT.address:
            point.failsafe_timeout_s = float(value)
        elif address == ENABLE.address:
            if value not in (0, 1):
                return ModbusError.ILLEGAL_VALUE
            point.enabled = value == 1
        else:
            return ModbusError.ILLEGAL_ADDRESS
        point.heartbeat(self.time)
        return None

    def _iec_state(self, t: float) -> str:
        point = self.charge_point
        state = point.state(t)
        if state == STATE_A:
            return "A1"
        if state == STATE_C:
            return "C2"
        return "B2" if point.offered_current_a(t) > 0 else "B1"

    def setpoint_shown_a(self, t: float) -> float:
        """The setpoint register: the commanded current, or the fail-safe one once it applies."""
        point = self.charge_point
        return point.failsafe_current_a if point.failsafe_active(t) else point.commanded_limit_a

    def _render(self, t: float) -> None:
        point = self.charge_point
        self.show_text(DEVICE_NAME, "CHARX SEC-3100")
        self.show_text(SOFTWARE_VERSION, "1.6.3")
        self.show(CONTROLLER_COUNT, 1)
        self.show(METER_TYPE, METER_INTERNAL)
        currents, voltages = point.phase_currents_a(t), point.voltages_v(t)
        for index, phase in enumerate(PHASES):
            self.show(VOLTAGE[index], voltages[index], ("voltage_v", phase))
            self.show(CURRENT[index], currents[index], ("current_a", phase))
        self.show(ACTIVE_POWER, sum(point.phase_powers_w(t)), ("active_power_w", None))
        self.show(TOTAL_ENERGY, point.total_energy_wh, ("energy_import_wh", None))
        self.show(STATE_OF_CHARGE, 0)
        self.show_text(EV_ID, "")
        self.show_text(RFID, "")
        self.show(CHARGING_TIME, point.session_seconds)
        self.show(SESSION_ENERGY, point.session_energy_wh, ("session_energy_wh", None))
        state = self._iec_state(t).encode("ascii")
        self.show(IEC_STATE, state[0] << 8 | state[1])
        self.show(ENABLE, 1 if point.enabled else 0)
        self.show(CURRENT_SETPOINT, self.setpoint_shown_a(t), ("charge_current_limit_a", None))
        self.show(FAILSAFE_CURRENT, point.failsafe_current_a)
        self.show(FAILSAFE_TIMEOUT, point.failsafe_timeout_s)
        self.record(("charger_state", None), float(point.state(t)))
        self.mirror_holding_to_input()
