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

from simulators.modbus._meter import Reading, RegisterMeter, Setting, per_phase
from simulators.modbus._registers import ModbusError, Point, Table

IDENTIFICATION_CODE = 1648  # EM24DINAV23XE1X
APPLICATION_H = 7


def _s32(address: int, scale: float) -> Point:
    return Point(Table.HOLDING, address, "s32", scale, low_word_first=True)


def _s16(address: int, scale: float) -> Point:
    return Point(Table.HOLDING, address, "s16", scale)


READINGS = (
    *per_phase("voltage_v", (_s32(0x0000, 0.1), _s32(0x0002, 0.1), _s32(0x0004, 0.1))),
    *per_phase("current_a", (_s32(0x000C, 0.001), _s32(0x000E, 0.001), _s32(0x0010, 0.001))),
    *per_phase("active_power_w", (_s32(0x0012, 0.1), _s32(0x0014, 0.1), _s32(0x0016, 0.1))),
    *per_phase("apparent_power_va", (_s32(0x0018, 0.1), _s32(0x001A, 0.1), _s32(0x001C, 0.1))),
    *per_phase("reactive_power_var", (_s32(0x001E, 0.1), _s32(0x0020, 0.1), _s32(0x0022, 0.1))),
    *per_phase("power_factor", (_s16(0x002E, 0.001), _s16(0x002F, 0.001), _s16(0x0030, 0.001))),
    *per_phase("voltage_ll_v", (_s32(0x0006, 0.1), _s32(0x0008, 0.1))),
    # V L3-L1 stays out of the truth: its high word doubles as the identification code (see
    # the module docstring), so readers do not rely on it.
    Reading(_s32(0x000A, 0.1), "voltage_ll_v", 2, truth=False),
    Reading(_s32(0x0024, 0.1), "average_voltage_v", truth=False),
    Reading(_s32(0x0026, 0.1), "average_voltage_ll_v", truth=False),
    Reading(_s32(0x0028, 0.1), "active_power_w"),
    Reading(_s32(0x002A, 0.1), "apparent_power_va"),
    Reading(_s32(0x002C, 0.1), "reactive_power_var"),
    Reading(_s16(0x0031, 0.001), "power_factor"),
    Reading(_s16(0x0033, 0.1), "frequency_hz"),
    Reading(_s32(0x0034, 100.0), "energy_import_wh"),  # kWh×10 → Wh
    Reading(_s32(0x004E, 100.0), "energy_export_wh"),
    Reading(_s32(0x0036, 100.0), "reactive_energy_import_varh"),
    Reading(_s32(0x0050, 100.0), "reactive_energy_export_varh", truth=False),
    Reading(_s32(0x0040, 100.0), "energy_import_per_phase_wh", truth=False),
    Reading(_s32(0x0042, 100.0), "energy_import_per_phase_wh", truth=False),
    Reading(_s32(0x0044, 100.0), "energy_import_per_phase_wh", truth=False),
)
PHASE_SEQUENCE = _s16(0x0032, 1.0)
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
SETTINGS = (Setting(PHASE_CONFIG, range(5), 0), Setting(APPLICATION, range(8), APPLICATION_H))


class Em24(RegisterMeter):
    """The meter at a three-phase site's connection point."""

    model = "em24"
    phases = 3
    register_blocks = BLOCKS
    readings = READINGS
    settings = SETTINGS

    def read(self, table: Table, address: int, count: int) -> list[int] | ModbusError:
        if address == IDENTIFICATION_ADDRESS and count == 1:
            return [IDENTIFICATION_CODE]  # table 2.6-1: a word read on its own
        return super().read(table, address, count)

    def _render(self, t: float) -> None:
        super()._render(t)
        self.show(PHASE_SEQUENCE, 0.0)
        self.show(HARDWARE_VERSION, 0x1000)
        self.show(FIRMWARE_VERSION, 0x1204)
        self.show(SWITCH_POSITION, 3.0)  # "Locked"
        self.show_text(SERIAL, f"BX{self.seed % 100_000:05d}0010")
        self.mirror_holding_to_input()
