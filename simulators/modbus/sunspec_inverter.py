"""A three-phase PV inverter speaking SunSpec: models 1, 103, 120 and 121.

Register table: SunSpec Alliance information models 1, 103, 120 and 121 (SunSpec Information
Model Reference; the model JSON shipped with pysunspec2), holding registers from 40000 ('SunS'),
integer points with scale factors, closed by the end model 0xFFFF. Power factors are in percent
(Pct) per the models; the settings model's WMax is writable and caps the output.
"""

import math
from collections.abc import Callable

from simulators.modbus._device import PHASES, PhaseExchange
from simulators.modbus._electrics import grid_frequency_hz, grid_voltage_v, phase_values
from simulators.modbus._noise import unit_hash
from simulators.modbus._registers import ModbusError
from simulators.modbus._sun import clear_sky_irradiance_w_m2, pv_ac_power_w, solar_elevation_deg
from simulators.modbus._sunspec import SunSpecDevice, SunSpecMap

COMMON, INVERTER, NAMEPLATE, SETTINGS = 1, 103, 120, 121
RATED_W = 10_000.0
RATED_A = 16.0
#: With W_SF 0 the int16 power points (W, VA, DCW) hold at most 32767 W: larger plants would
#: need other scale factors, so the rating stops here.
MAX_RATED_W = 30_000.0
START_UP_W = 20.0  # below this the inverter does not feed in

# SunSpec operating states (model 103 St).
ST_SLEEPING, ST_STARTING, ST_MPPT, ST_THROTTLED = 2, 3, 4, 5

SCALE_FACTORS = {
    (INVERTER, "A_SF"): -2,
    (INVERTER, "V_SF"): -1,
    (INVERTER, "W_SF"): 0,
    (INVERTER, "Hz_SF"): -2,
    (INVERTER, "VA_SF"): 0,
    (INVERTER, "VAr_SF"): 0,
    (INVERTER, "PF_SF"): -1,
    (INVERTER, "WH_SF"): 0,
    (INVERTER, "DCA_SF"): -2,
    (INVERTER, "DCV_SF"): -1,
    (INVERTER, "DCW_SF"): 0,
    (INVERTER, "Tmp_SF"): -1,
    (NAMEPLATE, "WRtg_SF"): 0,
    (NAMEPLATE, "VARtg_SF"): 0,
    (NAMEPLATE, "VArRtg_SF"): 0,
    (NAMEPLATE, "ARtg_SF"): -1,
    (NAMEPLATE, "PFRtg_SF"): -1,
    (SETTINGS, "WMax_SF"): 0,
    (SETTINGS, "VRef_SF"): 0,
    (SETTINGS, "VRefOfs_SF"): 0,
    (SETTINGS, "VMinMax_SF"): 0,
    (SETTINGS, "VAMax_SF"): 0,
    (SETTINGS, "VArMax_SF"): 0,
    (SETTINGS, "ECPNomHz_SF"): -2,
}
LAYOUT = SunSpecMap((COMMON, INVERTER, NAMEPLATE, SETTINGS))


def efficiency(load_share: float) -> float:
    """Conversion efficiency over the load range (poor at a few percent, ~97 % above 20 %)."""
    return 0.97 - 0.10 * math.exp(-load_share / 0.05)


