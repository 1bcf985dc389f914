"""EV charging dispatch for one site: setpoints per charger within phase limits, by urgency.

Currents are handled in whole deciamperes so that limits compare exactly. A setpoint is 0 or at
least 6 A (IEC 61851 lets a vehicle refuse anything below) and at most the smaller of the
charger's and the vehicle's maximum. Vehicles are served in order of urgency: seconds left until
departure per watt-hour still needed, least first. A charger is budgeted on the phases its car
draws on (:attr:`Charger.drawn_phases`): a one-phase car on a three-phase charger takes that
phase's headroom only, and current × voltage watts, not three times that.
"""

import math
from dataclasses import dataclass
from datetime import datetime

from cloud.energy._ev_input import Charger, DispatchRequest, Mode, Phase, PreviousSetpoint

MIN_CURRENT_A = 6.0
PHASES: tuple[Phase, ...] = ("l1", "l2", "l3")
_MIN_DA = 60
#: Reasons in which the car's phases play no part.
_PHASES_IRRELEVANT = frozenset(
    {"not connected", "no vehicle", "vehicle full", "maximum current below 6 A"}
)
_CHARGING_REASON: dict[Mode, str] = {
    "now": "charging",
    "minpv": "charging on the 6 A minimum plus PV",
    "pv": "charging on PV surplus",
}


@dataclass(frozen=True)
class Setpoint:
    """The current a charger is to offer, and why."""

    charger: str
    current_a: float
    reason: str


@dataclass(frozen=True)
class DispatchResult:
    """Setpoints in the input's charger order and the load they put on each phase."""

    setpoints: tuple[Setpoint, ...]
    phase_load_a: dict[Phase, float]


@dataclass(frozen=True)
class _Candidate:
    charger: Charger
    cap_da: int
    urgency: float


def _deciamps(current_a: float) -> int:
    # Floor, so that a limit is never exceeded by rounding; the epsilon absorbs binary noise.
    return math.floor(current_a * 10 + 1e-9)


def _urgency(charger: Charger, now: datetime) -> float:
    vehicle = charger.vehicle
    assert vehicle is not None
    seconds_left = (vehicle.departure - now).total_seconds()
    return seconds_left / vehicle.energy_needed_wh


class _Allocation:
    """Running state of one dispatch: setpoints, reasons and what is left per phase and in watts."""

    def __init__(self, limit_da: int, voltage_v: float) -> None:
        self.headroom_da: dict[Phase, int] = dict.fromkeys(PHASES, limit_da)
        self.voltage_v = voltage_v
        self.setpoint_da: dict[str, int] = {}
        self.reason: dict[str, str] = {}

    def room_da(self, charger: Charger) -> int:
        return min(self.headroom_da[phase] for phase in charger.drawn_phases)

    def watts(self, charger: Charger, deciamps: int) -> float:
        return deciamps / 10 * self.voltage_v * len(charger.drawn_phases)

    def deciamps_for(self, charger: Charger, watts: float) -> int:
        if watts <= 0:
            return 0
        return math.floor(watts / (self.voltage_v * len(charger.drawn_phases)) * 10 + 1e-9)

    def add(self, charger: Charger, deciamps: int, reason: str) -> None:
        for phase in charger.drawn_phases:
            self.headroom_da[phase] -= deciamps
        self.setpoint_da[charger.id] = self.setpoint_da.get(charger.id, 0) + deciamps
        self.reason[charger.id] = _with_car_phases(charger, reason)


def _with_car_phases(charger: Charger, reason: str) -> str:
    """The reason, saying so when the car draws on fewer phases than its charger is wired to."""
    drawn = charger.drawn_phases
    if len(drawn) == len(charger.wired_phases) or reason in _PHASES_IRRELEVANT:
        return reason
    return f"{reason} (car charges on {drawn[0]} only)"


