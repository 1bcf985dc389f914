"""The O(n²) slack-based insertion finds exactly what re-timing every candidate would find."""

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cloud.mobility import (
    RideRequest,
    Route,
    Shuttle,
    TravelModel,
    best_insertion_into,
    schedule,
    stops_of,
)
from cloud.mobility._insertion import RIDE_TIME_WEIGHT

NOW = 1_795_392_000.0
TRAVEL = TravelModel(speed_kmh=5.0, detour_factor=1.3)


@st.composite
def rides(draw: st.DrawFn, name: str) -> RideRequest:
    def place() -> tuple[float, float]:
        return (36.59 + draw(st.floats(-0.006, 0.006)), 136.63 + draw(st.floats(-0.006, 0.006)))

    earliest = NOW + draw(st.integers(0, 3600))
    return RideRequest(
        name, place(), place(), draw(st.integers(1, 3)), earliest,
        earliest + draw(st.integers(900, 7200)),
    )  # fmt: skip


@st.composite
def routes(draw: st.DrawFn) -> Route:
    """A feasible route built by inserting random rides one by one."""
    shuttle = Shuttle("s1", (36.59, 136.63), draw(st.integers(1, 6)))
    route = Route.timed(shuttle, (), TRAVEL, NOW)
    for index in range(draw(st.integers(0, 8))):
        insertion = best_insertion_into(route, draw(rides(f"r{index}")), TRAVEL, NOW)
        if insertion is not None:
            route = insertion.route
    return route


def naive_best(route: Route, request: RideRequest) -> float | None:
    pickup, dropoff = stops_of(request, TRAVEL)
    before = route.driving_s(TRAVEL, NOW)
    best: float | None = None
    stops = route.stops
    for i in range(len(stops) + 1):
        for j in range(i, len(stops) + 1):
            candidate = (*stops[:i], pickup, *stops[i:j], dropoff, *stops[j:])
            timing = schedule(route.shuttle, candidate, TRAVEL, NOW)
            if not timing.feasible:
                continue
            added = Route(route.shuttle, candidate, timing).driving_s(TRAVEL, NOW) - before
            cost = added + RIDE_TIME_WEIGHT * (timing.service[j + 1] - request.earliest_pickup)
            best = cost if best is None else min(best, cost)
    return best


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(routes(), rides("new"))
def test_fast_insertion_agrees_with_re_timing_every_candidate(
    route: Route, request: RideRequest
) -> None:
    assert route.timing.feasible
    fast = best_insertion_into(route, request, TRAVEL, NOW)
    slow = naive_best(route, request)
    event(f"{len(route.stops)} stops, {'feasible' if slow is not None else 'refused'}")
    if slow is None:
        assert fast is None
        return
    assert fast is not None
    assert abs(fast.cost - slow) < 1e-3
    assert fast.route.timing.feasible
    kept = [stop for stop in fast.route.stops if stop.request != "new"]
    assert tuple(kept) == route.stops  # the others keep their order