class SunSpecInverter(SunSpecDevice):
    """A rooftop or car-port PV inverter (10 kW unless rated otherwise) on three phases."""

    model = "sunspec_inverter"

    def __init__(self, *, now: Callable[[], float], seed: int, rated_w: float = RATED_W) -> None:
        super().__init__(now=now, seed=seed, layout=LAYOUT, scale_factors=SCALE_FACTORS)
        self.rated_w = rated_w
        self.rated_a = RATED_A * rated_w / RATED_W
        self.w_max = rated_w
        # A few years of production already on the lifetime counter.
        self.energy_wh = rated_w * (2000.0 + 3000.0 * unit_hash(seed, 0xE4E))
        self._last_power_w = self.ac_power_w(self.time)
        self._wmax_address = LAYOUT.point(SETTINGS, "WMax").address

    def available_power_w(self, t: float) -> float:
        """What the array could deliver at *t* without the WMax cap."""
        return pv_ac_power_w(t, self.rated_w, self.seed)

    def ac_power_w(self, t: float) -> float:
        """AC output at *t*."""
        return min(self.available_power_w(t), self.w_max)

    def fed_in_w(self, t: float) -> float:
        """What reaches the grid at *t*: nothing below the start-up threshold."""
        power = self.ac_power_w(t)
        return power if power >= START_UP_W else 0.0

    def forecast_power_w(self, t: float) -> float:
        return self.fed_in_w(t)

    def ac_exchange(self, t: float) -> tuple[PhaseExchange, PhaseExchange, PhaseExchange]:
        per_phase = -self.fed_in_w(t) / 3.0  # a source: negative draw, at unity power factor
        return ((per_phase, 0.0), (per_phase, 0.0), (per_phase, 0.0))

    def _advance(self, start: float, end: float) -> None:
        end_power = self.ac_power_w(end)
        self.energy_wh += (self._last_power_w + end_power) / 2.0 * (end - start) / 3600.0
        self._last_power_w = end_power

    def _write(self, address: int, values: list[int]) -> ModbusError | None:
        if address != self._wmax_address or len(values) != 1:
            return ModbusError.ILLEGAL_ADDRESS
        if values[0] > self.rated_w:
            return ModbusError.ILLEGAL_VALUE
        self.w_max = float(values[0])  # WMax_SF is 0: whole watts
        self._last_power_w = self.ac_power_w(self.time)
        return None

    def _operating_state(self, t: float, power_w: float) -> int:
        if solar_elevation_deg(t) <= 0.0:
            return ST_SLEEPING
        if power_w < START_UP_W:
            return ST_STARTING
        return ST_THROTTLED if self.available_power_w(t) > self.w_max else ST_MPPT

    def _render(self, t: float) -> None:
        power = self.fed_in_w(t)
        frequency = grid_frequency_hz(t)
        phases = [
            phase_values(grid_voltage_v(self.seed, t, index), power / 3.0, 1.0)
            for index in range(3)
        ]
        self._render_common()
        show = self.show_point
        for phase, values, name in zip(PHASES, phases, ("AphA", "AphB", "AphC"), strict=True):
            show(INVERTER, name, values.current_a, ("current_a", phase))
        show(INVERTER, "A", sum(values.current_a for values in phases), ("current_a", None))
        for phase, values, name in zip(PHASES, phases, ("PhVphA", "PhVphB", "PhVphC"), strict=True):
            show(INVERTER, name, values.voltage_v, ("voltage_v", phase))
        for index, name in enumerate(("PPVphAB", "PPVphBC", "PPVphCA")):
            a, b = phases[index].voltage_v, phases[(index + 1) % 3].voltage_v
            show(INVERTER, name, math.sqrt(a * a + b * b + a * b), ("voltage_ll_v", PHASES[index]))
        show(INVERTER, "W", power, ("active_power_w", None))
        show(INVERTER, "Hz", frequency, ("frequency_hz", None))
        show(INVERTER, "VA", power, ("apparent_power_va", None))
        show(INVERTER, "VAr", 0.0, ("reactive_power_var", None))
        show(INVERTER, "PF", 1.0, ("power_factor", None), unit_scale=0.01)
        show(INVERTER, "WH", self.energy_wh, ("energy_export_wh", None))
        load_share = power / self.rated_w
        dc_power = power / efficiency(load_share) if power > 0 else 0.0
        irradiance = clear_sky_irradiance_w_m2(solar_elevation_deg(t))
        dc_voltage = 0.0 if irradiance <= 0 else 540.0 + 80.0 * min(1.0, irradiance / 150.0)
        dc_current = dc_power / dc_voltage if dc_voltage > 0 else 0.0
        show(INVERTER, "DCA", dc_current, ("dc_current_a", None))
        show(INVERTER, "DCV", dc_voltage, ("dc_voltage_v", None))
        show(INVERTER, "DCW", dc_power, ("dc_power_w", None))
        show(INVERTER, "TmpCab", 18.0 + 22.0 * load_share, ("temperature_c", None))
        show(INVERTER, "TmpSnk", 18.0 + 35.0 * load_share)
        show(INVERTER, "St", self._operating_state(t, power), ("operating_state", None))
        show(INVERTER, "Evt1", 0)
        show(INVERTER, "Evt2", 0)
        show(SETTINGS, "WMax", self.w_max)

    def _render_common(self) -> None:
        self.show_string(COMMON, "Mn", "Hinode")
        self.show_string(COMMON, "Md", "HSI-10K3")
        self.show_string(COMMON, "Vr", "1.2.0")
        self.show_string(COMMON, "SN", f"HSI{self.seed % 10_000_000:07d}")
        self.show_point(COMMON, "DA", 1)
        show = self.show_point
        show(NAMEPLATE, "DERTyp", 4)  # PV
        show(NAMEPLATE, "WRtg", self.rated_w)
        show(NAMEPLATE, "VARtg", self.rated_w)
        for quadrant, limit in zip(
            ("Q1", "Q2", "Q3", "Q4"), (4400, 4400, -4400, -4400), strict=True
        ):
            show(NAMEPLATE, f"VArRtg{quadrant}", limit)
            show(NAMEPLATE, f"PFRtg{quadrant}", 0.8 if limit > 0 else -0.8, unit_scale=0.01)
        show(NAMEPLATE, "ARtg", self.rated_a)
        show(SETTINGS, "VRef", 230)
        show(SETTINGS, "VRefOfs", 0)
        show(SETTINGS, "VMax", 253)
        show(SETTINGS, "VMin", 196)
        show(SETTINGS, "VAMax", self.rated_w)
        show(SETTINGS, "ECPNomHz", 60.0)
        show(SETTINGS, "ConnPh", 3)
