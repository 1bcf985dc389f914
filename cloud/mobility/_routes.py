"""Ride requests, shuttles and the timed schedule of a shuttle's route of stops.

Times are float seconds since the epoch (UTC); positions are (lat, lon) in degrees.
"""

from dataclasses import dataclass
from typing import Literal

from cloud.mobility._geo import LatLon, TravelModel

Action = Literal["pickup", "dropoff"]


@dataclass(frozen=True, slots=True)
class RideRequest:
    """A ride: pick *passengers* up at or after *earliest_pickup*, drop off by *latest_dropoff*."""

    id: str
    pickup: LatLon
    dropoff: LatLon
    passengers: int
    earliest_pickup: float
    latest_dropoff: float


@dataclass(frozen=True, slots=True)
class Stop:
    """A pickup or drop-off of one request; ``load`` is the change in passengers aboard."""

    request: str
    action: Action
    position: LatLon
    load: int
    earliest: float
    latest: float


def stops_of(request: RideRequest, travel: TravelModel) -> tuple[Stop, Stop]:
    """Pickup and drop-off; the pickup's latest time leaves room for boarding and the ride."""
    direct = travel.from_stop(request.pickup, request.dropoff)
    pickup = Stop(
        request.id,
        "pickup",
        request.pickup,
        request.passengers,
        request.earliest_pickup,
        request.latest_dropoff - direct,
    )
    dropoff = Stop(
        request.id,
        "dropoff",
        request.dropoff,
        -request.passengers,
        request.earliest_pickup + direct,
        request.latest_dropoff,
    )
    return pickup, dropoff


@dataclass(frozen=True, slots=True)
class Shuttle:
    """A shuttle now: where it is, its seats, and how many passengers are aboard."""

    id: str
    position: LatLon
    capacity: int
    load: int = 0


@dataclass(frozen=True, slots=True)
class Schedule:
    """A route's timing: per stop arrival, service start (after any wait), load after it, and
    forward slack (how much later the stop's service may start without breaking any window
    from it to the end, waits downstream absorbing part of a delay)."""

    arrival: tuple[float, ...]
    service: tuple[float, ...]
    load_after: tuple[int, ...]
    slack: tuple[float, ...]
    feasible: bool

    @property
    def end(self) -> float | None:
        return self.service[-1] if self.service else None


def schedule(
    shuttle: Shuttle, stops: tuple[Stop, ...], travel: TravelModel, now: float
) -> Schedule:
    """Time a route from the shuttle's position at *now*; ``feasible`` checks windows and seats."""
    arrival: list[float] = []
    service: list[float] = []
    load_after: list[int] = []
    feasible = shuttle.load <= shuttle.capacity
    position, clock, load = shuttle.position, now, shuttle.load
    for stop in stops:
        reached = clock + travel.seconds(position, stop.position)
        start = max(reached, stop.earliest) if stop.action == "pickup" else reached
        load += stop.load
        feasible = feasible and start <= stop.latest + 1e-6 and 0 <= load <= shuttle.capacity
        arrival.append(reached)
        service.append(start)
        load_after.append(load)
        position, clock = stop.position, start + travel.dwell_s
    slack = [0.0] * len(stops)
    following = float("inf")
    for index in range(len(stops) - 1, -1, -1):
        own = stops[index].latest - service[index]
        slack[index] = min(own, following)
        following = slack[index] + (service[index] - arrival[index])
    return Schedule(tuple(arrival), tuple(service), tuple(load_after), tuple(slack), feasible)
