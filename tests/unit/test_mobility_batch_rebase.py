"""A batch plan carried onto the state as positions changed it meanwhile."""

from dataclasses import replace

import pytest

from cloud.mobility import (
    Refusal,
    RideRequest,
    ShuttleService,
    ShuttleState,
    TravelModel,
    rebase_batch,
)
from cloud.mobility._dispatch import DispatchResult
from cloud.mobility._insertion import Route
from simulators.vehicles import city_roads

NOW = 1_795_392_000.0  # 08:00 JST
TRAVEL = TravelModel(speed_kmh=5.0, detour_factor=1.3, dwell_s=20.0)
PLACE = {node: (place.lat, place.lon) for node, place in city_roads().nodes.items()}


def two_shuttles_one_busy() -> ShuttleService:
    """s0 at the estate gate has both rides; s1 waits at the bus stop."""
    service = ShuttleService(
        [ShuttleState("s0", PLACE["estate-gate"], 4), ShuttleState("s1", PLACE["bus-stop"], 4)],
        TRAVEL,
        NOW,
    )
    for rid, home in (("near", "estate-1"), ("far", "estate-6")):
        ride = RideRequest(rid, PLACE[home], PLACE["bus-stop"], 1, NOW + 60, NOW + 7200)
        assert not isinstance(service.request(ride, NOW), Refusal)
    # Both on one shuttle, whatever insertion chose: the batch below moves one.
    routes = service.result.routes
    stops = tuple(stop for route in routes.values() for stop in route.stops)
    s0 = Route.timed(routes["s0"].shuttle, stops, TRAVEL, NOW)
    s1 = Route.timed(routes["s1"].shuttle, (), TRAVEL, NOW)
    assert s0.timing.feasible
    service.result = replace(service.result, routes={"s0": s0, "s1": s1})
    return service


def moving(service: ShuttleService, request: str) -> tuple[DispatchResult, DispatchResult]:
    """A snapshot and a batch that gives *request* to s1."""
    snapshot = service.result
    kept = tuple(stop for stop in snapshot.routes["s0"].stops if stop.request != request)
    moved = tuple(stop for stop in snapshot.routes["s0"].stops if stop.request == request)
    batch = replace(
        snapshot,
        routes={
            "s0": Route.timed(snapshot.routes["s0"].shuttle, kept, TRAVEL, snapshot.now),
            "s1": Route.timed(snapshot.routes["s1"].shuttle, moved, TRAVEL, snapshot.now),
        },
    )
    return snapshot, batch


def test_a_batch_is_retimed_from_where_the_shuttles_moved_meanwhile() -> None:
    service = two_shuttles_one_busy()
    snapshot, batch = moving(service, "far")
    halfway = (
        (PLACE["bus-stop"][0] + PLACE["estate-6"][0]) / 2,
        (PLACE["bus-stop"][1] + PLACE["estate-6"][1]) / 2,
    )
    service.position("s1", halfway, NOW + 30)
    assert service.adopt(snapshot, batch)
    routes = service.routes
    assert [(s.request, s.action) for s in routes["s1"].stops] == [
        ("far", "pickup"),
        ("far", "dropoff"),
    ]
    assert {s.request for s in routes["s0"].stops} == {"near"}
    # s0 has not reported since: timed from when its route was, not taken to stand still.
    s0 = routes["s0"]
    first = s0.stops[0].position
    assert s0.timing.arrival[0] == pytest.approx(NOW + TRAVEL.seconds(s0.shuttle.position, first))
    # Timed from the position reported after the snapshot, not from the bus stop.
    assert routes["s1"].shuttle.position == halfway
    assert service.result.now == NOW + 30
    assert all(route.timing.feasible for route in routes.values())


def test_a_stop_served_meanwhile_by_the_shuttle_keeping_it_is_left_out() -> None:
    service = two_shuttles_one_busy()
    snapshot, batch = moving(service, "far")
    served = service.position("s0", PLACE["estate-1"], NOW + 600)
    assert [(s.request, s.action) for s in served] == [("near", "pickup")]
    assert service.adopt(snapshot, batch)
    assert [(s.request, s.action) for s in service.routes["s0"].stops] == [("near", "dropoff")]
    assert service.routes["s0"].shuttle.load == 1


def test_a_ride_picked_up_by_the_shuttle_the_batch_took_it_from_stays_there() -> None:
    service = two_shuttles_one_busy()
    snapshot, batch = moving(service, "near")
    service.position("s0", PLACE["estate-1"], NOW + 600)  # s0 picks "near" up
    before = service.result
    assert rebase_batch(snapshot, batch, before) is None
    assert not service.adopt(snapshot, batch)
    assert service.result is before


def test_a_ride_booked_meanwhile_drops_the_batch() -> None:
    service = two_shuttles_one_busy()
    snapshot, batch = moving(service, "far")
    ride = RideRequest("new", PLACE["estate-2"], PLACE["bus-stop"], 1, NOW + 60, NOW + 7200)
    assert not isinstance(service.request(ride, NOW + 5), Refusal)
    assert not service.adopt(snapshot, batch)
    assert "new" in service.routes["s0"].requests() | service.routes["s1"].requests()


def test_a_ride_cancelled_meanwhile_drops_the_batch() -> None:
    service = two_shuttles_one_busy()
    snapshot, batch = moving(service, "far")
    service.cancel("near", NOW + 5)
    assert not service.adopt(snapshot, batch)
    assert "near" not in service.routes["s0"].requests()


def test_a_batch_that_would_break_a_window_from_here_is_dropped() -> None:
    service = two_shuttles_one_busy()
    snapshot, batch = moving(service, "far")
    # s1 reports from far out of town: from there it cannot make the ride in time.
    service.position("s1", (PLACE["bus-stop"][0] + 0.5, PLACE["bus-stop"][1]), NOW + 30)
    assert not service.adopt(snapshot, batch)
    assert "far" in service.routes["s0"].requests()
