"""Phoenix Contact CHARX SEC-3100 charge controller (one charging point) over Modbus TCP.

Register table: Phoenix Contact "CHARX SEC-3xxx" user manual, Modbus server section, as used by
evcc-io/evcc charger/phoenix-charx.go: holding and input tables show the same registers; station
registers from 100, charging point n at n×1000: x232 voltages (s32, mV), x238 currents (s32, mA),
x244 power (s32, mW), x250 energy (s64, Wh), x287 charging time (u32, s), x289 session energy
(u32, Wh), x299 IEC 61851 state as ASCII ('A1', 'B2', 'C2'), x300 enable, x301 current setpoint
(u16, A). Words are big-endian. The published table has no Modbus watchdog, so the simulator adds
a fail-safe pair next to the setpoint: x302 fail-safe current (A), x303 timeout (s, 0 = off).
"""

from simulators.modbus._registers import Point, Table
from simulators.modbus._wallbox import ChargerDevice, CommandRegisters, Reading, per_phase

POINT_BASE = 1000  # charging point 1


def _at(offset: int, dtype: str, scale: float = 1.0, words: int = 0) -> Point:
    return Point(Table.HOLDING, POINT_BASE + offset, dtype, scale, words=words)


DEVICE_NAME = Point(Table.HOLDING, 100, "string", words=10)
SOFTWARE_VERSION = Point(Table.HOLDING, 110, "string", words=4)
CONTROLLER_COUNT = Point(Table.HOLDING, 114, "u16")
METER_TYPE = _at(112, "u16")
STATE_OF_CHARGE = _at(264, "u16")
EV_ID = _at(265, "string", words=10)
RFID = _at(275, "string", words=10)
IEC_STATE = _at(299, "u16")
ENABLE = _at(300, "u16")
CURRENT_SETPOINT = _at(301, "u16")
FAILSAFE_CURRENT = _at(302, "u16")
FAILSAFE_TIMEOUT = _at(303, "u16")
READINGS = (
    *per_phase(
        "voltage_v", (_at(232, "s32", 0.001), _at(234, "s32", 0.001), _at(236, "s32", 0.001))
    ),
    *per_phase(
        "current_a", (_at(238, "s32", 0.001), _at(240, "s32", 0.001), _at(242, "s32", 0.001))
    ),
    Reading(_at(244, "s32", 0.001), "active_power_w", truth="active_power_w"),
    Reading(_at(250, "s64"), "energy_import_wh", truth="energy_import_wh"),
    Reading(_at(287, "u32"), "session_time_s"),
    Reading(_at(289, "u32"), "session_energy_wh", truth="session_energy_wh"),
    # The setpoint reads back the current in force: the fail-safe one once it applies.
    Reading(CURRENT_SETPOINT, "applied_limit_a", truth="charge_current_limit_a"),
    Reading(FAILSAFE_CURRENT, "failsafe_current_a"),
    Reading(FAILSAFE_TIMEOUT, "failsafe_timeout_s"),
)
COMMANDS = CommandRegisters(
    enable=ENABLE.address,
    enable_value=1,
    failsafe_timeout=FAILSAFE_TIMEOUT.address,
    setpoint=CURRENT_SETPOINT.address,
    failsafe_current=FAILSAFE_CURRENT.address,
)

BLOCKS = tuple(
    (table, start, count)
    for table in (Table.HOLDING, Table.INPUT)
    for start, count in ((100, 20), (POINT_BASE + 100, 210))
)
DEFAULT_FAILSAFE_CURRENT_A = 6.0
METER_INTERNAL = 1


class PhoenixCharx(ChargerDevice):
    """A CHARX SEC-3100 controlling one charging point with its commuter's car."""

    model = "phoenix_charx"
    register_blocks = BLOCKS
    readings = READINGS
    commands = COMMANDS
    default_failsafe_current_a = DEFAULT_FAILSAFE_CURRENT_A
    default_failsafe_timeout_s = 0.0

    def _render(self, t: float) -> None:
        super()._render(t)
        self.show_text(DEVICE_NAME, "CHARX SEC-3100")
        self.show_text(SOFTWARE_VERSION, "1.6.3")
        self.show(CONTROLLER_COUNT, 1)
        self.show(METER_TYPE, METER_INTERNAL)
        self.show(STATE_OF_CHARGE, 0)
        self.show_text(EV_ID, "")
        self.show_text(RFID, "")
        state = self.charge_point.pilot_state(t).encode("ascii")  # the state's name, as ASCII
        self.show(IEC_STATE, state[0] << 8 | state[1])
        self.show(ENABLE, 1 if self.charge_point.enabled else 0)
        self.mirror_holding_to_input()
