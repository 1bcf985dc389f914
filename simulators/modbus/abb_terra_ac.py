"""ABB Terra AC wallbox (W22-T-R-0, three-phase 22 kW) over Modbus TCP/RTU.

Register table: ABB "Terra AC wallbox Modbus communication" register map (0x4000 block of
unsigned 32-bit readings, big-endian words: currents in mA, voltages in 0.1 V, power in W,
session energy in Wh; 0x4100 write block), as used by evcc-io/evcc charger/abb.go and
peufeu2/GrugBus grugbus/devices/EVSE_ABB_Terra.csv. Readings answer functions 03 and 04.
The charger declares Modbus communication lost when no message arrives within the timeout
(0x4106, seconds) and then falls back; ABB does not publish the fallback current in the
register table, so the simulator assumes 0 A (pause).
"""

from simulators.modbus._charger import accepted_limit
from simulators.modbus._registers import ModbusError, Point, Table
from simulators.modbus._wallbox import ChargerDevice, CommandRegisters, Reading, per_phase


def _u32(address: int, scale: float = 1.0) -> Point:
    return Point(Table.HOLDING, address, "u32", scale)


SERIAL = Point(Table.HOLDING, 0x4000, "string", words=4)
FIRMWARE = _u32(0x4004)
ERROR_CODE = _u32(0x4008)
SOCKET_LOCK_STATE = _u32(0x400A)
CHARGING_STATE = _u32(0x400C)
SET_CURRENT_LIMIT = _u32(0x4100, 0.001)
LOCK_SOCKET = Point(Table.HOLDING, 0x4103, "u16")
START_STOP = Point(Table.HOLDING, 0x4105, "u16")
COMMUNICATION_TIMEOUT = Point(Table.HOLDING, 0x4106, "u16")
READINGS = (
    Reading(_u32(0x4006, 0.001), "device_max_a"),
    Reading(_u32(0x400E, 0.001), "offered_current_a", truth="charge_current_limit_a"),
    *per_phase("current_a", (_u32(0x4010, 0.001), _u32(0x4012, 0.001), _u32(0x4014, 0.001))),
    *per_phase("voltage_v", (_u32(0x4016, 0.1), _u32(0x4018, 0.1), _u32(0x401A, 0.1))),
    Reading(_u32(0x401C), "active_power_w", truth="active_power_w"),
    Reading(_u32(0x401E), "session_energy_wh", truth="session_energy_wh"),
    Reading(SET_CURRENT_LIMIT, "commanded_limit_a"),
    Reading(COMMUNICATION_TIMEOUT, "failsafe_timeout_s"),
)
# The setpoint (0x4100) is a two-register write of its own; the socket lock is the device's.
COMMANDS = CommandRegisters(
    enable=START_STOP.address, enable_value=0, failsafe_timeout=COMMUNICATION_TIMEOUT.address
)

BLOCKS = (
    (Table.HOLDING, 0x4000, 0x0020),
    (Table.INPUT, 0x4000, 0x0020),
    (Table.HOLDING, 0x4100, 0x0007),
)
FALLBACK_CURRENT_A = 0.0
DEFAULT_TIMEOUT_S = 600.0
# Charging state codes in bits 8-14 of 0x400C: idle, C1 paused, B2 ready, C2 charging.
STATE_CODES = {"A1": 0, "B1": 3, "B2": 2, "C2": 4}


class AbbTerraAc(ChargerDevice):
    """One Terra AC wallbox with its commuter's car."""

    model = "abb_terra_ac"
    register_blocks = BLOCKS
    readings = READINGS
    commands = COMMANDS
    default_failsafe_current_a = FALLBACK_CURRENT_A
    default_failsafe_timeout_s = DEFAULT_TIMEOUT_S
    socket_locked = True

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
        if address == LOCK_SOCKET.address and len(values) == 1:
            if values[0] not in (0, 1):
                return ModbusError.ILLEGAL_VALUE
            self.socket_locked = values[0] == 1
            point.heartbeat(self.time)
            return None
        return super()._write(address, values)

    def _render(self, t: float) -> None:
        super()._render(t)
        point = self.charge_point
        self.show_text(SERIAL, f"TAC{self.seed % 100_000:05d}")
        self.show(FIRMWARE, 0x01_06_05_00)
        self.show(ERROR_CODE, 0)
        connected = 0x111 if point.connected else (0x011 if self.socket_locked else 0x001)
        self.show(SOCKET_LOCK_STATE, connected)
        self.show(CHARGING_STATE, STATE_CODES[point.pilot_state(t)] << 8)
        self.show(LOCK_SOCKET, 1 if self.socket_locked else 0)
        self.show(START_STOP, 0 if point.enabled else 1)
        self.mirror_holding_to_input()
