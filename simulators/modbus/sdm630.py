"""Eastron SDM630 three-phase meter (SDM630-Modbus V2).

Register table: Eastron "SDM630 Modbus Protocol" (input registers, function 04, IEEE 754
float32, high word first; holding registers for setup, function 03), as published by Eastron
Europe and reproduced in peufeu2/GrugBus grugbus/devices/Eastron_SDM630.csv. Energies are in
kWh/kVArh, powers in W/VA/VAr, PF unitless, angles in degrees.
"""

import math
from collections.abc import Callable, Sequence

from simulators.modbus._device import PHASES, SimulatedDevice
from simulators.modbus._registers import Point, Table
from simulators.modbus._site import MeteredSite


def _f32(address: int, scale: float = 1.0) -> Point:
    return Point(Table.INPUT, address, "f32", scale)


VOLTAGE = (_f32(0x0000), _f32(0x0002), _f32(0x0004))
CURRENT = (_f32(0x0006), _f32(0x0008), _f32(0x000A))
POWER = (_f32(0x000C), _f32(0x000E), _f32(0x0010))
APPARENT = (_f32(0x0012), _f32(0x0014), _f32(0x0016))
REACTIVE = (_f32(0x0018), _f32(0x001A), _f32(0x001C))
POWER_FACTOR = (_f32(0x001E), _f32(0x0020), _f32(0x0022))
PHASE_ANGLE = (_f32(0x0024), _f32(0x0026), _f32(0x0028))
AVERAGE_VOLTAGE = _f32(0x002A)
AVERAGE_CURRENT = _f32(0x002E)
SUM_CURRENT = _f32(0x0030)
TOTAL_POWER = _f32(0x0034)
TOTAL_APPARENT = _f32(0x0038)
TOTAL_REACTIVE = _f32(0x003C)
TOTAL_POWER_FACTOR = _f32(0x003E)
TOTAL_PHASE_ANGLE = _f32(0x0042)
FREQUENCY = _f32(0x0046)
IMPORT_KWH = _f32(0x0048, 1000.0)
EXPORT_KWH = _f32(0x004A, 1000.0)
IMPORT_KVARH = _f32(0x004C, 1000.0)
EXPORT_KVARH = _f32(0x004E, 1000.0)
LINE_VOLTAGE = (_f32(0x00C8), _f32(0x00CA), _f32(0x00CC))
AVERAGE_LINE_VOLTAGE = _f32(0x00CE)
NEUTRAL_CURRENT = _f32(0x00E0)
TOTAL_KWH = _f32(0x0156, 1000.0)
TOTAL_KVARH = _f32(0x0158, 1000.0)
PHASE_IMPORT_KWH = (_f32(0x015A, 1000.0), _f32(0x015C, 1000.0), _f32(0x015E, 1000.0))
# Setup (holding) registers, float32 as well.
SYSTEM_TYPE = Point(Table.HOLDING, 0x000A, "f32")  # 3 = three phase four wire
NODE_ADDRESS = Point(Table.HOLDING, 0x0014, "f32")
SERIAL_NUMBER = Point(Table.HOLDING, 0xFC00, "u32")

BLOCKS = (
    (Table.INPUT, 0x0000, 0x0180),
    (Table.HOLDING, 0x0000, 0x0030),
    (Table.HOLDING, 0xFC00, 0x0002),
)


class Sdm630(MeteredSite, SimulatedDevice):
    """The meter at a three-phase site's connection point."""

    model = "sdm630"

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

    def _render(self, t: float) -> None:
        snapshot = self.site.snapshot(t)
        for index, (phase, values) in enumerate(zip(PHASES, snapshot.phases, strict=True)):
            self.show(VOLTAGE[index], values.voltage_v, ("voltage_v", phase))
            self.show(CURRENT[index], values.current_a, ("current_a", phase))
            self.show(POWER[index], values.active_power_w, ("active_power_w", phase))
            self.show(APPARENT[index], values.apparent_power_va, ("apparent_power_va", phase))
            self.show(REACTIVE[index], values.reactive_power_var, ("reactive_power_var", phase))
            self.show(POWER_FACTOR[index], values.power_factor, ("power_factor", phase))
            self.show(PHASE_ANGLE[index], snapshot.phase_angle_deg(index))
            line = snapshot.line_voltage_v(index, (index + 1) % 3)
            self.show(LINE_VOLTAGE[index], line, ("voltage_ll_v", phase))
        self.show(AVERAGE_VOLTAGE, snapshot.average_voltage_v)
        self.show(AVERAGE_CURRENT, snapshot.current_a / 3.0)
        self.show(SUM_CURRENT, snapshot.current_a, ("current_a", None))
        self.show(TOTAL_POWER, snapshot.active_power_w, ("active_power_w", None))
        self.show(TOTAL_APPARENT, snapshot.apparent_power_va, ("apparent_power_va", None))
        self.show(TOTAL_REACTIVE, snapshot.reactive_power_var, ("reactive_power_var", None))
        self.show(TOTAL_POWER_FACTOR, snapshot.power_factor, ("power_factor", None))
        self.show(TOTAL_PHASE_ANGLE, math.degrees(math.acos(min(1.0, abs(snapshot.power_factor)))))
        self.show(FREQUENCY, snapshot.frequency_hz, ("frequency_hz", None))
        counters = self.site.counters
        self.show(IMPORT_KWH, counters.import_wh, ("energy_import_wh", None))
        self.show(EXPORT_KWH, counters.export_wh, ("energy_export_wh", None))
        self.show(
            IMPORT_KVARH, counters.reactive_import_varh, ("reactive_energy_import_varh", None)
        )
        self.show(EXPORT_KVARH, 0.0)
        self.show(TOTAL_KWH, counters.import_wh + counters.export_wh)
        self.show(TOTAL_KVARH, counters.reactive_import_varh)
        for point in PHASE_IMPORT_KWH:  # the phases share the counter evenly over the years
            self.show(point, counters.import_wh / 3.0)
        line_voltages = [snapshot.line_voltage_v(i, (i + 1) % 3) for i in range(3)]
        self.show(AVERAGE_LINE_VOLTAGE, sum(line_voltages) / 3.0)
        self.show(NEUTRAL_CURRENT, snapshot.neutral_current_a)
        self.show(SYSTEM_TYPE, 3.0)
        self.show(NODE_ADDRESS, 1.0)
        self.show(SERIAL_NUMBER, 20_000_000 + self.seed % 1_000_000)
