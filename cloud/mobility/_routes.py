"""Ride requests, shuttles and the timed schedule of a shuttle's route of stops.

Times are float seconds since the epoch (UTC); positions are (lat, lon) in degrees.
"""

from dataclasses import dataclass
from typing import Literal

from cloud.mobility._geo import LatLon, TravelModel

Action = Literal["pickup", "dropoff"]


@dataclass(frozen=True, slots=True)
class RideRequest:
    """A ride: pick *passengers* up at or after *earliest_pickup*, drop off by *latest_dropoff*,
    and (if given) no more than *max_ride_s* after the pickup."""

    id: str
    pickup: LatLon
    dropoff: LatLon
    passengers: int
    earliest_pickup: float
    latest_dropoff: float
    max_ride_s: float | None = None


@dataclass(frozen=True, slots=True)
class Stop:
    """A pickup or drop-off of one request; ``load`` is the change in passengers aboard."""

    request: str
    action: Action
    position: LatLon
    load: int
    earliest: float
    latest: float
    #: On a drop-off: the longest ride allowed since its pickup (checked while both are planned).
    max_ride_s: float | None = None


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
        request.max_ride_s,
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
    """Time a route from the shuttle's position at *now*; ``feasible`` checks windows, seats and
    maximum ride times. (The forward slack covers windows only: ride times are checked here.)"""
    arrival: list[float] = []
    service: list[float] = []
    load_after: list[int] = []
    feasible = shuttle.load <= shuttle.capacity
    position, clock, load = shuttle.position, now, shuttle.load
    picked_up: dict[str, float] = {}
    for stop in stops:
        reached = clock + travel.seconds(position, stop.position)
        if stop.action == "pickup":
            start = max(reached, stop.earliest)
            picked_up[stop.request] = start
        else:
            start = reached
            boarded = picked_up.get(stop.request)
            if stop.max_ride_s is not None and boarded is not None:
                feasible = feasible and start - boarded <= stop.max_ride_s + 1e-6
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
