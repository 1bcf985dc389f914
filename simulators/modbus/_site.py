"""A metered site: its demand curve as AC quantities over the phases, with integrated counters.

The meter at a site's connection point measures the site's own load and, when devices are
behind it (chargers, a PV inverter), what they draw or feed in: a site whose PV makes more
than it uses exports, and its meter shows negative power and counts export energy.
"""

import math
from collections.abc import Sequence

from simulators.modbus._device import STATEFUL_STEP_S, SimulatedDevice
from simulators.modbus._electrics import AcSnapshot, EnergyCounters, PhaseValues, split_power
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


def combine(own: PhaseValues, active_w: float, reactive_var: float) -> PhaseValues:
    """One phase of the connection point: the site's own load plus what is behind the meter."""
    active = own.active_power_w + active_w
    reactive = own.reactive_power_var + reactive_var
    apparent = math.hypot(active, reactive)
    return PhaseValues(
        voltage_v=own.voltage_v,
        current_a=apparent / own.voltage_v,
        active_power_w=active,
        reactive_power_var=reactive,
        apparent_power_va=apparent,
        # Signed like the meters' own: negative while exporting.
        power_factor=active / apparent if apparent > 0 else 1.0,
    )


class SiteDemand:
    """What a meter at the connection point of one site measures."""

    def __init__(
        self,
        *,
        load: str,
        phases: int,
        seed: int,
        start: float,
        peak_w: float | None = None,
        behind: Sequence[SimulatedDevice] = (),
    ) -> None:
        if peak_w is None:
            peak_w = SINGLE_PHASE_PEAK_W[load] if phases == 1 else THREE_PHASE_PEAK_W[load]
        self.curve = LoadCurve(kind=load, peak_w=peak_w, seed=seed)
        self.phases = phases
        self.seed = seed
        self.behind = tuple(behind)
        self._base_pf = POWER_FACTOR[load]
        low, high = _HISTORY_PEAK_HOURS
        history_h = low + (high - low) * unit_hash(seed, 0x4157)
        self.counters = EnergyCounters(
            import_wh=peak_w * history_h * 0.4, reactive_import_varh=peak_w * history_h * 0.15
        )
        self._last_power_w = self.net_power_w(start)

    @property
    def step_s(self) -> float | None:
        """The integration step the meter needs: chargers switch within a minute."""
        return STATEFUL_STEP_S if self.behind else None

    def power_factor(self, t: float) -> float:
        """Displacement power factor, wandering a little around the load's typical value."""
        return min(0.999, self._base_pf + (smooth(self.seed, t, 1200.0, stream=0x9F) - 0.5) * 0.06)

    def snapshot(self, t: float) -> AcSnapshot:
        """Per-phase quantities at *t* (the devices behind the meter as of their last advance)."""
        own = split_power(self.seed, t, self.curve.power_w(t), self.power_factor(t), self.phases)
        if not self.behind:
            return own
        exchange = [[0.0, 0.0] for _ in range(self.phases)]
        for device in self.behind:
            per_phase = device.ac_exchange(t)
            if per_phase is None:
                continue
            for index, (active, reactive) in enumerate(per_phase):
                # A single-phase connection carries everything on its one phase.
                slot = exchange[min(index, self.phases - 1)]
                slot[0] += active
                slot[1] += reactive
        return AcSnapshot(
            phases=tuple(
                combine(values, active, reactive)
                for values, (active, reactive) in zip(own.phases, exchange, strict=True)
            ),
            frequency_hz=own.frequency_hz,
        )

    def net_power_w(self, t: float) -> float:
        """Active power through the meter at *t* (negative when the site exports)."""
        if not self.behind:
            return self.curve.power_w(t)
        return self.snapshot(t).active_power_w

    def advance(self, start: float, end: float) -> None:
        """Integrate the counters from *start* to *end* (and bring the devices behind along)."""
        for device in self.behind:
            device.advance_to(end)
        if self.behind:
            snapshot = self.snapshot(end)
            end_power, reactive = snapshot.active_power_w, snapshot.reactive_power_var
        else:  # the load alone: no need for every phase's V and I
            end_power = self.curve.power_w(end)
            power_factor = self.power_factor(end)
            reactive = end_power * math.sqrt(1.0 - power_factor * power_factor) / power_factor
        self.counters.integrate(self._last_power_w, end_power, reactive, end - start)
        self._last_power_w = end_power


class MeteredSite:
    """Mixin of the meter models: the site they measure, its physics and its forecast.

    Put it before the register-map base class, whose ``time`` and ``max_step_s`` it uses.
    """

    site: SiteDemand
    time: float
    max_step_s: float

    def _measure_site(
        self,
        *,
        load: str,
        phases: int,
        seed: int,
        peak_w: float | None,
        behind_the_meter: Sequence[SimulatedDevice],
    ) -> None:
        self.site = SiteDemand(
            load=load,
            phases=phases,
            seed=seed,
            start=self.time,
            peak_w=peak_w,
            behind=behind_the_meter,
        )
        self.max_step_s = self.site.step_s or self.max_step_s

    def _advance(self, start: float, end: float) -> None:
        self.site.advance(start, end)

    def forecast_power_w(self, t: float) -> float:
        return self.site.curve.power_w(t)
