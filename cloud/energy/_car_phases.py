"""Which phases a plugged-in car draws on, learned from its charger's per-phase currents.

Most Japanese EVs charge AC on one phase. On a three-phase charger such a car draws on L1 only,
so budgeting it by the charger's wiring counts three times the power it takes and reserves
headroom on two phases it never touches. The charger's per-phase currents show which phases
carry current, but only while the car actually charges: a paused car (0 A) or one tapering off
at the end says nothing, and the last decision stands. What is learnt holds for one session,
from plug-in to unplug; the next car starts again from the wiring.

The decision only ever narrows the budget on evidence, never on its absence: until
``CONFIRM_READINGS`` charging readings have been seen the car is budgeted on the wiring, and a
phase seen carrying current once in a session stays in the budget for the rest of it.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cloud.energy._ev_input import Phase

#: A phase carries the car's current above this (evcc uses the same 1 A); below it is the
#: meter's noise or the car's standby draw.
PHASE_ACTIVE_A = 1.0
#: The readings tell the car's phases only when its phases together draw at least this: two
#: thirds of the 6 A minimum of IEC 61851, so a three-phase car drawing it still has over 1 A on
#: each phase when they are a quarter out of balance, and a car tapering off says nothing.
CHARGING_A = 4.0
#: Charging readings needed before the budget is narrowed below the wiring: one reading taken
#: while a three-phase car brings its phases up one by one must not cut its budget.
CONFIRM_READINGS = 2


@dataclass(frozen=True)
class CarPhases:
    """What one charging session has shown of the phases its car draws on."""

    #: The site phases the charger is wired to.
    wiring: tuple[Phase, ...]
    #: The phases the car is budgeted on: the wiring until the readings have shown better.
    phases: tuple[Phase, ...]
    #: Every phase seen carrying current in a charging reading of this session.
    seen: frozenset[Phase] = frozenset()
    #: Charging readings seen so far in this session.
    charging_readings: int = 0
    #: When the newest of them was measured (epoch ms), if the caller said.
    last_charging_ms: int | None = None

    @classmethod
    def plugged_in(cls, wiring: Sequence[Phase]) -> "CarPhases":
        """A car just plugged in: nothing is known yet, so it is budgeted on the wiring."""
        wired = tuple(wiring)
        return cls(wiring=wired, phases=wired)

    @property
    def narrower_than_wiring(self) -> bool:
        return len(self.phases) < len(self.wiring)


def observe_car_phases(
    known: CarPhases,
    currents_a: Mapping[Phase, float],
    *,
    measured_ms: int | None = None,
    active_a: float = PHASE_ACTIVE_A,
    charging_a: float = CHARGING_A,
    confirm_readings: int = CONFIRM_READINGS,
) -> CarPhases:
    """What the session knows after one reading of the charger's current on each site phase.

    A reading that is not evidence leaves *known* as it was: a single-phase charger (its car
    can only use that phase), a wired phase missing from the reading or not a number, a car
    not drawing at least *charging_a* in total (paused, not started, tapering off), or a reading
    *measured_ms* no newer than the last one counted (the same sample read again in the next
    round is no confirmation).
    """
    wiring = known.wiring
    if len(wiring) == 1:
        return known
    last = known.last_charging_ms
    if measured_ms is not None and last is not None and measured_ms <= last:
        return known
    values = [currents_a.get(phase) for phase in wiring]
    currents = [value for value in values if value is not None and math.isfinite(value)]
    if len(currents) < len(wiring):
        return known
    # A meter may show a small negative current on an idle phase.
    drawn = dict(zip(wiring, (max(current, 0.0) for current in currents), strict=True))
    active = frozenset(phase for phase in wiring if drawn[phase] > active_a)
    if sum(drawn.values()) < charging_a or not active:
        return known
    seen = known.seen | active
    readings = known.charging_readings + 1
    phases = wiring
    if readings >= confirm_readings:
        phases = tuple(phase for phase in wiring if phase in seen)
    return CarPhases(
        wiring=wiring,
        phases=phases,
        seen=seen,
        charging_readings=readings,
        last_charging_ms=measured_ms if measured_ms is not None else last,
    )