def dispatch_chargers(request: DispatchRequest) -> DispatchResult:
    """Setpoints for every charger of the site for this round."""
    now = request.now
    allocation = _Allocation(_deciamps(request.site_limit_a), request.voltage_v)
    candidates: list[_Candidate] = []
    for charger in request.chargers:
        vehicle = charger.vehicle
        if not charger.connected:
            allocation.add(charger, 0, "not connected")
        elif vehicle is None:
            allocation.add(charger, 0, "no vehicle")
        elif vehicle.energy_needed_wh <= 0:
            allocation.add(charger, 0, "vehicle full")
        else:
            cap_da = min(_deciamps(charger.max_current_a), _deciamps(vehicle.max_current_a))
            if cap_da < _MIN_DA:
                allocation.add(charger, 0, "maximum current below 6 A")
            else:
                candidates.append(_Candidate(charger, cap_da, _urgency(charger, now)))
    candidates.sort(key=lambda candidate: (candidate.urgency, candidate.charger.id))

    held = _held(candidates, request, allocation)
    held_ids = {candidate.charger.id for candidate, _ in held}
    for candidate, deciamps in held:
        allocation.add(candidate.charger, deciamps, "held: changed less than the hold time ago")
    held_watts = sum(allocation.watts(c.charger, deciamps) for c, deciamps in held)
    free = [candidate for candidate in candidates if candidate.charger.id not in held_ids]
    _allocate(free, request.mode, request.pv_surplus_w - held_watts, allocation)

    setpoints = tuple(
        Setpoint(
            charger=charger.id,
            current_a=allocation.setpoint_da[charger.id] / 10,
            reason=allocation.reason[charger.id],
        )
        for charger in request.chargers
    )
    limit_da = _deciamps(request.site_limit_a)
    load = {phase: (limit_da - allocation.headroom_da[phase]) / 10 for phase in PHASES}
    return DispatchResult(setpoints=setpoints, phase_load_a=load)


def _held(
    candidates: list[_Candidate], request: DispatchRequest, allocation: _Allocation
) -> list[tuple[_Candidate, int]]:
    """Chargers whose setpoint changed too recently to change again, if nothing forces it.

    A vehicle that left or is full, a setpoint above what the vehicle now takes, minpv's 6 A
    floor and the site's phase limit all force a change; a moving PV surplus does not (that is
    what the hold time is for).
    """
    previous: dict[str, PreviousSetpoint] = {entry.charger: entry for entry in request.previous}
    held: list[tuple[_Candidate, int]] = []
    for candidate in candidates:
        entry = previous.get(candidate.charger.id)
        if entry is None or (request.now - entry.since).total_seconds() >= request.hold_seconds:
            continue
        deciamps = round(entry.current_a * 10)
        if deciamps > candidate.cap_da or 0 < deciamps < _MIN_DA:
            continue
        if request.mode == "minpv" and deciamps == 0:
            continue
        held.append((candidate, deciamps))
    limit_da = _deciamps(request.site_limit_a)
    while True:
        load = dict.fromkeys(PHASES, 0)
        for candidate, deciamps in held:
            for phase in candidate.charger.drawn_phases:
                load[phase] += deciamps
        overloaded = {phase for phase in PHASES if load[phase] > limit_da}
        if not overloaded:
            return held
        # Release the least urgent held charger on an overloaded phase and look again.
        for index in range(len(held) - 1, -1, -1):
            if overloaded & set(held[index][0].charger.drawn_phases) and held[index][1] > 0:
                del held[index]
                break
        else:
            return held


def _allocate(
    free: list[_Candidate], mode: Mode, surplus_w: float, allocation: _Allocation
) -> None:
    """Start as many vehicles as possible at 6 A by urgency, then raise them by urgency."""
    # In 'now' power is unlimited; in 'minpv' the 6 A starts ignore the surplus, the rest follows
    # it; in 'pv' everything follows it.
    budget_w = math.inf if mode == "now" else surplus_w
    running: list[_Candidate] = []
    for candidate in free:
        charger = candidate.charger
        start_w = allocation.watts(charger, _MIN_DA)
        if allocation.room_da(charger) < _MIN_DA:
            allocation.add(charger, 0, "waiting: site phase limit reached")
        elif mode == "pv" and budget_w < start_w:
            allocation.add(charger, 0, "waiting: PV surplus too low")
        else:
            reason = "charging at the 6 A minimum" if mode == "minpv" else _CHARGING_REASON[mode]
            allocation.add(charger, _MIN_DA, reason)
            budget_w -= start_w
            running.append(candidate)
    for candidate in running:
        charger = candidate.charger
        extra = min(candidate.cap_da - _MIN_DA, allocation.room_da(charger))
        if budget_w != math.inf:
            extra = min(extra, allocation.deciamps_for(charger, budget_w))
        if extra <= 0:
            continue
        allocation.add(charger, extra, _CHARGING_REASON[mode])
        budget_w -= allocation.watts(charger, extra)


def dispatch_document(result: DispatchResult) -> dict[str, object]:
    """The JSON document of ``hinode energy ev-plan --json``."""
    return {
        "setpoints": [
            {
                "charger": setpoint.charger,
                "current_a": setpoint.current_a,
                "reason": setpoint.reason,
            }
            for setpoint in result.setpoints
        ],
        "phase_load_a": dict(result.phase_load_a),
    }
