"""Shuttle dispatch: every promise of ``hinode mobility dispatch`` on random cities and requests."""

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud.mobility import (
    DispatchInput,
    DispatchInputError,
    RideRequest,
    dispatch,
    dispatch_document,
    insert_request,
    reoptimise,
)

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CENTRE = (36.59, 136.63)


def travel_s(a: list[float], b: list[float], speed_kmh: float, factor: float) -> float:
    """Written again here, independently: haversine × detour factor / speed."""
    phi1, phi2 = math.radians(a[0]), math.radians(b[0])
    h = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h)) * factor / (speed_kmh / 3.6)


def at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def check_document(document: dict[str, Any], output: dict[str, Any]) -> None:
    """Every invariant of the dispatch output, checked from the documents alone."""
    now = at(document["now"])
    speed, factor = document["speed_kmh"], document.get("detour_factor", 1.3)
    dwell = document.get("dwell_seconds", 0.0)
    requests = {r["id"]: r for r in document["requests"]}
    shuttles = {s["id"]: s for s in document["shuttles"]}
    assigned = {a["request"]: a for a in output["assignments"]}
    refused = {u["request"] for u in output["unassigned"]}
    assert set(assigned) | refused == set(requests)
    assert not set(assigned) & refused
    assert all(u["reason"] for u in output["unassigned"])
    for shuttle_id, stops in output["routes"].items():
        shuttle = shuttles[shuttle_id]
        load = sum(requests[r]["passengers"] for r in shuttle.get("onboard", []))
        aboard = set(shuttle.get("onboard", []))
        position, clock = shuttle["position"], now
        picked_up: dict[str, float] = {}
        for stop in stops:
            request = requests[stop["request"]]
            eta = at(stop["eta"])
            arrive = clock + travel_s(position, stop["position"], speed, factor)
            if stop["action"] == "pickup":
                assert stop["position"] == request["pickup"]
                assert stop["request"] not in aboard
                aboard.add(stop["request"])
                picked_up[stop["request"]] = eta
                load += request.get("passengers", 1)
                expected = max(arrive, at(request["earliest_pickup"]))
                assert eta >= at(request["earliest_pickup"]) - 0.5
                if eta > expected + 1.0:
                    # Held back so that a ride stays within its limit: the shuttle waits here.
                    assert any(r.get("max_ride_minutes") is not None for r in requests.values())
                    expected = eta
                assert assigned[stop["request"]]["pickup_eta"] == stop["eta"]
            else:
                assert stop["position"] == request["dropoff"]
                assert stop["request"] in aboard
                aboard.remove(stop["request"])
                boarded = picked_up.get(stop["request"])
                if request.get("max_ride_minutes") is not None and boarded is not None:
                    assert eta - boarded <= request["max_ride_minutes"] * 60 + 1.0
                load -= request.get("passengers", 1)
                expected = arrive
                assert eta <= at(request["latest_dropoff"]) + 0.5
                assert assigned[stop["request"]]["dropoff_eta"] == stop["eta"]
            assert assigned[stop["request"]]["shuttle"] == shuttle_id
            assert load <= shuttle["capacity"]
            assert abs(eta - expected) <= 1.0  # ETAs are printed to the second
            position, clock = stop["position"], expected + dwell
        assert aboard == set()


def point(draw: st.DrawFn) -> list[float]:
    return [
        round(CENTRE[0] + draw(st.floats(-0.015, 0.015)), 6),
        round(CENTRE[1] + draw(st.floats(-0.015, 0.015)), 6),
    ]


@st.composite
def cities(draw: st.DrawFn) -> dict[str, Any]:
    shuttles = [
        {
            "id": f"s{index}",
            "position": point(draw),
            "capacity": draw(st.integers(1, 6)),
        }
        for index in range(draw(st.integers(1, 4)))
    ]
    requests = []
    for index in range(draw(st.integers(0, 14))):
        start = NOW + timedelta(minutes=draw(st.integers(0, 60)))
        width = timedelta(minutes=draw(st.integers(5, 90)))
        request = {
            "id": f"r{index}",
            "pickup": point(draw),
            "dropoff": point(draw),
            "passengers": draw(st.integers(1, 4)),
            "earliest_pickup": start.isoformat(),
            "latest_dropoff": (start + width).isoformat(),
        }
        if draw(st.booleans()):  # an elderly rider: no long detours
            request["max_ride_minutes"] = draw(st.sampled_from([15, 25, 40]))
        requests.append(request)
    return {
        "now": NOW.isoformat(),
        "speed_kmh": draw(st.sampled_from([4.0, 5.0, 6.0, 12.0])),
        "detour_factor": draw(st.sampled_from([1.0, 1.3, 1.6])),
        "dwell_seconds": draw(st.sampled_from([0.0, 30.0, 90.0])),
        "shuttles": shuttles,
        "requests": requests,
    }


