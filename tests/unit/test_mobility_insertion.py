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
TRAVELS = [TravelModel(5.0, 1.3), TravelModel(5.0, 1.3, dwell_s=45.0)]


@st.composite
def rides(draw: st.DrawFn, name: str) -> RideRequest:
    def place() -> tuple[float, float]:
        return (36.59 + draw(st.floats(-0.006, 0.006)), 136.63 + draw(st.floats(-0.006, 0.006)))

    earliest = NOW + draw(st.integers(0, 3600))
    max_ride = draw(st.sampled_from([None, None, 600.0, 1200.0]))
    return RideRequest(
        name, place(), place(), draw(st.integers(1, 3)), earliest,
        earliest + draw(st.integers(900, 7200)), max_ride,
    )  # fmt: skip


@st.composite
def routes(draw: st.DrawFn, travel: TravelModel) -> Route:
    """A feasible route built by inserting random rides one by one."""
    shuttle = Shuttle("s1", (36.59, 136.63), draw(st.integers(1, 6)))
    route = Route.timed(shuttle, (), travel, NOW)
    for index in range(draw(st.integers(0, 8))):
        insertion = best_insertion_into(route, draw(rides(f"r{index}")), travel, NOW)
        if insertion is not None:
            route = insertion.route
    return route


def naive_best(route: Route, request: RideRequest, travel: TravelModel) -> float | None:
    pickup, dropoff = stops_of(request, travel)
    before = route.driving_s(travel, NOW)
    best: float | None = None
    stops = route.stops
    for i in range(len(stops) + 1):
        for j in range(i, len(stops) + 1):
            candidate = (*stops[:i], pickup, *stops[i:j], dropoff, *stops[j:])
            timing = schedule(route.shuttle, candidate, travel, NOW)
            if not timing.feasible:
                continue
            driving = Route(route.shuttle, candidate, timing).driving_s(travel, NOW) - before
            # Dwelling counts at each stop the shuttle drives on from: two more, or one on an
            # empty route (nothing follows the drop-off).
            added = driving + (2 if stops else 1) * travel.dwell_s
            cost = added + RIDE_TIME_WEIGHT * (timing.service[j + 1] - request.earliest_pickup)
            best = cost if best is None else min(best, cost)
    return best


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), rides("new"))
def test_fast_insertion_agrees_with_re_timing_every_candidate(
    data: st.DataObject, request: RideRequest
) -> None:
    travel = data.draw(st.sampled_from(TRAVELS))
    route = data.draw(routes(travel))
    assert route.timing.feasible
    fast = best_insertion_into(route, request, travel, NOW)
    slow = naive_best(route, request, travel)
    event(f"{len(route.stops)} stops, {'feasible' if slow is not None else 'refused'}")
    if slow is None:
        assert fast is None
        return
    assert fast is not None
    assert abs(fast.cost - slow) < 1e-3
    assert fast.route.timing.feasible
    kept = [stop for stop in fast.route.stops if stop.request != "new"]
    assert tuple(kept) == route.stops  # the others keep their order
