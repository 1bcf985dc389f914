"""The batch re-optimisation with every ride served: it still shortens the plan."""

from dataclasses import replace

from cloud.mobility import (
    DispatchResult,
    Refusal,
    RideRequest,
    ShuttleService,
    ShuttleState,
    TravelModel,
    distance_m,
    reoptimise,
)
from cloud.mobility._insertion import Route
from simulators.vehicles import city_roads

NOW = 1_795_392_000.0  # 08:00 JST
TRAVEL = TravelModel(speed_kmh=5.0, detour_factor=1.3, dwell_s=20.0)
PLACE = {node: (place.lat, place.lon) for node, place in city_roads().nodes.items()}


def crosswise() -> DispatchResult:
    """Each shuttle waits at one estate home, but is planned for the rider at the other."""
    homes = ("estate-4", "slope-2")
    assert distance_m(PLACE[homes[0]], PLACE[homes[1]]) > 300
    service = ShuttleService(
        [ShuttleState(f"s-{home}", PLACE[home], 4) for home in homes], TRAVEL, NOW
    )
    for home in homes:
        ride = RideRequest(f"r-{home}", PLACE[home], PLACE["bus-stop"], 1, NOW + 60, NOW + 7200)
        assert not isinstance(service.request(ride, NOW), Refusal)
    result = service.result
    stops = {
        home: tuple(s for r in result.routes.values() for s in r.stops if s.request == f"r-{home}")
        for home in homes
    }
    routes = {
        f"s-{homes[0]}": Route.timed(
            result.routes[f"s-{homes[0]}"].shuttle, stops[homes[1]], TRAVEL, NOW
        ),
        f"s-{homes[1]}": Route.timed(
            result.routes[f"s-{homes[1]}"].shuttle, stops[homes[0]], TRAVEL, NOW
        ),
    }
    assert all(route.timing.feasible for route in routes.values())
    return replace(result, routes=routes)


def ends(result: DispatchResult) -> float:
    return sum((route.timing.end or result.now) - result.now for route in result.routes.values())


def test_with_every_ride_served_the_batch_still_gives_each_rider_the_nearer_shuttle() -> None:
    planned = crosswise()
    better = reoptimise(planned, time_budget_s=0.5)
    assert {sid: route.requests() for sid, route in better.routes.items()} == {
        "s-estate-4": {"r-estate-4"},
        "s-slope-2": {"r-slope-2"},
    }
    assert ends(better) < ends(planned) - 60
    assert better.promised == planned.promised
    assert all(route.timing.feasible for route in better.routes.values())


def test_a_gain_below_the_threshold_leaves_the_plan_as_it_is() -> None:
    planned = crosswise()
    gain = ends(planned) - ends(reoptimise(planned, time_budget_s=0.5))
    kept = reoptimise(planned, time_budget_s=0.5, min_gain_s=gain + 1)
    assert kept.routes == planned.routes
