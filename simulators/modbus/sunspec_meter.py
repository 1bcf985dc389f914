"""A three-phase wye meter speaking SunSpec: common model (1) and meter model 203.

Register table: SunSpec Alliance information models 1 and 203 "ac_meter_abcn" (the model JSON
shipped with pysunspec2), holding registers from 40000 ('SunS'), int16 points with scale
factors, acc32 energy counters in Wh, closed by the end model 0xFFFF. PF is in percent (Pct).
Positive W is power drawn by the site (import).
"""

from collections.abc import Callable, Sequence

from simulators.modbus._device import PHASES, SimulatedDevice
from simulators.modbus._site import MeteredSite
from simulators.modbus._sunspec import SunSpecDevice, SunSpecMap

COMMON, METER = 1, 203
SCALE_FACTORS = {
    (METER, "A_SF"): -1,
    (METER, "V_SF"): -1,
    (METER, "Hz_SF"): -2,
    (METER, "W_SF"): 1,
    (METER, "VA_SF"): 1,
    (METER, "VAR_SF"): 1,
    (METER, "PF_SF"): -1,
    (METER, "TotWh_SF"): 0,
    (METER, "TotVAh_SF"): 0,
    (METER, "TotVArh_SF"): 0,
}
LAYOUT = SunSpecMap((COMMON, METER))
_SUFFIX = ("phA", "phB", "phC")


class SunSpecMeter(MeteredSite, SunSpecDevice):
    """The SunSpec meter at a site's connection point."""

    model = "sunspec_meter"

    def __init__(
        self,
        *,
        now: Callable[[], float],
        load: str,
        seed: int,
        peak_w: float | None = None,
        behind_the_meter: Sequence[SimulatedDevice] = (),
    ) -> None:
        super().__init__(now=now, seed=seed, layout=LAYOUT, scale_factors=SCALE_FACTORS)
        self._measure_site(
            load=load, phases=3, seed=seed, peak_w=peak_w, behind_the_meter=behind_the_meter
        )

    def _render(self, t: float) -> None:
        self.show_string(COMMON, "Mn", "Hinode")
        self.show_string(COMMON, "Md", "HSM-3W")
        self.show_string(COMMON, "Vr", "2.1.0")
        self.show_string(COMMON, "SN", f"HSM{self.seed % 10_000_000:07d}")
        self.show_point(COMMON, "DA", 1)
        snapshot = self.site.snapshot(t)
        show = self.show_point
        for phase, suffix, values in zip(PHASES, _SUFFIX, snapshot.phases, strict=True):
            show(METER, f"A{suffix}", values.current_a, ("current_a", phase))
            show(METER, f"PhV{suffix}", values.voltage_v, ("voltage_v", phase))
            show(METER, f"W{suffix}", values.active_power_w, ("active_power_w", phase))
            show(METER, f"VA{suffix}", values.apparent_power_va, ("apparent_power_va", phase))
            show(METER, f"VAR{suffix}", values.reactive_power_var, ("reactive_power_var", phase))
            show(METER, f"PF{suffix}", values.power_factor, ("power_factor", phase), 0.01)
        line_voltages = [snapshot.line_voltage_v(i, (i + 1) % 3) for i in range(3)]
        for phase, name, line in zip(
            PHASES, ("PhVphAB", "PhVphBC", "PhVphCA"), line_voltages, strict=True
        ):
            show(METER, name, line, ("voltage_ll_v", phase))
        show(METER, "A", snapshot.current_a, ("current_a", None))
        show(METER, "PhV", snapshot.average_voltage_v)
        show(METER, "PPV", sum(line_voltages) / 3.0)
        show(METER, "Hz", snapshot.frequency_hz, ("frequency_hz", None))
        show(METER, "W", snapshot.active_power_w, ("active_power_w", None))
        show(METER, "VA", snapshot.apparent_power_va, ("apparent_power_va", None))
        show(METER, "VAR", snapshot.reactive_power_var, ("reactive_power_var", None))
        show(METER, "PF", snapshot.power_factor, ("power_factor", None), 0.01)
        counters = self.site.counters
        show(METER, "TotWhImp", counters.import_wh, ("energy_import_wh", None))
        show(METER, "TotWhExp", counters.export_wh, ("energy_export_wh", None))
        for suffix in ("PhA", "PhB", "PhC"):
            show(METER, f"TotWhImp{suffix}", counters.import_wh / 3.0)
            show(METER, f"TotWhExp{suffix}", counters.export_wh / 3.0)
        show(
            METER,
            "TotVArhImpQ1",
            counters.reactive_import_varh,
            ("reactive_energy_import_varh", None),
        )
        show(METER, "Evt", 0)
