"""EV charging dispatch: every invariant of the issue, as properties."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cloud.energy import (
    JST,
    Charger,
    DispatchRequest,
    DispatchResult,
    dispatch_chargers,
    dispatch_document,
)

NOW = datetime(2026, 5, 11, 9, 0, tzinfo=JST)
PHASES = ("l1", "l2", "l3")
STEP_A = 0.1


@st.composite
def chargers(draw: st.DrawFn, index: int) -> dict[str, Any]:
    three_phase = draw(st.booleans())
    vehicle = None
    if draw(st.integers(0, 9)) > 0:
        vehicle = {
            "energy_needed_wh": draw(st.sampled_from([0.0, 500.0, 5000.0, 20000.0, 60000.0])),
            "departure": (NOW + timedelta(minutes=draw(st.integers(-60, 720)))).isoformat(),
            "max_current_a": draw(st.sampled_from([5.0, 6.0, 10.0, 16.0, 32.0])),
        }
        # The car's phases, when known: most Japanese EVs charge on one.
        car_phase = draw(st.sampled_from([None, None, "three", *PHASES]))
        if car_phase == "three":
            vehicle["phases"] = 3
        elif car_phase is not None:
            vehicle["phases"] = 1
            vehicle["phase"] = car_phase
    charger: dict[str, Any] = {
        "id": f"c{index:02d}",
        "phases": 3 if three_phase else 1,
        "max_current_a": draw(st.sampled_from([6.0, 16.0, 32.0])),
        "connected": draw(st.integers(0, 9)) > 0,
        "vehicle": vehicle,
    }
    if not three_phase:
        charger["phase"] = draw(st.sampled_from(PHASES))
        if vehicle is not None and "phase" in vehicle:
            vehicle["phase"] = charger["phase"]  # a one-phase charger has only its own
    return charger


@st.composite
def requests(draw: st.DrawFn, *, with_previous: bool = False) -> DispatchRequest:
    count = draw(st.integers(0, 12))
    fleet = [draw(chargers(index)) for index in range(count)]
    previous = [
        {
            "charger": charger["id"],
            "current_a": draw(st.sampled_from([0.0, 6.0, 10.0, 16.0, 32.0])),
            "since": (NOW - timedelta(seconds=draw(st.integers(0, 300)))).isoformat(),
        }
        for charger in fleet
        if with_previous and draw(st.booleans())
    ]
    return DispatchRequest.model_validate(
        {
            "now": NOW.isoformat(),
            "site_limit_a": draw(st.sampled_from([0.0, 5.0, 6.0, 16.0, 32.0, 63.0, 200.0])),
            "mode": draw(st.sampled_from(["now", "minpv", "pv"])),
            "pv_surplus_w": draw(st.floats(-2000, 60000)),
            "voltage_v": 230,
            "chargers": fleet,
            "previous": previous,
            "hold_seconds": 60,
        }
    )


def cap_of(request: DispatchRequest, charger_id: str) -> float:
    charger = next(c for c in request.chargers if c.id == charger_id)
    if charger.vehicle is None:
        return 0.0
    return min(charger.max_current_a, charger.vehicle.max_current_a)


def eligible(request: DispatchRequest) -> list[str]:
    return [
        charger.id
        for charger in request.chargers
        if charger.connected
        and charger.vehicle is not None
        and charger.vehicle.energy_needed_wh > 0
        and min(charger.max_current_a, charger.vehicle.max_current_a) >= 6
    ]


def current(result: DispatchResult, charger_id: str) -> float:
    return next(s.current_a for s in result.setpoints if s.charger == charger_id)


def phase_loads(request: DispatchRequest, result: DispatchResult) -> dict[str, float]:
    loads = dict.fromkeys(PHASES, 0.0)
    for charger in request.chargers:
        for phase in charger.drawn_phases:
            loads[phase] += current(result, charger.id)
    return loads


def power_w(request: DispatchRequest, result: DispatchResult) -> float:
    return sum(
        current(result, charger.id) * request.voltage_v * len(charger.drawn_phases)
        for charger in request.chargers
    )


def urgency(request: DispatchRequest, charger_id: str) -> tuple[float, str]:
    charger = next(c for c in request.chargers if c.id == charger_id)
    assert charger.vehicle is not None
    seconds = (charger.vehicle.departure - request.now).total_seconds()
    return seconds / charger.vehicle.energy_needed_wh, charger_id


@settings(max_examples=150, deadline=None)
@given(requests(with_previous=True))
def test_every_setpoint_is_zero_or_between_6_a_and_the_maximum(request: DispatchRequest) -> None:
    result = dispatch_chargers(request)
    assert [s.charger for s in result.setpoints] == [c.id for c in request.chargers]
    allowed = set(eligible(request))
    for setpoint in result.setpoints:
        assert setpoint.reason
        if setpoint.current_a == 0:
            continue
        assert setpoint.charger in allowed
        assert 6.0 <= setpoint.current_a <= cap_of(request, setpoint.charger) + 1e-9


@settings(max_examples=150, deadline=None)
@given(requests(with_previous=True))
def test_no_phase_exceeds_the_site_limit(request: DispatchRequest) -> None:
    result = dispatch_chargers(request)
    loads = phase_loads(request, result)
    for phase in PHASES:
        assert loads[phase] <= request.site_limit_a + 1e-9
        assert result.phase_load_a[phase] == pytest.approx(loads[phase])  # type: ignore[index]


@settings(max_examples=150, deadline=None)
@given(requests())
def test_more_urgent_vehicles_go_first(request: DispatchRequest) -> None:
    """A waiting vehicle is never more urgent than a charging one wired the same way."""
    result = dispatch_chargers(request)
    wiring = {charger.id: charger.drawn_phases for charger in request.chargers}
    ready = eligible(request)
    waiting = [c for c in ready if current(result, c) == 0]
    charging = [c for c in ready if current(result, c) > 0]
    for idle in waiting:
        for busy in charging:
            if wiring[idle] == wiring[busy]:
                assert urgency(request, busy) < urgency(request, idle)


@settings(max_examples=150, deadline=None)
@given(requests())
def test_pv_mode_follows_the_surplus(request: DispatchRequest) -> None:
    """Never more than the surplus, and nothing left that one more step could use."""
    if request.mode != "pv":
        request = request.model_copy(update={"mode": "pv"})
    result = dispatch_chargers(request)
    used = power_w(request, result)
    assert used <= max(request.pv_surplus_w, 0.0) + 1e-6
    left_w = request.pv_surplus_w - used
    loads = phase_loads(request, result)
    for charger in request.chargers:
        if charger.id not in eligible(request):
            continue
        now_a = current(result, charger.id)
        step = STEP_A if now_a > 0 else 6.0
        if now_a + step > cap_of(request, charger.id) + 1e-9:
            continue
        fits_phases = all(
            loads[phase] + step <= request.site_limit_a + 1e-9 for phase in charger.drawn_phases
        )
        fits_surplus = step * request.voltage_v * len(charger.drawn_phases) <= left_w + 1e-6
        assert not (fits_phases and fits_surplus), charger.id


@settings(max_examples=150, deadline=None)
@given(requests())
def test_minpv_gives_every_connected_vehicle_at_least_6_a_when_the_site_allows(
    request: DispatchRequest,
) -> None:
    request = request.model_copy(update={"mode": "minpv"})
    ready = eligible(request)
    need = dict.fromkeys(PHASES, 0.0)
    for charger in request.chargers:
        if charger.id in ready:
            for phase in charger.drawn_phases:
                need[phase] += 6.0
    result = dispatch_chargers(request)
    if all(need[phase] <= request.site_limit_a for phase in PHASES):
        assert all(current(result, charger_id) >= 6.0 for charger_id in ready)


@settings(max_examples=150, deadline=None)
@given(requests())
def test_now_mode_uses_all_the_room_there_is(request: DispatchRequest) -> None:
    request = request.model_copy(update={"mode": "now"})
    result = dispatch_chargers(request)
    loads = phase_loads(request, result)
    for charger in request.chargers:
        if charger.id not in eligible(request):
            continue
        now_a = current(result, charger.id)
        step = STEP_A if now_a > 0 else 6.0
        if now_a + step > cap_of(request, charger.id) + 1e-9:
            continue
        assert any(
            loads[phase] + step > request.site_limit_a + 1e-9 for phase in charger.drawn_phases
        )


@settings(max_examples=150, deadline=None)
@given(requests(), st.floats(0, 50000), st.integers(1, 59))
def test_setpoints_hold_within_the_hold_time_unless_a_limit_forces_it(
    request: DispatchRequest, new_surplus_w: float, seconds_later: int
) -> None:
    first = dispatch_chargers(request)
    previous = [
        {"charger": s.charger, "current_a": s.current_a, "since": request.now.isoformat()}
        for s in first.setpoints
    ]
    later = request.model_copy(
        update={
            "now": request.now + timedelta(seconds=seconds_later),
            "pv_surplus_w": new_surplus_w,
            "previous": DispatchRequest.model_validate(
                {**request.model_dump(mode="json"), "previous": previous}
            ).previous,
        }
    )
    second = dispatch_chargers(later)
    # Nothing forcing changed (same vehicles, same limit): only the surplus moved.
    if request.mode == "minpv":
        # minpv's 6 A floor is a limit: a vehicle waiting at 0 may start.
        for before, after in zip(first.setpoints, second.setpoints, strict=True):
            if before.current_a > 0:
                assert after.current_a == before.current_a
    else:
        assert [s.current_a for s in second.setpoints] == [s.current_a for s in first.setpoints]


def test_a_lower_site_limit_overrides_the_hold_time() -> None:
    request = DispatchRequest.model_validate(
        {
            "now": NOW.isoformat(),
            "site_limit_a": 16,
            "mode": "now",
            "pv_surplus_w": 0,
            "voltage_v": 230,
            "chargers": [
                {
                    "id": "c1",
                    "phases": 3,
                    "max_current_a": 32,
                    "connected": True,
                    "vehicle": {
                        "energy_needed_wh": 10000,
                        "departure": (NOW + timedelta(hours=4)).isoformat(),
                        "max_current_a": 32,
                    },
                }
            ],
            "previous": [{"charger": "c1", "current_a": 32, "since": NOW.isoformat()}],
        }
    )
    result = dispatch_chargers(request)
    assert result.setpoints[0].current_a == 16.0
    assert result.phase_load_a == {"l1": 16.0, "l2": 16.0, "l3": 16.0}


def test_a_departing_vehicle_goes_before_one_with_all_day() -> None:
    def vehicle(hours: int) -> dict[str, Any]:
        return {
            "energy_needed_wh": 10000,
            "departure": (NOW + timedelta(hours=hours)).isoformat(),
            "max_current_a": 16,
        }

    request = DispatchRequest.model_validate(
        {
            "now": NOW.isoformat(),
            "site_limit_a": 10,
            "mode": "now",
            "pv_surplus_w": 0,
            "voltage_v": 230,
            "chargers": [
                {
                    "id": "all-day",
                    "phases": 1,
                    "phase": "l1",
                    "max_current_a": 16,
                    "connected": True,
                    "vehicle": vehicle(9),
                },
                {
                    "id": "leaving",
                    "phases": 1,
                    "phase": "l1",
                    "max_current_a": 16,
                    "connected": True,
                    "vehicle": vehicle(2),
                },
            ],
        }
    )
    document = dispatch_document(dispatch_chargers(request))
    assert document == {
        "setpoints": [
            {"charger": "all-day", "current_a": 0.0, "reason": "waiting: site phase limit reached"},
            {"charger": "leaving", "current_a": 10.0, "reason": "charging"},
        ],
        "phase_load_a": {"l1": 10.0, "l2": 0.0, "l3": 0.0},
    }


def one_car(
    vehicle_phases: dict[str, Any], *, mode: str = "pv", surplus_w: float = 4140
) -> DispatchRequest:
    return DispatchRequest.model_validate(
        {
            "now": NOW.isoformat(),
            "site_limit_a": 32,
            "mode": mode,
            "pv_surplus_w": surplus_w,
            "voltage_v": 230,
            "chargers": [
                {
                    "id": "c1",
                    "phases": 3,
                    "max_current_a": 32,
                    "connected": True,
                    "vehicle": {
                        "energy_needed_wh": 10000,
                        "departure": (NOW + timedelta(hours=4)).isoformat(),
                        "max_current_a": 32,
                        **vehicle_phases,
                    },
                }
            ],
        }
    )


def test_a_one_phase_car_on_a_three_phase_charger_takes_its_surplus_on_one_phase() -> None:
    wiring = dispatch_document(dispatch_chargers(one_car({})))
    assert wiring["setpoints"] == [
        {"charger": "c1", "current_a": 6.0, "reason": "charging on PV surplus"}
    ]
    assert dispatch_document(dispatch_chargers(one_car({"phases": 3}))) == wiring
    one_phase = dispatch_document(dispatch_chargers(one_car({"phases": 1, "phase": "l2"})))
    assert one_phase == {
        "setpoints": [
            {
                "charger": "c1",
                "current_a": 18.0,
                "reason": "charging on PV surplus (car charges on l2 only)",
            }
        ],
        "phase_load_a": {"l1": 0.0, "l2": 18.0, "l3": 0.0},
    }


def test_a_one_phase_car_waiting_for_surplus_says_so_and_needs_only_one_phase_of_it() -> None:
    result = dispatch_chargers(one_car({"phases": 1, "phase": "l1"}, surplus_w=1000))
    assert result.setpoints[0].reason == "waiting: PV surplus too low (car charges on l1 only)"
    assert dispatch_chargers(one_car({"phases": 1, "phase": "l1"}, surplus_w=1380)).setpoints[
        0
    ].current_a == pytest.approx(6.0)


@pytest.mark.parametrize(
    ("vehicle_phases", "message"),
    [
        ({"phases": 1}, "a one-phase vehicle needs 'phase'"),
        ({"phase": "l1"}, "'phase' is only for a vehicle with 'phases: 1'"),
        ({"phases": 3, "phase": "l1"}, "'phase' is only for a vehicle with 'phases: 1'"),
        ({"phases": 2}, "phases"),
    ],
)
def test_a_vehicle_s_phases_are_checked(vehicle_phases: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        one_car(vehicle_phases)


def test_a_one_phase_vehicle_on_a_single_phase_charger_is_on_the_charger_s_phase() -> None:
    charger = {
        "id": "c1",
        "phases": 1,
        "phase": "l3",
        "max_current_a": 16,
        "connected": True,
        "vehicle": {
            "energy_needed_wh": 1000,
            "departure": NOW.isoformat(),
            "max_current_a": 16,
            "phases": 1,
            "phase": "l1",
        },
    }
    with pytest.raises(ValidationError, match="the charger is wired to 'l3' only"):
        Charger.model_validate(charger)
    charger["vehicle"]["phase"] = "l3"  # type: ignore[index]
    assert Charger.model_validate(charger).drawn_phases == ("l3",)
