"""KEBA KeContact P30 x-series wallbox over Modbus TCP.

Register table: KEBA "KeContact P30 Modbus TCP Programmers Guide" (V 1.04–1.07), as used by
evcc-io/evcc charger/keba-modbus.go: every reading is an unsigned 32-bit value in two holding
registers (function 03, high word first) that must be read on its own — a request for more or
other than exactly one value is refused; writes are single 16-bit registers (function 06) in
the 5000 range. Currents in mA, power in mW, energies in 0.1 Wh, voltages in V, PF in 0.1 %.
Fail-safe: 5016 sets the fail-safe current (mA), 5018 the timeout (s, 0 = off); without a write
within the timeout the station offers the fail-safe current.
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


CHARGING_STATE = _u32(1000)
CABLE_STATE = _u32(1004)
ERROR_CODE = _u32(1006)
CURRENT = (_u32(1008, 0.001), _u32(1010, 0.001), _u32(1012, 0.001))
SERIAL_NUMBER = _u32(1014)
PRODUCT_TYPE = _u32(1016)
FIRMWARE = _u32(1018)
ACTIVE_POWER = _u32(1020, 0.001)
TOTAL_ENERGY = _u32(1036, 0.1)
VOLTAGE = (_u32(1040), _u32(1042), _u32(1044))
POWER_FACTOR = _u32(1046, 0.001)  # 0.1 % → ratio
MAX_CHARGING_CURRENT = _u32(1100, 0.001)
MAX_SUPPORTED_CURRENT = _u32(1110, 0.001)
RFID_CARD = _u32(1500)
SESSION_ENERGY = _u32(1502, 0.1)
PHASE_SWITCH_SOURCE = _u32(1550)
PHASE_SWITCH_STATE = _u32(1552)
FAILSAFE_CURRENT = _u32(1600, 0.001)
FAILSAFE_TIMEOUT = _u32(1602)
READINGS = (
    CHARGING_STATE,
    CABLE_STATE,
    ERROR_CODE,
    *CURRENT,
    SERIAL_NUMBER,
    PRODUCT_TYPE,
    FIRMWARE,
    ACTIVE_POWER,
    TOTAL_ENERGY,
    *VOLTAGE,
    POWER_FACTOR,
    MAX_CHARGING_CURRENT,
    MAX_SUPPORTED_CURRENT,
    RFID_CARD,
    SESSION_ENERGY,
    PHASE_SWITCH_SOURCE,
    PHASE_SWITCH_STATE,
    FAILSAFE_CURRENT,
    FAILSAFE_TIMEOUT,
)
_READABLE = frozenset(point.address for point in READINGS)

SET_CHARGING_CURRENT = 5004  # mA
SET_ENERGY = 5010  # 10 Wh
UNLOCK_PLUG = 5012
ENABLE_STATION = 5014  # 0 disable, 1 enable
SET_FAILSAFE_CURRENT = 5016  # mA
SET_FAILSAFE_TIMEOUT = 5018  # s
SET_FAILSAFE_PERSIST = 5020
PRODUCT_CODE = 321210  # P30 x-series, 3 phases 32 A, energy meter fitted, no RFID reader
# KEBA's fail-safe is off until configured; when enabled its usual fallback is 6 A.
DEFAULT_FAILSAFE_CURRENT_A = 6.0
_CHARGING, _READY, _NOT_READY, _INTERRUPTED = 3, 2, 1, 5


class KebaP30(SimulatedDevice):
    """One KeContact P30 x-series with its commuter's car."""

    model = "keba_p30"
    max_step_s = STATEFUL_STEP_S

    def __init__(self, *, now: Callable[[], float], seed: int, unit_max_current_a: float) -> None:
        blocks = [(Table.HOLDING, address, 2) for address in sorted(_READABLE)]
        super().__init__(now=now, seed=seed, blocks=blocks)
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

    def read(self, table: Table, address: int, count: int) -> list[int] | ModbusError:
        # One 32-bit value per request, exactly as the programmers guide demands.
        if table is not Table.HOLDING:
            return ModbusError.ILLEGAL_FUNCTION
        if count != 2 or address not in _READABLE:
            return ModbusError.ILLEGAL_ADDRESS
        return super().read(table, address, count)

    def _write(self, address: int, values: list[int]) -> ModbusError | None:
        if len(values) != 1:
            return ModbusError.ILLEGAL_ADDRESS
        value, point = values[0], self.charge_point
        if address in (SET_CHARGING_CURRENT, SET_FAILSAFE_CURRENT):
            amps = value / 1000.0
            if not accepted_limit(amps, point.device_max_a):
                return ModbusError.ILLEGAL_VALUE
            if address == SET_CHARGING_CURRENT:
                point.command(amps, self.time)
                return None
            point.failsafe_current_a = amps
        elif address == SET_FAILSAFE_TIMEOUT:
            point.failsafe_timeout_s = float(value)
        elif address == ENABLE_STATION:
            if value not in (0, 1):
                return ModbusError.ILLEGAL_VALUE
            point.enabled = value == 1
        elif address not in (SET_ENERGY, UNLOCK_PLUG, SET_FAILSAFE_PERSIST):
            return ModbusError.ILLEGAL_ADDRESS
        point.heartbeat(self.time)  # every write feeds the fail-safe watchdog
        return None

    def _charging_state_code(self, t: float) -> int:
        point = self.charge_point
        state = point.state(t)
        if state == STATE_C:
            return _CHARGING
        if state == STATE_A:
            return _NOT_READY
        return _INTERRUPTED if point.offered_current_a(t) == 0 else _READY

    def _render(self, t: float) -> None:
        point = self.charge_point
        self.show(CHARGING_STATE, self._charging_state_code(t))
        self.show(CABLE_STATE, 7 if point.connected else 0)
        self.show(ERROR_CODE, 0)
        currents, voltages = point.phase_currents_a(t), point.voltages_v(t)
        for index, phase in enumerate(PHASES):
            self.show(CURRENT[index], currents[index], ("current_a", phase))
            self.show(VOLTAGE[index], voltages[index], ("voltage_v", phase))
        self.show(SERIAL_NUMBER, 18_000_000 + self.seed % 1_000_000)
        self.show(PRODUCT_TYPE, PRODUCT_CODE)
        self.show(FIRMWARE, 0x01_0B_00)
        self.show(ACTIVE_POWER, sum(point.phase_powers_w(t)), ("active_power_w", None))
        self.show(TOTAL_ENERGY, point.total_energy_wh, ("energy_import_wh", None))
        self.show(POWER_FACTOR, 0.99 if currents[0] > 0 else 0.0, ("power_factor", None))
        self.show(
            MAX_CHARGING_CURRENT, point.offered_current_a(t), ("charge_current_limit_a", None)
        )
        self.show(MAX_SUPPORTED_CURRENT, point.device_max_a)
        self.show(RFID_CARD, 0)
        self.show(SESSION_ENERGY, point.session_energy_wh, ("session_energy_wh", None))
        self.show(PHASE_SWITCH_SOURCE, 0)
        self.show(PHASE_SWITCH_STATE, 1)
        self.show(FAILSAFE_CURRENT, point.failsafe_current_a)
        self.show(FAILSAFE_TIMEOUT, point.failsafe_timeout_s)
        self.record(("charger_state", None), float(point.state(t)))
