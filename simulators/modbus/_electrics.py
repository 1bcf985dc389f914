"""Consistent AC quantities: from a site's power to per-phase V, I, P, Q, S and PF, and counters."""

import math
from dataclasses import dataclass

from simulators.modbus._noise import jitter, smooth, unit_hash

NOMINAL_PHASE_VOLTAGE_V = 230.0
# The city lies west of the Fuji river, on the 60 Hz half of Japan's grid.
NOMINAL_FREQUENCY_HZ = 60.0
_GRID_SEED = 0x6E1D


@dataclass(frozen=True, slots=True)
class PhaseValues:
    """One phase at one instant; P = V·I·PF holds by construction."""

    voltage_v: float
    current_a: float
    active_power_w: float
    reactive_power_var: float
    apparent_power_va: float
    power_factor: float


@dataclass(frozen=True, slots=True)
class AcSnapshot:
    """All phases of one AC connection at one instant, and the totals over them."""

    phases: tuple[PhaseValues, ...]
    frequency_hz: float

    @property
    def active_power_w(self) -> float:
        return sum(phase.active_power_w for phase in self.phases)

    @property
    def reactive_power_var(self) -> float:
        return sum(phase.reactive_power_var for phase in self.phases)

    @property
    def apparent_power_va(self) -> float:
        return sum(phase.apparent_power_va for phase in self.phases)

    @property
    def power_factor(self) -> float:
        apparent = self.apparent_power_va
        return self.active_power_w / apparent if apparent > 0 else 1.0

    @property
    def current_a(self) -> float:
        return sum(phase.current_a for phase in self.phases)

    @property
    def average_voltage_v(self) -> float:
        return sum(phase.voltage_v for phase in self.phases) / len(self.phases)

    @property
    def neutral_current_a(self) -> float:
        """Vector sum of three phase currents 120° apart (zero for one phase: no neutral)."""
        if len(self.phases) != 3:
            return 0.0
        a, b, c = (phase.current_a for phase in self.phases)
        return math.sqrt(max(0.0, a * a + b * b + c * c - a * b - b * c - c * a))

    def phase_angle_deg(self, index: int) -> float:
        """Angle between voltage and current of one phase (positive: current lags)."""
        return math.degrees(math.acos(max(-1.0, min(1.0, abs(self.phases[index].power_factor)))))

    def line_voltage_v(self, first: int, second: int) -> float:
        """Line-to-line voltage between two phases 120° apart."""
        a, b = self.phases[first].voltage_v, self.phases[second].voltage_v
        return math.sqrt(a * a + b * b + a * b)


def grid_voltage_v(seed: int, t: float, phase: int) -> float:
    """Supply voltage of one phase: a slow ±2 % wander plus a small per-phase offset."""
    wander = (smooth(seed, t, 300.0, stream=0x7017) - 0.5) * 0.04
    offset = (unit_hash(seed, 0x0FF5, phase) - 0.5) * 0.01
    return NOMINAL_PHASE_VOLTAGE_V * (
        1.0 + wander + offset + jitter(seed, t, 0x7100 + phase, 0.001)
    )


def grid_frequency_hz(t: float) -> float:
    """Grid frequency wandering within ±0.05 Hz of nominal, the same at every device in the city
    (one synchronous grid), whatever the devices' seeds."""
    return NOMINAL_FREQUENCY_HZ + (smooth(_GRID_SEED, t, 60.0, stream=0xF4E0) - 0.5) * 0.1


def phase_values(voltage_v: float, active_power_w: float, power_factor: float) -> PhaseValues:
    """One phase from its voltage, active power (negative = export) and |PF|; Q is inductive."""
    magnitude = min(1.0, max(0.05, abs(power_factor)))
    apparent = abs(active_power_w) / magnitude
    reactive = math.sqrt(max(0.0, apparent * apparent - active_power_w * active_power_w))
    signed_pf = magnitude if active_power_w >= 0 else -magnitude
    return PhaseValues(
        voltage_v=voltage_v,
        current_a=apparent / voltage_v,
        active_power_w=active_power_w,
        reactive_power_var=reactive,
        apparent_power_va=apparent,
        power_factor=signed_pf,
    )


def split_power(
    seed: int, t: float, total_w: float, power_factor: float, phases: int
) -> AcSnapshot:
    """Share a site's power over its phases with a seeded, slowly changing imbalance."""
    weights = [
        0.85 + 0.3 * smooth(seed, t, 1800.0, stream=0x5A17 + phase) for phase in range(phases)
    ]
    scale = total_w / sum(weights)
    return AcSnapshot(
        phases=tuple(
            phase_values(grid_voltage_v(seed, t, phase), weight * scale, power_factor)
            for phase, weight in enumerate(weights)
        ),
        frequency_hz=grid_frequency_hz(t),
    )


@dataclass
class EnergyCounters:
    """Cumulative registers fed by integrating power over time (trapezoids)."""

    import_wh: float = 0.0
    export_wh: float = 0.0
    reactive_import_varh: float = 0.0

    def integrate(self, start_w: float, end_w: float, reactive_var: float, seconds: float) -> None:
        """Add one interval whose power moved linearly from *start_w* to *end_w*."""
        hours = seconds / 3600.0
        if start_w >= 0 and end_w >= 0:
            self.import_wh += (start_w + end_w) / 2.0 * hours
        elif start_w <= 0 and end_w <= 0:
            self.export_wh -= (start_w + end_w) / 2.0 * hours
        else:  # the sign flips inside the interval: split at the zero crossing
            crossing = start_w / (start_w - end_w)
            first, second = (
                (start_w / 2.0) * crossing * hours,
                (end_w / 2.0) * (1 - crossing) * hours,
            )
            for part in (first, second):
                if part > 0:
                    self.import_wh += part
                else:
                    self.export_wh -= part
        self.reactive_import_varh += max(0.0, reactive_var) * hours
