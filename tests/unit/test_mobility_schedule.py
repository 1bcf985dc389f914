"""A route's timing holds a pickup back when boarding later keeps a rider's ride limit."""

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from cloud.mobility import (
    Refusal,
    RideRequest,
    Schedule,
    Shuttle,
    ShuttleService,
    ShuttleState,
    Stop,
    TravelModel,
    schedule,
    stops_of,
)

NOW = 1_795_392_000.0
TRAVEL = TravelModel(speed_kmh=5.0, detour_factor=1.3, dwell_s=20.0)
DEPOT = (36.59, 136.63)
ON_THE_WAY = (36.594, 136.63)
CARE_HOME = (36.598, 136.63)
EPS = 1e-6


def elderly_then_later_rider(
    first_latest_pickup: float = NOW + 7200,
) -> tuple[Shuttle, tuple[Stop, ...], float]:
    """Rider "a" (ride limit) boards where the shuttle stands; "b", due in 1000 s, boards on the
    way; both ride to the care home. Returns the shuttle, the stops and a's ride limit."""
    to_b = TRAVEL.from_stop(DEPOT, ON_THE_WAY)
    to_home = TRAVEL.from_stop(ON_THE_WAY, CARE_HOME)
    limit = to_b + to_home + 60
    a = RideRequest("a", DEPOT, CARE_HOME, 1, NOW, NOW + 7200, limit)
    b = RideRequest("b", ON_THE_WAY, CARE_HOME, 1, NOW + 1000, NOW + 7200)
    pickup_a, dropoff_a = stops_of(a, TRAVEL)
    pickup_b, dropoff_b = stops_of(b, TRAVEL)
    pickup_a = Stop("a", "pickup", DEPOT, 1, NOW, first_latest_pickup)
    return Shuttle("s1", DEPOT, 4), (pickup_a, pickup_b, dropoff_a, dropoff_b), limit


def test_the_shuttle_waits_at_the_first_pickup_so_the_ride_keeps_its_limit() -> None:
    shuttle, stops, limit = elderly_then_later_rider()
    timing = schedule(shuttle, stops, TRAVEL, NOW)
    to_b = TRAVEL.from_stop(DEPOT, ON_THE_WAY)
    assert timing.feasible
    # Boarding "a" at once would leave 1000 s minus the drive waiting for "b" inside a's ride.
    assert timing.arrival[0] == pytest.approx(NOW)
    # Held just long enough: the ride is exactly at its limit (60 s of the wait stay at "b").
    assert timing.service[0] == pytest.approx(NOW + 1000 - to_b - 60)
    assert timing.service[2] - timing.service[0] == pytest.approx(limit)
    # The wait moved to the first pickup: nothing after it got later.
    assert timing.arrival[1] == pytest.approx(NOW + 1000 - 60)
    assert timing.service[1] == pytest.approx(NOW + 1000)
    assert timing.slack == pytest.approx(reference_slack(stops, timing))


def test_a_pickup_is_not_held_past_its_own_window() -> None:
    shuttle, stops, _ = elderly_then_later_rider(first_latest_pickup=NOW + 300)
    timing = schedule(shuttle, stops, TRAVEL, NOW)
    assert not timing.feasible
    assert timing.service[0] == pytest.approx(NOW)  # timed as before: no partial delay


def test_the_service_boards_a_held_rider_at_the_planned_time_not_before() -> None:
    to_b = TRAVEL.from_stop(DEPOT, ON_THE_WAY)
    limit = to_b + TRAVEL.from_stop(ON_THE_WAY, CARE_HOME) + 60
    service = ShuttleService([ShuttleState("s1", DEPOT, 4)], TRAVEL, NOW)
    for ride in (
        RideRequest("a", DEPOT, CARE_HOME, 1, NOW, NOW + 7200, limit),
        RideRequest("b", ON_THE_WAY, CARE_HOME, 1, NOW + 1000, NOW + 7200),
    ):
        assert not isinstance(service.request(ride, NOW), Refusal)
    route = service.routes["s1"]
    assert [(stop.request, stop.action) for stop in route.stops[:2]] == [
        ("a", "pickup"),
        ("b", "pickup"),
    ]
    held_until = route.timing.service[0]
    assert held_until == pytest.approx(NOW + 1000 - to_b - 60)
    assert service.position("s1", DEPOT, NOW + 10) == []  # the rider is there, the shuttle waits
    assert service.routes["s1"].timing.service[0] == pytest.approx(held_until)
    boarded = service.position("s1", DEPOT, held_until)
    assert [(stop.request, stop.action) for stop in boarded] == [("a", "pickup")]


# Random routes: any order of pickups before their drop-offs, riders aboard, tight limits.


