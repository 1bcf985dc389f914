"""Eastron SDM120 single-phase meter (SDM120-Modbus).

Register table: Eastron "SDM120 Modbus Protocol" (input registers, function 04, IEEE 754
float32, high word first; holding registers for setup), as reproduced in peufeu2/GrugBus
grugbus/devices/Eastron_SDM120.csv. Energies in kWh/kVArh.
"""

from collections.abc import Callable, Sequence

from simulators.modbus._device import SimulatedDevice
from simulators.modbus._registers import Point, Table
from simulators.modbus._site import MeteredSite


def _f32(address: int, scale: float = 1.0) -> Point:
    return Point(Table.INPUT, address, "f32", scale)


VOLTAGE = _f32(0x0000)
CURRENT = _f32(0x0006)
POWER = _f32(0x000C)
APPARENT = _f32(0x0012)
REACTIVE = _f32(0x0018)
POWER_FACTOR = _f32(0x001E)
PHASE_ANGLE = _f32(0x0024)
FREQUENCY = _f32(0x0046)
IMPORT_KWH = _f32(0x0048, 1000.0)
EXPORT_KWH = _f32(0x004A, 1000.0)
IMPORT_KVARH = _f32(0x004C, 1000.0)
EXPORT_KVARH = _f32(0x004E, 1000.0)
TOTAL_KWH = _f32(0x0156, 1000.0)
TOTAL_KVARH = _f32(0x0158, 1000.0)
NODE_ADDRESS = Point(Table.HOLDING, 0x0014, "f32")

BLOCKS = ((Table.INPUT, 0x0000, 0x0160), (Table.HOLDING, 0x0000, 0x0020))


class Sdm120(MeteredSite, SimulatedDevice):
    """The meter of a single-phase circuit (a home, or one sub-circuit of a site)."""

    model = "sdm120"

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
            load=load, phases=1, seed=seed, peak_w=peak_w, behind_the_meter=behind_the_meter
        )

    def _render(self, t: float) -> None:
        snapshot = self.site.snapshot(t)
        (values,) = snapshot.phases
        self.show(VOLTAGE, values.voltage_v, ("voltage_v", None))
        self.show(CURRENT, values.current_a, ("current_a", None))
        self.show(POWER, values.active_power_w, ("active_power_w", None))
        self.show(APPARENT, values.apparent_power_va, ("apparent_power_va", None))
        self.show(REACTIVE, values.reactive_power_var, ("reactive_power_var", None))
        self.show(POWER_FACTOR, values.power_factor, ("power_factor", None))
        self.show(PHASE_ANGLE, snapshot.phase_angle_deg(0))
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
        self.show(NODE_ADDRESS, 1.0)