def run(document: dict[str, Any], *, batch: bool = False) -> dict[str, Any]:
    result = dispatch(DispatchInput.model_validate(document).problem())
    if batch:
        result = reoptimise(result, time_budget_s=2.0)
    return dispatch_document(result)


def with_plans(document: dict[str, Any], output: dict[str, Any], board: bool) -> dict[str, Any]:
    """The same city a moment later: the dispatched routes are now the shuttles' plans.

    With *board*, each shuttle has just picked up its first rider (it stands at the pickup).
    (A rider may board before their earliest pickup: they were there and got in.)
    """
    shuttles = []
    for shuttle in document["shuttles"]:
        plan = [
            {"request": s["request"], "action": s["action"], "position": s["position"]}
            for s in output["routes"][shuttle["id"]]
        ]
        state = dict(shuttle, plan=plan, onboard=[])
        if board and plan:
            state["position"] = plan[0]["position"]
            state["onboard"] = [plan[0]["request"]]
            state["plan"] = plan[1:]
        shuttles.append(state)
    return dict(document, shuttles=shuttles)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cities())
def test_dispatch_output_keeps_every_invariant(document: dict[str, Any]) -> None:
    check_document(document, run(document))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cities(), st.data())
def test_promised_rides_stay_with_their_shuttle_when_new_ones_arrive(
    document: dict[str, Any], data: st.DataObject
) -> None:
    first = run(document)
    later = with_plans(document, first, board=data.draw(st.booleans()))
    served = {a["request"]: a["shuttle"] for a in first["assignments"]}
    extra = data.draw(cities())["requests"]
    later["requests"] = [r for r in document["requests"] if r["id"] in served] + [
        dict(r, id=f"new-{r['id']}") for r in extra
    ]
    second = run(later)
    check_document(later, second)
    after = {a["request"]: a["shuttle"] for a in second["assignments"]}
    assert {rid: after.get(rid) for rid in served} == served


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cities(), st.booleans())
def test_batch_reoptimisation_serves_at_least_as_many_and_keeps_every_promise(
    document: dict[str, Any], board: bool
) -> None:
    online = run(document)
    planned = with_plans(document, online, board=board)
    served = {a["request"] for a in online["assignments"]}
    batch = run(planned, batch=True)
    check_document(planned, batch)
    assert served <= {a["request"] for a in batch["assignments"]}
    for rid in served:  # every promise still inside its window (check_document) and kept
        assert rid not in {u["request"] for u in batch["unassigned"]}
    after = {a["request"]: a["shuttle"] for a in batch["assignments"]}
    for shuttle in planned["shuttles"]:
        for rid in shuttle["onboard"]:  # a rider aboard stays aboard their shuttle
            assert after[rid] == shuttle["id"]


def test_a_plan_already_late_is_reported_and_not_made_later() -> None:
    document = {
        "now": NOW.isoformat(),
        "speed_kmh": 5,
        "shuttles": [
            {
                "id": "s1",
                "position": [36.60, 136.64],  # held up far from the drop-off
                "capacity": 4,
                "onboard": ["r0"],
                "plan": [{"request": "r0", "action": "dropoff", "position": list(CENTRE)}],
            }
        ],
        "requests": [
            {
                "id": "r0",
                "pickup": list(CENTRE),
                "dropoff": list(CENTRE),
                "earliest_pickup": (NOW - timedelta(minutes=30)).isoformat(),
                "latest_dropoff": (NOW + timedelta(minutes=5)).isoformat(),
            },
            {
                "id": "r1",
                "pickup": [36.595, 136.635],
                "dropoff": list(CENTRE),
                "earliest_pickup": NOW.isoformat(),
                "latest_dropoff": (NOW + timedelta(hours=2)).isoformat(),
            },
        ],
    }
    output = run(document)
    assert output["late"] == ["r0"]
    first_eta = output["routes"]["s1"][0]
    assert first_eta["request"] == "r0"  # nothing was put before the late rider
    direct = travel_s([36.60, 136.64], list(CENTRE), 5, 1.3)
    assert abs(at(first_eta["eta"]) - (NOW.timestamp() + direct)) <= 1


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cities())
def test_a_refused_ride_is_offered_a_window_that_would_be_served(document: dict[str, Any]) -> None:
    problem = DispatchInput.model_validate(document).problem()
    result = dispatch(problem)
    for refusal in result.refusals:
        alternative = refusal.alternative
        if alternative is None:
            continue
        original = result.requests[refusal.request]
        assert alternative.earliest_pickup >= original.earliest_pickup
        shifted = RideRequest(
            original.id + "-later",
            original.pickup,
            original.dropoff,
            original.passengers,
            alternative.earliest_pickup,
            alternative.latest_dropoff,
        )
        _, outcome = insert_request(result, shifted)
        assert not hasattr(outcome, "reason")


