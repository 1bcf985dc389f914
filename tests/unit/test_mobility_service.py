"""The dispatcher as a service through a simulated morning: rides booked while shuttles drive.

Shuttles follow the service's routes stop by stop (the simulator drives straight lines at walking
speed, dwells at each stop, waits for riders not yet due) and report a position every 5 s;
rides are booked over the morning; the batch re-optimisation runs every 5 minutes.
"""

import random

import pytest

from cloud.mobility import (
    CancellationError,
    Refusal,
    RideRequest,
    ShuttleService,
    ShuttleState,
    TravelModel,
    compute_batch,
    distance_m,
)
from simulators.vehicles import SimulatedVehicle, city_roads

NOW = 1_795_392_000.0  # 08:00 JST
TRAVEL = TravelModel(speed_kmh=5.0, detour_factor=1.3, dwell_s=20.0)
HOMES = ["estate-1", "estate-2", "estate-3", "estate-4", "estate-5", "estate-6", "estate-clinic"]


def bookings(seed: int) -> list[tuple[float, RideRequest]]:
    roads = city_roads()
    rng = random.Random(seed)
    bus_stop = (roads.nodes["bus-stop"].lat, roads.nodes["bus-stop"].lon)
    booked = []
    for index in range(14):
        home = roads.nodes[rng.choice(HOMES)]
        at = NOW + rng.uniform(0, 2400)
        earliest = at + rng.uniform(120, 900)
        booked.append(
            (
                at,
                RideRequest(
                    f"r{index:02d}", (home.lat, home.lon), bus_stop, rng.choice([1, 1, 2]),
                    earliest, earliest + rng.uniform(1500, 2700),
                    max_ride_s=rng.choice([None, None, 900.0]),  # some may ride 15 min at most
                ),
            )
        )  # fmt: skip
    return sorted(booked, key=lambda pair: pair[0])


@pytest.mark.parametrize("seed", [4, 7, 11])
def test_a_morning_of_rides_every_promise_kept(seed: int) -> None:
    roads = city_roads()
    depot = roads.nodes["estate-gate"]
    capacity = 3
    service = ShuttleService(
        [ShuttleState(f"s{i}", (depot.lat, depot.lon), capacity) for i in range(2)],
        TRAVEL, NOW, reoptimise_every_s=300, batch_budget_s=0.2,
    )  # fmt: skip
    vehicles = {
        sid: SimulatedVehicle(sid, "shuttle", depot.lat, depot.lon, 5.0, capacity=capacity)
        for sid in service.routes
    }
    dwell_left = dict.fromkeys(vehicles, 0)
    queue = bookings(seed=seed)
    requests = {ride.id: ride for _, ride in queue}
    answers: dict[str, object] = {}
    for second in range(int(3.5 * 3600)):
        now = NOW + second
        while queue and queue[0][0] <= now:
            _, ride = queue.pop(0)
            answers[ride.id] = service.request(ride, now)
        service.tick(now)
        for sid, vehicle in vehicles.items():
            stops = service.routes[sid].stops
            arrived = False
            if stops and dwell_left[sid] == 0:
                target = stops[0]
                if distance_m((vehicle.lat, vehicle.lon), target.position) > 1.0:
                    vehicle.follow([target.position])
                    vehicle.step(1.0)
                    arrived = not vehicle.moving
                elif target.action == "pickup" and now < target.earliest:
                    pass  # the rider is not due yet
            elif dwell_left[sid] > 0:
                dwell_left[sid] -= 1
            if arrived or second % 5 == 0:
                reached = service.position(sid, (vehicle.lat, vehicle.lon), now)
                if reached:
                    vehicle.occupancy += sum(stop.load for stop in reached)
                    assert 0 <= vehicle.occupancy <= capacity
                    dwell_left[sid] = int(TRAVEL.dwell_s)
    report = service.report()
    accepted = [rid for rid, answer in answers.items() if not isinstance(answer, Refusal)]
    assert len(answers) == len(requests)
    assert len(accepted) >= len(requests) // 2
    assert {ride.request for ride in report.completed} == set(accepted)
    assert report.late(requests) == ()
    for ride in report.completed:
        assert ride.pickup_at is not None
        assert ride.pickup_at >= requests[ride.request].earliest_pickup
        assert ride.dropoff_at is not None
        assert ride.dropoff_at <= requests[ride.request].latest_dropoff
        limit = requests[ride.request].max_ride_s
        assert limit is None or ride.dropoff_at - ride.pickup_at <= limit + 1
    assert report.mean_wait_s() is not None
    assert report.mean_ride_s() is not None
    assert all(vehicle.occupancy == 0 for vehicle in vehicles.values())
    assert all(not route.stops for route in service.routes.values())


def two_rides_on_one_shuttle() -> ShuttleService:
    roads = city_roads()
    place = {node: (roads.nodes[node].lat, roads.nodes[node].lon) for node in roads.nodes}
    service = ShuttleService([ShuttleState("s0", place["estate-gate"], 4)], TRAVEL, NOW)
    for rid, home in (("near", "estate-1"), ("far", "estate-6")):
        ride = RideRequest(rid, place[home], place["bus-stop"], 1, NOW + 60, NOW + 3600)
        assert not isinstance(service.request(ride, NOW), Refusal)
    return service


def test_a_cancelled_ride_leaves_its_route_and_the_rest_is_retimed() -> None:
    service = two_rides_on_one_shuttle()
    before = service.status("far")
    assert before is not None
    assert before.dropoff_eta is not None
    assert service.cancel("near", NOW + 10) == "s0"
    route = service.routes["s0"]
    assert {stop.request for stop in route.stops} == {"far"}
    assert route.timing.feasible
    after = service.status("far")
    assert after is not None
    assert after.dropoff_eta is not None
    assert after.dropoff_eta < before.dropoff_eta  # no detour to the other home
    cancelled = service.status("near")
    assert cancelled is not None
    assert (cancelled.state, cancelled.shuttle, cancelled.pickup_eta) == ("cancelled", None, None)
    assert service.report().cancelled == 1
    assert [ride.request for ride in service.report().rides] == ["far"]
    with pytest.raises(CancellationError, match="cancelled already"):
        service.cancel("near", NOW + 20)


def test_a_batch_is_dropped_when_a_ride_was_booked_since_its_snapshot() -> None:
    service = two_rides_on_one_shuttle()
    assert service.batch_due(NOW + 1) is None  # not due yet
    snapshot = service.batch_due(NOW + 300)
    assert snapshot is not None
    batch = compute_batch(snapshot, 0.05)
    ride = RideRequest(
        "late",
        service.routes["s0"].shuttle.position,
        snapshot.routes["s0"].stops[-1].position,
        1,
        NOW + 400,
        NOW + 3600,
    )
    assert not isinstance(service.request(ride, NOW + 301), Refusal)
    assert not service.adopt(snapshot, batch)  # it does not know the new ride
    assert service.result.now == NOW + 301
    # Due again at once: the next round retries.
    again = service.batch_due(NOW + 302)
    assert again is not None
    assert service.adopt(again, compute_batch(again, 0.05))
    assert service.result.now == NOW + 302
