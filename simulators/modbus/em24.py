"""Carlo Gavazzi EM24 DIN three-phase meter (EM24DINAV23XE1X, Ethernet/RS-485 variants).

Register table: Carlo Gavazzi "EM24-DIN Communication Protocol", tables 2.3-1 (instantaneous
variables and meters, functions 03 and 04 alike) and 2.6-1 (identification code), with the
EM24 Ethernet meters' energy registers (0x0040-0x0050) and info registers (phase configuration
0x1002, versions 0x0302/0x0304, serial 0x5000, application 0xA000) as read by
victronenergy/dbus-modbus-client carlo_gavazzi.py. INT32 values put the least significant
word first; fixed weights V×10, A×1000, W/VA/var×10, kWh/kvarh×10, INT16 PF×1000 and Hz×10.
The identification code (1648) answers a one-word read of 0x000B, the register that otherwise
holds the high word of V L3-L1 ("limited to a word at a time" in the protocol). The later
"PFA, PFB & X models" protocol moves the registers after 0x002D; it is not simulated.
"""

from collections.abc import Callable, Sequence

from simulators.modbus._device import PHASES, SimulatedDevice
from simulators.modbus._registers import ModbusError, Point, Table
from simulators.modbus._site import MeteredSite

IDENTIFICATION_CODE = 1648  # EM24DINAV23XE1X
APPLICATION_H = 7


def _s32(address: int, scale: float) -> Point:
    return Point(Table.HOLDING, address, "s32", scale, low_word_first=True)


def _s16(address: int, scale: float) -> Point:
    return Point(Table.HOLDING, address, "s16", scale)


VOLTAGE = (_s32(0x0000, 0.1), _s32(0x0002, 0.1), _s32(0x0004, 0.1))
LINE_VOLTAGE = (_s32(0x0006, 0.1), _s32(0x0008, 0.1), _s32(0x000A, 0.1))
CURRENT = (_s32(0x000C, 0.001), _s32(0x000E, 0.001), _s32(0x0010, 0.001))
POWER = (_s32(0x0012, 0.1), _s32(0x0014, 0.1), _s32(0x0016, 0.1))
APPARENT = (_s32(0x0018, 0.1), _s32(0x001A, 0.1), _s32(0x001C, 0.1))
REACTIVE = (_s32(0x001E, 0.1), _s32(0x0020, 0.1), _s32(0x0022, 0.1))
SYSTEM_VOLTAGE = _s32(0x0024, 0.1)
SYSTEM_LINE_VOLTAGE = _s32(0x0026, 0.1)
SYSTEM_POWER = _s32(0x0028, 0.1)
SYSTEM_APPARENT = _s32(0x002A, 0.1)
SYSTEM_REACTIVE = _s32(0x002C, 0.1)
POWER_FACTOR = (_s16(0x002E, 0.001), _s16(0x002F, 0.001), _s16(0x0030, 0.001))
SYSTEM_POWER_FACTOR = _s16(0x0031, 0.001)
PHASE_SEQUENCE = _s16(0x0032, 1.0)
FREQUENCY = _s16(0x0033, 0.1)
IMPORT_KWH = _s32(0x0034, 100.0)  # kWh×10 → Wh
IMPORT_KVARH = _s32(0x0036, 100.0)
PHASE_IMPORT_KWH = (_s32(0x0040, 100.0), _s32(0x0042, 100.0), _s32(0x0044, 100.0))
EXPORT_KWH = _s32(0x004E, 100.0)
EXPORT_KVARH = _s32(0x0050, 100.0)
IDENTIFICATION_ADDRESS = 0x000B
HARDWARE_VERSION = Point(Table.HOLDING, 0x0302, "u16")
FIRMWARE_VERSION = Point(Table.HOLDING, 0x0304, "u16")
PHASE_CONFIG = Point(Table.HOLDING, 0x1002, "u16")  # 0 = 3P.n
SERIAL = Point(Table.HOLDING, 0x5000, "string", words=7)
APPLICATION = Point(Table.HOLDING, 0xA000, "u16")
SWITCH_POSITION = Point(Table.HOLDING, 0xA100, "u16")

BLOCKS = tuple(
    (table, start, count)
    for table in (Table.HOLDING, Table.INPUT)
    for start, count in (
        (0x0000, 0x0058),
        (0x0300, 0x0006),
        (0x1002, 0x0001),
        (0x5000, 0x0007),
        (0xA000, 0x0001),
        (0xA100, 0x0001),
    )
)
_WRITABLE = {PHASE_CONFIG.address: range(5), APPLICATION.address: range(8)}