def test_hillside_ride_to_the_bus_stop_catches_the_bus() -> None:
    document = {
        "now": "2026-11-23T08:00:00+09:00",
        "speed_kmh": 5,
        "shuttles": [{"id": "s1", "position": [36.5958, 136.6392], "capacity": 4}],
        "requests": [
            {
                "id": "mrs-tanaka",
                "pickup": [36.5979, 136.6405],
                "dropoff": [36.5928, 136.6357],
                "earliest_pickup": "2026-11-23T08:05:00+09:00",
                "latest_dropoff": "2026-11-23T09:00:00+09:00",
                "bus_departure": "2026-11-23T08:30:00+09:00",
                "transfer_minutes": 5,
            }
        ],
    }
    output = run(document)
    check_document(document, output)
    dropoff = at(output["assignments"][0]["dropoff_eta"])
    assert dropoff <= at("2026-11-23T08:25:00+09:00")


def test_capacity_refusal_names_seats_and_has_no_alternative() -> None:
    document = {
        "now": NOW.isoformat(),
        "speed_kmh": 5,
        "shuttles": [{"id": "s1", "position": list(CENTRE), "capacity": 4}],
        "requests": [
            {
                "id": "group",
                "pickup": list(CENTRE),
                "dropoff": [36.592, 136.632],
                "passengers": 5,
                "earliest_pickup": NOW.isoformat(),
                "latest_dropoff": (NOW + timedelta(hours=1)).isoformat(),
            }
        ],
    }
    output = run(document)
    assert output["unassigned"] == [
        {
            "request": "group",
            "reason": "5 passengers; the largest shuttle seats 4",
            "alternative": None,
        }
    ]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"onboard": ["ghost"]}, "shuttles.0.onboard.0"),
        (
            {"plan": [{"request": "r0", "action": "dropoff", "position": list(CENTRE)}]},
            "shuttles.0.plan.0",
        ),
        (
            {"plan": [{"request": "r0", "action": "pickup", "position": list(CENTRE)}]},
            "shuttles.0.plan",
        ),
    ],
)
def test_inconsistent_plans_name_the_field(change: dict[str, Any], path: str) -> None:
    document = {
        "now": NOW.isoformat(),
        "speed_kmh": 5,
        "shuttles": [dict({"id": "s1", "position": list(CENTRE), "capacity": 4}, **change)],
        "requests": [
            {
                "id": "r0",
                "pickup": list(CENTRE),
                "dropoff": [36.592, 136.632],
                "earliest_pickup": NOW.isoformat(),
                "latest_dropoff": (NOW + timedelta(hours=1)).isoformat(),
            }
        ],
    }
    with pytest.raises(DispatchInputError) as caught:
        dispatch(DispatchInput.model_validate(document).problem())
    assert caught.value.path == path


def test_a_long_direct_ride_is_refused_against_the_ride_limit() -> None:
    document = {
        "now": NOW.isoformat(),
        "speed_kmh": 5,
        "shuttles": [{"id": "s1", "position": list(CENTRE), "capacity": 4}],
        "requests": [
            {
                "id": "far",
                "pickup": list(CENTRE),
                "dropoff": [36.60, 136.64],  # about 1.4 km: 22 min at walking pace, × 1.3
                "earliest_pickup": NOW.isoformat(),
                "latest_dropoff": (NOW + timedelta(hours=2)).isoformat(),
                "max_ride_minutes": 20,
            }
        ],
    }
    (refusal,) = run(document)["unassigned"]
    assert refusal["reason"].endswith("more than the 20.0 min allowed")
