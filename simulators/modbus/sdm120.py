"""Eastron SDM120 single-phase meter (SDM120-Modbus).

Register table: Eastron "SDM120 Modbus Protocol" (input registers, function 04, IEEE 754
float32, high word first; holding registers for setup), as reproduced in peufeu2/GrugBus
grugbus/devices/Eastron_SDM120.csv. Energies in kWh/kVArh.
"""

from simulators.modbus._meter import Reading, RegisterMeter
from simulators.modbus._registers import Point, Table


def _f32(address: int, scale: float = 1.0) -> Point:
    return Point(Table.INPUT, address, "f32", scale)


# The one phase's registers are the meter's totals (phase index 0, reported without a phase).
READINGS = (
    Reading(_f32(0x0000), "voltage_v", 0),
    Reading(_f32(0x0006), "current_a", 0),
    Reading(_f32(0x000C), "active_power_w", 0),
    Reading(_f32(0x0012), "apparent_power_va", 0),
    Reading(_f32(0x0018), "reactive_power_var", 0),
    Reading(_f32(0x001E), "power_factor", 0),
    Reading(_f32(0x0024), "phase_angle_deg", 0, truth=False),
    Reading(_f32(0x0046), "frequency_hz"),
    Reading(_f32(0x0048, 1000.0), "energy_import_wh"),
    Reading(_f32(0x004A, 1000.0), "energy_export_wh"),
    Reading(_f32(0x004C, 1000.0), "reactive_energy_import_varh"),
    Reading(_f32(0x004E, 1000.0), "reactive_energy_export_varh", truth=False),
    Reading(_f32(0x0156, 1000.0), "energy_total_wh", truth=False),
    Reading(_f32(0x0158, 1000.0), "reactive_energy_total_varh", truth=False),
)
NODE_ADDRESS = Point(Table.HOLDING, 0x0014, "f32")

BLOCKS = ((Table.INPUT, 0x0000, 0x0160), (Table.HOLDING, 0x0000, 0x0020))


class Sdm120(RegisterMeter):
    """The meter of a single-phase circuit (a home, or one sub-circuit of a site)."""

    model = "sdm120"
    phases = 1
    register_blocks = BLOCKS
    readings = READINGS

    def _render(self, t: float) -> None:
        super()._render(t)
        self.show(NODE_ADDRESS, 1.0)
