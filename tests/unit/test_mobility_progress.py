"""Following a route from positions: stops in order, no pickup before it is due, fresh ETAs."""

from cloud.mobility import RideRequest, RouteProgress, Shuttle, TravelModel, best_insertion_into
from cloud.mobility._insertion import Route

TRAVEL = TravelModel(speed_kmh=5.0)
NOW = 1_795_392_000.0
DEPOT, HOME, BUS_STOP = (36.5958, 136.6392), (36.5979, 136.6405), (36.5928, 136.6357)


def one_ride_route() -> tuple[Route, RideRequest]:
    ride = RideRequest("r1", HOME, BUS_STOP, 1, NOW + 600, NOW + 3600)
    empty = Route.timed(Shuttle("s1", DEPOT, 4), (), TRAVEL, NOW)
    insertion = best_insertion_into(empty, ride, TRAVEL, NOW)
    assert insertion is not None
    return insertion.route, ride


def test_stops_are_reached_in_order_and_waits_and_rides_reported() -> None:
    route, ride = one_ride_route()
    progress = RouteProgress(route, {"r1": ride}, TRAVEL)
    assert progress.observe(BUS_STOP, NOW + 100) == []  # not the next stop: ignored
    assert progress.observe(HOME, NOW + 300) == []  # early: the rider is not due yet
    (pickup,) = progress.observe(HOME, NOW + 660)
    assert pickup.action == "pickup"
    assert len(progress.etas) == 1
    assert progress.etas[0] == NOW + 660 + TRAVEL.seconds(HOME, BUS_STOP)
    (dropoff,) = progress.observe(BUS_STOP, NOW + 1300)
    assert dropoff.action == "dropoff"
    record = progress.rides["r1"]
    assert (record.wait_s, record.ride_s) == (60, 640)
    assert progress.finished


def test_etas_move_with_the_shuttle() -> None:
    route, ride = one_ride_route()
    progress = RouteProgress(route, {"r1": ride}, TRAVEL)
    progress.observe(DEPOT, NOW + 120)  # held up at the depot for two minutes
    assert progress.etas[0] == max(NOW + 120 + TRAVEL.seconds(DEPOT, HOME), ride.earliest_pickup)
