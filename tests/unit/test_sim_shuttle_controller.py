"""The simulated shuttle's own controller: it drives the stops it is handed, stepped in seconds."""

import pytest

from simulators.vehicles import (
    ShuttleController,
    ShuttleStop,
    city_roads,
    distance_m,
    scooter_at,
    shuttle_at,
)

T0 = 1_795_420_800.0
DWELL_S = 20.0


def place(node: str) -> tuple[float, float]:
    roads = city_roads()
    return (roads.nodes[node].lat, roads.nodes[node].lon)


def controller_at(node: str) -> ShuttleController:
    return ShuttleController(
        shuttle_at(city_roads(), "shuttle-1", node, capacity=4), dwell_s=DWELL_S
    )


class Run:
    """Steps a controller one simulated second at a time, noting what it did when."""

    def __init__(self, controller: ShuttleController, start: float = T0) -> None:
        self.controller = controller
        self.now = start
        self.doors_opened: list[float] = []
        self.departures: list[float] = []

    def until(self, end: float) -> None:
        while self.now < end:
            doors_were_open = self.controller.vehicle.door_open
            self.now += 1.0
            self.controller.step(1.0, self.now)
            doors_open = self.controller.vehicle.door_open
            if doors_open and not doors_were_open:
                self.doors_opened.append(self.now)
            if doors_were_open and not doors_open:
                self.departures.append(self.now)

    def at(self, node: str) -> bool:
        vehicle = self.controller.vehicle
        return distance_m(vehicle.lat, vehicle.lon, *place(node)) < 1.0


def seconds_to(start: str, goal: str) -> float:
    vehicle = shuttle_at(city_roads(), "probe", start)
    return distance_m(*place(start), *place(goal)) / (vehicle.speed_kmh / 3.6)


def test_it_drives_to_each_stop_waits_until_due_and_a_dwell_then_drives_on() -> None:
    controller = controller_at("estate-gate")
    run = Run(controller)
    drive_s = seconds_to("estate-gate", "estate-2")
    pickup_eta = T0 + drive_s + 60  # the rider is due a minute after the shuttle arrives
    controller.take(
        [
            ShuttleStop(place("estate-2"), pickup_eta, "mrs-sato", 2),
            ShuttleStop(place("bus-stop"), pickup_eta + 300, "mrs-sato", -2),
        ]
    )
    assert controller.routes_taken == 1

    run.until(T0 + drive_s + 2)
    assert run.at("estate-2")
    assert controller.vehicle.door_open
    assert controller.vehicle.occupancy == 0  # nobody gets on before the stop is due

    run.until(pickup_eta + 1)
    assert controller.vehicle.occupancy == 2
    assert run.at("estate-2")

    run.until(pickup_eta + DWELL_S + 2)
    assert not run.at("estate-2")
    assert run.departures == [pytest.approx(pickup_eta + DWELL_S, abs=1)]
    assert not controller.vehicle.door_open
    assert controller.vehicle.moving
    assert len(controller.stops) == 1

    run.until(pickup_eta + DWELL_S + seconds_to("estate-2", "bus-stop") + 400)
    assert run.at("bus-stop")
    assert controller.vehicle.occupancy == 0
    assert controller.stops == ()
    assert not controller.vehicle.door_open
    assert not controller.vehicle.moving
    assert len(run.doors_opened) == 2


def test_a_late_shuttle_still_dwells_once_it_is_there() -> None:
    controller = controller_at("estate-gate")
    run = Run(controller)
    controller.take([ShuttleStop(place("estate-2"), T0, "mr-ito", 1)])  # due already
    run.until(T0 + seconds_to("estate-gate", "estate-2") + 2 * DWELL_S)
    (opened,) = run.doors_opened
    (left,) = run.departures
    assert left - opened == pytest.approx(DWELL_S, abs=1)


def test_a_new_list_replaces_the_old_one() -> None:
    controller = controller_at("estate-gate")
    run = Run(controller)
    controller.take([ShuttleStop(place("estate-2"), T0 + 3600, "mr-ito", 1)])
    run.until(T0 + 30)
    controller.take([ShuttleStop(place("bus-stop"), T0 + 60, "mrs-sato", 1)])
    run.until(T0 + seconds_to("estate-gate", "bus-stop") + 600)
    assert run.at("bus-stop")
    assert controller.routes_taken == 2
    assert controller.aboard == {"mrs-sato": 1}


def test_a_list_starting_where_it_stands_keeps_the_doors_open_and_its_arrival() -> None:
    controller = controller_at("estate-2")
    run = Run(controller)
    stop = ShuttleStop(place("estate-2"), T0, "mr-ito", 1)
    controller.take([stop])
    run.until(T0 + 10)
    assert controller.vehicle.door_open
    # Handed again with a later stop added (the service took another ride).
    controller.take([stop, ShuttleStop(place("bus-stop"), T0 + 900, "mr-ito", -1)])
    run.until(T0 + DWELL_S + 3)
    assert run.doors_opened == [T0 + 1]
    assert run.departures == [T0 + 1 + DWELL_S]


def test_handed_the_same_stops_twice_it_counts_the_riders_once() -> None:
    controller = controller_at("estate-2")
    run = Run(controller)
    stops = [ShuttleStop(place("estate-2"), T0 + 5, "mr-ito", 3)]
    controller.take(stops)
    run.until(T0 + 10)
    controller.take(stops)
    run.until(T0 + 12)
    assert controller.vehicle.occupancy == 3


def test_an_empty_list_means_stand_by() -> None:
    controller = controller_at("estate-gate")
    run = Run(controller)
    controller.take([ShuttleStop(place("bus-stop"), T0 + 60)])
    run.until(T0 + 10)
    controller.take([])
    stood = (controller.vehicle.lat, controller.vehicle.lon)
    run.until(T0 + 100)
    assert (controller.vehicle.lat, controller.vehicle.lon) == stood
    assert not controller.vehicle.moving
    assert not controller.vehicle.door_open


def test_a_position_sampled_every_step_shows_it_standing_at_each_stop_once_due() -> None:
    # Coarse steps (the demo samples every 30 simulated seconds): the stop is left at a step,
    # so the sample of that step still shows the shuttle there, after the stop was due.
    controller = controller_at("estate-gate")
    eta = T0 + seconds_to("estate-gate", "estate-2") - 5  # due just before it arrives
    controller.take([ShuttleStop(place("estate-2"), eta, "mr-ito", 1)])
    now, seen_due_at_stop = T0, []
    while now < T0 + 3600 and controller.stops:
        now += 30.0
        controller.step(30.0, now)
        vehicle = controller.vehicle
        if distance_m(vehicle.lat, vehicle.lon, *place("estate-2")) < 1.0 and now >= eta:
            seen_due_at_stop.append(now)
    assert seen_due_at_stop
    assert controller.stops == ()


def test_only_a_shuttle_has_this_controller() -> None:
    with pytest.raises(ValueError, match="not a shuttle"):
        ShuttleController(scooter_at(city_roads(), "scooter-1", "station"), dwell_s=DWELL_S)
