"""KEBA KeContact P30 x-series wallbox over Modbus TCP.

Register table: KEBA "KeContact P30 Modbus TCP Programmers Guide" (V 1.04–1.07), as used by
evcc-io/evcc charger/keba-modbus.go: every reading is an unsigned 32-bit value in two holding
registers (function 03, high word first) that must be read on its own — a request for more or
other than exactly one value is refused; writes are single 16-bit registers (function 06) in
the 5000 range. Currents in mA, power in mW, energies in 0.1 Wh, voltages in V, PF in 0.1 %.
Fail-safe: 5016 sets the fail-safe current (mA), 5018 the timeout (s, 0 = off); without a write
within the timeout the station offers the fail-safe current.
"""

from simulators.modbus._registers import ModbusError, Point, Table
from simulators.modbus._wallbox import ChargerDevice, CommandRegisters, Reading, per_phase


def _u32(address: int, scale: float = 1.0) -> Point:
    return Point(Table.HOLDING, address, "u32", scale)


CHARGING_STATE = _u32(1000)
CABLE_STATE = _u32(1004)
ERROR_CODE = _u32(1006)
SERIAL_NUMBER = _u32(1014)
PRODUCT_TYPE = _u32(1016)
FIRMWARE = _u32(1018)
RFID_CARD = _u32(1500)
PHASE_SWITCH_SOURCE = _u32(1550)
PHASE_SWITCH_STATE = _u32(1552)
READINGS = (
    *per_phase("current_a", (_u32(1008, 0.001), _u32(1010, 0.001), _u32(1012, 0.001))),
    *per_phase("voltage_v", (_u32(1040), _u32(1042), _u32(1044))),
    Reading(_u32(1020, 0.001), "active_power_w", truth="active_power_w"),
    Reading(_u32(1036, 0.1), "energy_import_wh", truth="energy_import_wh"),
    Reading(_u32(1046, 0.001), "power_factor", truth="power_factor"),  # 0.1 % → ratio
    Reading(_u32(1100, 0.001), "offered_current_a", truth="charge_current_limit_a"),
    Reading(_u32(1110, 0.001), "device_max_a"),
    Reading(_u32(1502, 0.1), "session_energy_wh", truth="session_energy_wh"),
    Reading(_u32(1600, 0.001), "failsafe_current_a"),
    Reading(_u32(1602), "failsafe_timeout_s"),
)
_READABLE = frozenset(
    point.address
    for point in (
        CHARGING_STATE,
        CABLE_STATE,
        ERROR_CODE,
        SERIAL_NUMBER,
        PRODUCT_TYPE,
        FIRMWARE,
        RFID_CARD,
        PHASE_SWITCH_SOURCE,
        PHASE_SWITCH_STATE,
        *(reading.point for reading in READINGS),
    )
)

SET_CHARGING_CURRENT = 5004  # mA
SET_ENERGY = 5010  # 10 Wh
UNLOCK_PLUG = 5012
ENABLE_STATION = 5014  # 0 disable, 1 enable
SET_FAILSAFE_CURRENT = 5016  # mA
SET_FAILSAFE_TIMEOUT = 5018  # s
SET_FAILSAFE_PERSIST = 5020
COMMANDS = CommandRegisters(
    enable=ENABLE_STATION,
    enable_value=1,
    failsafe_timeout=SET_FAILSAFE_TIMEOUT,
    setpoint=SET_CHARGING_CURRENT,
    failsafe_current=SET_FAILSAFE_CURRENT,
    amps=lambda milliamps: milliamps / 1000.0,
    acknowledged=frozenset({SET_ENERGY, UNLOCK_PLUG, SET_FAILSAFE_PERSIST}),
)
PRODUCT_CODE = 321210  # P30 x-series, 3 phases 32 A, energy meter fitted, no RFID reader
# KEBA's fail-safe is off until configured; when enabled its usual fallback is 6 A.
DEFAULT_FAILSAFE_CURRENT_A = 6.0
STATE_CODES = {"A1": 1, "B1": 5, "B2": 2, "C2": 3}  # not ready, interrupted, ready, charging


class KebaP30(ChargerDevice):
    """One KeContact P30 x-series with its commuter's car."""

    model = "keba_p30"
    register_blocks = tuple((Table.HOLDING, address, 2) for address in sorted(_READABLE))
    readings = READINGS
    commands = COMMANDS
    default_failsafe_current_a = DEFAULT_FAILSAFE_CURRENT_A
    default_failsafe_timeout_s = 0.0

    def read(self, table: Table, address: int, count: int) -> list[int] | ModbusError:
        # One 32-bit value per request, exactly as the programmers guide demands.
        if table is not Table.HOLDING:
            return ModbusError.ILLEGAL_FUNCTION
        if count != 2 or address not in _READABLE:
            return ModbusError.ILLEGAL_ADDRESS
        return super().read(table, address, count)

    def _render(self, t: float) -> None:
        super()._render(t)
        self.show(CHARGING_STATE, STATE_CODES[self.charge_point.pilot_state(t)])
        self.show(CABLE_STATE, 7 if self.charge_point.connected else 0)
        self.show(ERROR_CODE, 0)
        self.show(SERIAL_NUMBER, 18_000_000 + self.seed % 1_000_000)
        self.show(PRODUCT_TYPE, PRODUCT_CODE)
        self.show(FIRMWARE, 0x01_0B_00)
        self.show(RFID_CARD, 0)
        self.show(PHASE_SWITCH_SOURCE, 0)
        self.show(PHASE_SWITCH_STATE, 1)
