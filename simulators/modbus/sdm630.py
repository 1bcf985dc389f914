"""Eastron SDM630 three-phase meter (SDM630-Modbus V2).

Register table: Eastron "SDM630 Modbus Protocol" (input registers, function 04, IEEE 754
float32, high word first; holding registers for setup, function 03), as published by Eastron
Europe and reproduced in peufeu2/GrugBus grugbus/devices/Eastron_SDM630.csv. Energies are in
kWh/kVArh, powers in W/VA/VAr, PF unitless, angles in degrees.
"""

from simulators.modbus._meter import Reading, RegisterMeter, per_phase
from simulators.modbus._registers import Point, Table


def _f32(address: int, scale: float = 1.0) -> Point:
    return Point(Table.INPUT, address, "f32", scale)


READINGS = (
    *per_phase("voltage_v", (_f32(0x0000), _f32(0x0002), _f32(0x0004))),
    *per_phase("current_a", (_f32(0x0006), _f32(0x0008), _f32(0x000A))),
    *per_phase("active_power_w", (_f32(0x000C), _f32(0x000E), _f32(0x0010))),
    *per_phase("apparent_power_va", (_f32(0x0012), _f32(0x0014), _f32(0x0016))),
    *per_phase("reactive_power_var", (_f32(0x0018), _f32(0x001A), _f32(0x001C))),
    *per_phase("power_factor", (_f32(0x001E), _f32(0x0020), _f32(0x0022))),
    *per_phase("phase_angle_deg", (_f32(0x0024), _f32(0x0026), _f32(0x0028)), truth=False),
    Reading(_f32(0x002A), "average_voltage_v", truth=False),
    Reading(_f32(0x002E), "average_current_a", truth=False),
    Reading(_f32(0x0030), "current_a"),
    Reading(_f32(0x0034), "active_power_w"),
    Reading(_f32(0x0038), "apparent_power_va"),
    Reading(_f32(0x003C), "reactive_power_var"),
    Reading(_f32(0x003E), "power_factor"),
    Reading(_f32(0x0042), "phase_angle_deg", truth=False),
    Reading(_f32(0x0046), "frequency_hz"),
    Reading(_f32(0x0048, 1000.0), "energy_import_wh"),
    Reading(_f32(0x004A, 1000.0), "energy_export_wh"),
    Reading(_f32(0x004C, 1000.0), "reactive_energy_import_varh"),
    Reading(_f32(0x004E, 1000.0), "reactive_energy_export_varh", truth=False),
    *per_phase("voltage_ll_v", (_f32(0x00C8), _f32(0x00CA), _f32(0x00CC))),
    Reading(_f32(0x00CE), "average_voltage_ll_v", truth=False),
    Reading(_f32(0x00E0), "neutral_current_a", truth=False),
    Reading(_f32(0x0156, 1000.0), "energy_total_wh", truth=False),
    Reading(_f32(0x0158, 1000.0), "reactive_energy_total_varh", truth=False),
    Reading(_f32(0x015A, 1000.0), "energy_import_per_phase_wh", truth=False),
    Reading(_f32(0x015C, 1000.0), "energy_import_per_phase_wh", truth=False),
    Reading(_f32(0x015E, 1000.0), "energy_import_per_phase_wh", truth=False),
)
# Setup (holding) registers, float32 as well.
SYSTEM_TYPE = Point(Table.HOLDING, 0x000A, "f32")  # 3 = three phase four wire
NODE_ADDRESS = Point(Table.HOLDING, 0x0014, "f32")
SERIAL_NUMBER = Point(Table.HOLDING, 0xFC00, "u32")

BLOCKS = (
    (Table.INPUT, 0x0000, 0x0180),
    (Table.HOLDING, 0x0000, 0x0030),
    (Table.HOLDING, 0xFC00, 0x0002),
)


class Sdm630(RegisterMeter):
    """The meter at a three-phase site's connection point."""

    model = "sdm630"
    phases = 3
    register_blocks = BLOCKS
    readings = READINGS

    def _render(self, t: float) -> None:
        super()._render(t)
        self.show(SYSTEM_TYPE, 3.0)
        self.show(NODE_ADDRESS, 1.0)
        self.show(SERIAL_NUMBER, 20_000_000 + self.seed % 1_000_000)