def unheld(shuttle: Shuttle, stops: tuple[Stop, ...], travel: TravelModel) -> Schedule:
    """The timing as it was before pickups could be held: each starts as soon as it can."""
    arrival, service, load_after = [], [], []
    feasible = shuttle.load <= shuttle.capacity
    position, clock, load = shuttle.position, NOW, shuttle.load
    boarded: dict[str, float] = {}
    for stop in stops:
        reached = clock + travel.seconds(position, stop.position)
        start = max(reached, stop.earliest) if stop.action == "pickup" else reached
        if stop.action == "pickup":
            boarded[stop.request] = start
        elif stop.max_ride_s is not None and stop.request in boarded:
            feasible = feasible and start - boarded[stop.request] <= stop.max_ride_s + EPS
        load += stop.load
        feasible = feasible and start <= stop.latest + EPS and 0 <= load <= shuttle.capacity
        arrival.append(reached)
        service.append(start)
        load_after.append(load)
        position, clock = stop.position, start + travel.dwell_s
    slack = tuple(0.0 for _ in stops)
    return Schedule(tuple(arrival), tuple(service), tuple(load_after), slack, feasible)


def reference_slack(stops: tuple[Stop, ...], timing: Schedule) -> list[float]:
    """Forward slack by its definition: the least, over the stops from *i* on, of the room in
    the stop's window plus the waits between *i* and it."""
    slack = []
    for i in range(len(stops)):
        waits, least = 0.0, float("inf")
        for j in range(i, len(stops)):
            if j > i:
                waits += timing.service[j] - timing.arrival[j]
            least = min(least, waits + stops[j].latest - timing.service[j])
        slack.append(least)
    return slack


@st.composite
def random_routes(draw: st.DrawFn) -> tuple[Shuttle, tuple[Stop, ...], TravelModel]:
    travel = draw(st.sampled_from([TravelModel(5.0, 1.3), TRAVEL]))

    def place() -> tuple[float, float]:
        return (36.59 + draw(st.floats(-0.003, 0.003)), 136.63 + draw(st.floats(-0.003, 0.003)))

    capacity = draw(st.integers(4, 8))
    aboard = draw(st.integers(0, 2))
    lanes = [
        [Stop(f"on{index}", "dropoff", place(), -1, NOW, NOW + draw(st.integers(600, 7200)))]
        for index in range(aboard)
    ]
    for index in range(draw(st.integers(1, 5))):
        earliest = NOW + draw(st.integers(0, 3600))
        ride = RideRequest(
            f"r{index}", place(), place(), 1, earliest,
            earliest + draw(st.integers(1800, 14400)),
            draw(st.sampled_from([None, 900.0, 1200.0, 1800.0, 2400.0])),
        )  # fmt: skip
        lanes.append(list(stops_of(ride, travel)))
    stops: list[Stop] = []
    while lanes:
        lane = lanes[draw(st.integers(0, len(lanes) - 1))]
        stops.append(lane.pop(0))
        lanes = [lane for lane in lanes if lane]
    return Shuttle("s1", place(), capacity, aboard), tuple(stops), travel


@settings(max_examples=400, deadline=None)
@given(random_routes())
def test_a_route_feasible_before_stays_feasible_and_timed_the_same(
    case: tuple[Shuttle, tuple[Stop, ...], TravelModel],
) -> None:
    shuttle, stops, travel = case
    before = unheld(shuttle, stops, travel)
    after = schedule(shuttle, stops, travel, NOW)
    if before.feasible:
        assert after.feasible
        assert after.service == pytest.approx(before.service)
    if before.feasible:
        event("feasible as soon as each stop can start")
    else:
        event("held to keep a ride limit" if after.feasible else "infeasible either way")
    assert after.load_after == before.load_after


@settings(max_examples=400, deadline=None)
@given(random_routes())
def test_a_timing_respects_arrival_windows_ride_limits_and_seats(
    case: tuple[Shuttle, tuple[Stop, ...], TravelModel],
) -> None:
    shuttle, stops, travel = case
    before = unheld(shuttle, stops, travel)
    timing = schedule(shuttle, stops, travel, NOW)
    boarded: dict[str, float] = {}
    for index, stop in enumerate(stops):
        service = timing.service[index]
        assert timing.arrival[index] <= service + EPS
        # No stop is made later than its window allows, nor later than it was.
        assert service <= max(before.service[index], stop.latest) + EPS
        if stop.action == "pickup":
            assert stop.earliest <= service + EPS
            boarded[stop.request] = service
        else:
            assert service == pytest.approx(timing.arrival[index])
        if timing.feasible:
            assert service <= stop.latest + EPS
            assert 0 <= timing.load_after[index] <= shuttle.capacity
            if stop.max_ride_s is not None and stop.request in boarded:
                assert service - boarded[stop.request] <= stop.max_ride_s + EPS
    if not timing.feasible:
        assert timing.service == pytest.approx(before.service)


@settings(max_examples=400, deadline=None)
@given(random_routes())
def test_the_slack_is_the_forward_slack_of_the_service_times(
    case: tuple[Shuttle, tuple[Stop, ...], TravelModel],
) -> None:
    shuttle, stops, travel = case
    timing = schedule(shuttle, stops, travel, NOW)
    assert list(timing.slack) == pytest.approx(reference_slack(stops, timing), abs=1e-6)
