"""A metered site: its demand curve as AC quantities over the phases, with integrated counters."""

import math

from simulators.modbus._electrics import AcSnapshot, EnergyCounters, split_power
from simulators.modbus._loads import LoadCurve
from simulators.modbus._noise import smooth, unit_hash

# Peak demand per kind of site, in watts: a small factory, a family home, a ward office or
# community centre on a three-phase connection; on one phase, a whole home (Japanese homes are
# single-phase) or one sub-circuit of a factory or public building.
THREE_PHASE_PEAK_W = {"factory": 45_000.0, "home": 6_000.0, "public": 30_000.0}
SINGLE_PHASE_PEAK_W = {"factory": 8_000.0, "home": 3_500.0, "public": 6_000.0}
# Typical displacement power factor of each kind of load (motors lag most).
POWER_FACTOR = {"factory": 0.86, "home": 0.96, "public": 0.92}
# Years of prior consumption already on a counter when the simulation starts, in hours of peak.
_HISTORY_PEAK_HOURS = (1500.0, 4000.0)


class SiteDemand:
    """What a meter at the connection point of one site measures."""

    def __init__(self, *, load: str, phases: int, seed: int, start: float) -> None:
        peak = SINGLE_PHASE_PEAK_W[load] if phases == 1 else THREE_PHASE_PEAK_W[load]
        self.curve = LoadCurve(kind=load, peak_w=peak, seed=seed)
        self.phases = phases
        self.seed = seed
        self._base_pf = POWER_FACTOR[load]
        low, high = _HISTORY_PEAK_HOURS
        history_h = low + (high - low) * unit_hash(seed, 0x4157)
        self.counters = EnergyCounters(
            import_wh=peak * history_h * 0.4, reactive_import_varh=peak * history_h * 0.15
        )
        self._last_power_w = self.curve.power_w(start)

    def power_factor(self, t: float) -> float:
        """Displacement power factor, wandering a little around the load's typical value."""
        return min(0.999, self._base_pf + (smooth(self.seed, t, 1200.0, stream=0x9F) - 0.5) * 0.06)

    def snapshot(self, t: float) -> AcSnapshot:
        """Per-phase quantities at *t*."""
        return split_power(self.seed, t, self.curve.power_w(t), self.power_factor(t), self.phases)

    def advance(self, start: float, end: float) -> None:
        """Integrate the counters from *start* to *end*."""
        end_power = self.curve.power_w(end)
        power_factor = self.power_factor(end)
        reactive = end_power * math.sqrt(1.0 - power_factor * power_factor) / power_factor
        self.counters.integrate(self._last_power_w, end_power, reactive, end - start)
        self._last_power_w = end_power
