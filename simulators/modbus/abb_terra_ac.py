"""ABB Terra AC wallbox (W22-T-R-0, three-phase 22 kW) over Modbus TCP/RTU.

Register table: ABB "Terra AC wallbox Modbus communication" register map (0x4000 block of
unsigned 32-bit readings, big-endian words: currents in mA, voltages in 0.1 V, power in W,
session energy in Wh; 0x4100 write block), as used by evcc-io/evcc charger/abb.go and
peufeu2/GrugBus grugbus/devices/EVSE_ABB_Terra.csv. Readings answer functions 03 and 04.
The charger declares Modbus communication lost when no message arrives within the timeout
(0x4106, seconds) and then falls back; ABB does not publish the fallback current in the
register table, so the simulator assumes 0 A (pause).
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


def _u32(address: int, scale: float = 1.0) -> Point:
    return Point(Table.HOLDING, address, "u32", scale)


SERIAL = Point(Table.HOLDING, 0x4000, "string", words=4)
FIRMWARE = _u32(0x4004)
MAX_RATED_CURRENT = _u32(0x4006, 0.001)
ERROR_CODE = _u32(0x4008)
SOCKET_LOCK_STATE = _u32(0x400A)
CHARGING_STATE = _u32(0x400C)
CURRENT_LIMIT = _u32(0x400E, 0.001)
CURRENT = (_u32(0x4010, 0.001), _u32(0x4012, 0.001), _u32(0x4014, 0.001))
VOLTAGE = (_u32(0x4016, 0.1), _u32(0x4018, 0.1), _u32(0x401A, 0.1))
ACTIVE_POWER = _u32(0x401C)
SESSION_ENERGY = _u32(0x401E)
SET_CURRENT_LIMIT = _u32(0x4100, 0.001)
LOCK_SOCKET = Point(Table.HOLDING, 0x4103, "u16")
START_STOP = Point(Table.HOLDING, 0x4105, "u16")
COMMUNICATION_TIMEOUT = Point(Table.HOLDING, 0x4106, "u16")

BLOCKS = (
    (Table.HOLDING, 0x4000, 0x0020),
    (Table.INPUT, 0x4000, 0x0020),
    (Table.HOLDING, 0x4100, 0x0007),
)
FALLBACK_CURRENT_A = 0.0
DEFAULT_TIMEOUT_S = 600.0
# Charging state codes in bits 8-14 of 0x400C.
_IDLE, _B2_READY, _C1_PAUSED, _C2_CHARGING = 0, 2, 3, 4


class AbbTerraAc(SimulatedDevice):
    """One Terra AC wallbox with its commuter's car."""

    model = "abb_terra_ac"
    max_step_s = STATEFUL_STEP_S

    def __init__(self, *, now: Callable[[], float], seed: int, unit_max_current_a: float) -> None:
        super().__init__(now=now, seed=seed, blocks=BLOCKS)
        self.charge_point = ChargePoint(
            seed=seed,
            start=self.time,
            device_max_a=min(MAX_CURRENT_A, unit_max_current_a),
            failsafe_current_a=FALLBACK_CURRENT_A,
            failsafe_timeout_s=DEFAULT_TIMEOUT_S,
        )
        self.socket_locked = True

    def _advance(self, start: float, end: float) -> None:
        self.charge_point.advance(start, end)

    def ac_exchange(self, t: float) -> tuple[PhaseExchange, PhaseExchange, PhaseExchange]:
        return self.charge_point.exchange(t)

    def received(self, now: float) -> None:
        # Any Modbus message counts as communication for the Terra AC's watchdog.
        point = self.charge_point
        if point.last_heartbeat is not None:
            was_falling_back = point.failsafe_active(self.time)
            point.heartbeat(now)
            if was_falling_back:  # the commanded current applies again: show it
                self._stale = True

    def _write(self, address: int, values: list[int]) -> ModbusError | None:
        point = self.charge_point
        if address == SET_CURRENT_LIMIT.address and len(values) == 2:
            amps = SET_CURRENT_LIMIT.decode(values)
            if not accepted_limit(amps, point.device_max_a):
                return ModbusError.ILLEGAL_VALUE
            point.command(amps, self.time)
            return None
        if len(values) != 1:
            return ModbusError.ILLEGAL_ADDRESS
        value = values[0]
        if address == COMMUNICATION_TIMEOUT.address:
            point.failsafe_timeout_s = float(value)
        elif address in (LOCK_SOCKET.address, START_STOP.address):
            if value not in (0, 1):
                return ModbusError.ILLEGAL_VALUE
            if address == LOCK_SOCKET.address:
                self.socket_locked = value == 1
            else:
                point.enabled = value == 0  # 0 start, 1 stop
        else:
            return ModbusError.ILLEGAL_ADDRESS
        point.heartbeat(self.time)
        return None

    def _charging_state_code(self, t: float) -> int:
        point = self.charge_point
        state = point.state(t)
        if state == STATE_A:
            return _IDLE
        if state == STATE_C:
            return _C2_CHARGING
        return _C1_PAUSED if point.offered_current_a(t) == 0 else _B2_READY

    def _render(self, t: float) -> None:
        point = self.charge_point
        self.show_text(SERIAL, f"TAC{self.seed % 100_000:05d}")
        self.show(FIRMWARE, 0x01_06_05_00)
        self.show(MAX_RATED_CURRENT, point.device_max_a)
        self.show(ERROR_CODE, 0)
        connected = 0x111 if point.connected else (0x011 if self.socket_locked else 0x001)
        self.show(SOCKET_LOCK_STATE, connected)
        self.show(CHARGING_STATE, self._charging_state_code(t) << 8)
        self.show(CURRENT_LIMIT, point.offered_current_a(t), ("charge_current_limit_a", None))
        currents, voltages = point.phase_currents_a(t), point.voltages_v(t)
        for index, phase in enumerate(PHASES):
            self.show(CURRENT[index], currents[index], ("current_a", phase))
            self.show(VOLTAGE[index], voltages[index], ("voltage_v", phase))
        self.show(ACTIVE_POWER, sum(point.phase_powers_w(t)), ("active_power_w", None))
        self.show(SESSION_ENERGY, point.session_energy_wh, ("session_energy_wh", None))
        self.show(SET_CURRENT_LIMIT, point.commanded_limit_a)
        self.show(LOCK_SOCKET, 1 if self.socket_locked else 0)
        self.show(START_STOP, 0 if point.enabled else 1)
        self.show(COMMUNICATION_TIMEOUT, point.failsafe_timeout_s)
        self.record(("charger_state", None), float(point.state(t)))
        self.mirror_holding_to_input()