class Em24(MeteredSite, SimulatedDevice):
    """The meter at a three-phase site's connection point."""

    model = "em24"

    def __init__(
        self,
        *,
        now: Callable[[], float],
        load: str,
        seed: int,
        peak_w: float | None = None,
        behind_the_meter: Sequence[SimulatedDevice] = (),
    ) -> None:
        super().__init__(now=now, seed=seed, blocks=BLOCKS)
        self._measure_site(
            load=load, phases=3, seed=seed, peak_w=peak_w, behind_the_meter=behind_the_meter
        )
        self._settings = {PHASE_CONFIG.address: 0, APPLICATION.address: APPLICATION_H}

    def read(self, table: Table, address: int, count: int) -> list[int] | ModbusError:
        if address == IDENTIFICATION_ADDRESS and count == 1:
            return [IDENTIFICATION_CODE]  # table 2.6-1: a word read on its own
        return super().read(table, address, count)

    def _write(self, address: int, values: list[int]) -> ModbusError | None:
        if len(values) != 1 or address not in _WRITABLE:
            return ModbusError.ILLEGAL_ADDRESS
        if values[0] not in _WRITABLE[address]:
            return ModbusError.ILLEGAL_VALUE
        self._settings[address] = values[0]
        return None

    def _render(self, t: float) -> None:
        snapshot = self.site.snapshot(t)
        for index, (phase, values) in enumerate(zip(PHASES, snapshot.phases, strict=True)):
            self.show(VOLTAGE[index], values.voltage_v, ("voltage_v", phase))
            self.show(CURRENT[index], values.current_a, ("current_a", phase))
            self.show(POWER[index], values.active_power_w, ("active_power_w", phase))
            self.show(APPARENT[index], values.apparent_power_va, ("apparent_power_va", phase))
            self.show(REACTIVE[index], values.reactive_power_var, ("reactive_power_var", phase))
            self.show(POWER_FACTOR[index], values.power_factor, ("power_factor", phase))
        for index, point in enumerate(LINE_VOLTAGE):
            line = snapshot.line_voltage_v(index, (index + 1) % 3)
            # V L3-L1 stays out of the truth: its high word doubles as the identification code
            # (see the module docstring), so readers do not rely on it.
            key = ("voltage_ll_v", PHASES[index]) if index < 2 else None
            self.show(point, line, key)
        line_voltages = [snapshot.line_voltage_v(i, (i + 1) % 3) for i in range(3)]
        self.show(SYSTEM_VOLTAGE, snapshot.average_voltage_v)
        self.show(SYSTEM_LINE_VOLTAGE, sum(line_voltages) / 3.0)
        self.show(SYSTEM_POWER, snapshot.active_power_w, ("active_power_w", None))
        self.show(SYSTEM_APPARENT, snapshot.apparent_power_va, ("apparent_power_va", None))
        self.show(SYSTEM_REACTIVE, snapshot.reactive_power_var, ("reactive_power_var", None))
        self.show(SYSTEM_POWER_FACTOR, snapshot.power_factor, ("power_factor", None))
        self.show(PHASE_SEQUENCE, 0.0)
        self.show(FREQUENCY, snapshot.frequency_hz, ("frequency_hz", None))
        counters = self.site.counters
        self.show(IMPORT_KWH, counters.import_wh, ("energy_import_wh", None))
        self.show(EXPORT_KWH, counters.export_wh, ("energy_export_wh", None))
        self.show(
            IMPORT_KVARH, counters.reactive_import_varh, ("reactive_energy_import_varh", None)
        )
        self.show(EXPORT_KVARH, 0.0)
        for point in PHASE_IMPORT_KWH:
            self.show(point, counters.import_wh / 3.0)
        self.show(HARDWARE_VERSION, 0x1000)
        self.show(FIRMWARE_VERSION, 0x1204)
        self.show(PHASE_CONFIG, self._settings[PHASE_CONFIG.address])
        self.show(APPLICATION, self._settings[APPLICATION.address])
        self.show(SWITCH_POSITION, 3.0)  # "Locked"
        self.show_text(SERIAL, f"BX{self.seed % 100_000:05d}0010")
        self.mirror_holding_to_input()
