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


_EPS = 1e-6


def schedule(
    shuttle: Shuttle, stops: tuple[Stop, ...], travel: TravelModel, now: float
) -> Schedule:
    """Time a route from the shuttle's position at *now*; ``feasible`` checks windows, seats and
    maximum ride times. (The forward slack covers windows only: ride times are checked here.)

    A pickup starts when the shuttle gets there and the window opens, unless that leaves its
    rider's ride over the limit: then the shuttle waits at the pickup instead of later along the
    route, for as long as no window and no ride limit of a rider already aboard breaks by it
    (Cordeau and Laporte's delay of pickups within their forward slack). Delays are kept only
    when they bring every ride within its limit; otherwise the route is timed without them."""
    timing = _Timing.of(shuttle, stops, travel, now, {})
    if timing.windows_kept and timing.rides_over() and timing.waits_may_cover_rides():
        held = _held_for_ride_limits(shuttle, stops, travel, now, timing)
        if held.windows_kept and not held.rides_over():
            return held.schedule()
    return timing.schedule()


@dataclass(frozen=True, slots=True)
class _Timing:
    stops: tuple[Stop, ...]
    arrival: list[float]
    service: list[float]
    load_after: list[int]
    #: Index of each planned drop-off's pickup in this route (riders aboard have none).
    pickup_of: dict[int, int]
    #: Windows and seats hold (ride limits aside).
    windows_kept: bool

    @classmethod
    def of(
        cls,
        shuttle: Shuttle,
        stops: tuple[Stop, ...],
        travel: TravelModel,
        now: float,
        held: dict[int, float],
    ) -> "_Timing":
        """*held*: pickups (by index) that do not start before the given time."""
        arrival: list[float] = []
        service: list[float] = []
        load_after: list[int] = []
        pickup_of: dict[int, int] = {}
        picked_up: dict[str, int] = {}
        kept = shuttle.load <= shuttle.capacity
        position, clock, load = shuttle.position, now, shuttle.load
        for index, stop in enumerate(stops):
            reached = clock + travel.seconds(position, stop.position)
            if stop.action == "pickup":
                start = max(reached, stop.earliest, held.get(index, reached))
                picked_up[stop.request] = index
            else:
                start = reached
                boarded = picked_up.get(stop.request)
                if boarded is not None:
                    pickup_of[index] = boarded
            load += stop.load
            kept = kept and start <= stop.latest + _EPS and 0 <= load <= shuttle.capacity
            arrival.append(reached)
            service.append(start)
            load_after.append(load)
            position, clock = stop.position, start + travel.dwell_s
        return cls(stops, arrival, service, load_after, pickup_of, kept)

    def ride_room(self, dropoff: int) -> float:
        """How much longer the ride ending at *dropoff* may get (inf without a planned limit)."""
        limit = self.stops[dropoff].max_ride_s
        boarded = self.pickup_of.get(dropoff)
        if limit is None or boarded is None:
            return float("inf")
        return limit - (self.service[dropoff] - self.service[boarded])

    def rides_over(self) -> bool:
        return any(self.ride_room(dropoff) < -_EPS for dropoff in self.pickup_of)

    def waits_may_cover_rides(self) -> bool:
        """False when a ride is over its limit by more than the shuttle waits during it: a delay
        of its pickup shortens it by at most those waits, and delays elsewhere add none."""
        for dropoff, pickup in self.pickup_of.items():
            excess = -self.ride_room(dropoff)
            if excess > _EPS:
                waits = sum(
                    self.service[index] - self.arrival[index]
                    for index in range(pickup + 1, dropoff + 1)
                )
                if excess > waits + _EPS:
                    return False
        return True

    def schedule(self) -> Schedule:
        stops, arrival, service = self.stops, self.arrival, self.service
        slack = [0.0] * len(stops)
        following = float("inf")
        for index in range(len(stops) - 1, -1, -1):
            own = stops[index].latest - service[index]
            slack[index] = min(own, following)
            following = slack[index] + (service[index] - arrival[index])
        feasible = self.windows_kept and not self.rides_over()
        return Schedule(
            tuple(arrival), tuple(service), tuple(self.load_after), tuple(slack), feasible
        )

    def delay_helping(self, pickup: int, dropoff: int) -> float:
        """How much later *pickup* may start to shorten its rider's ride: the excess over the
        limit, at most the waits up to *dropoff* (a delay beyond them only moves the drop-off
        too), and at most the forward slack of windows and of the ride limits of riders aboard
        at the pickup (whose drop-offs a delay may push)."""
        excess = -self.ride_room(dropoff)
        if excess <= _EPS:
            return 0.0
        stops, arrival, service = self.stops, self.arrival, self.service
        waits, waits_to_dropoff = 0.0, 0.0
        room = stops[pickup].latest - service[pickup]
        for index in range(pickup + 1, len(stops)):
            waits += service[index] - arrival[index]
            if index == dropoff:
                waits_to_dropoff = waits
            own = stops[index].latest - service[index]
            if self.pickup_of.get(index, pickup) < pickup:
                own = min(own, self.ride_room(index))
            room = min(room, waits + own)
        return max(0.0, min(excess, waits_to_dropoff, room))


def _held_for_ride_limits(
    shuttle: Shuttle,
    stops: tuple[Stop, ...],
    travel: TravelModel,
    now: float,
    timing: _Timing,
) -> _Timing:
    """Delays pickups whose riders ride too long, in route order, re-timing after each, until
    nothing changes. A delay within the slack above moves no stop past its window and no other
    planned rider past their limit, and shortens the delayed rider's ride by the whole delay."""
    held: dict[int, float] = {}
    pickups = sorted(timing.pickup_of.items(), key=lambda pair: pair[1])
    for _ in range(len(stops)):
        changed = False
        for dropoff, pickup in pickups:
            delay = timing.delay_helping(pickup, dropoff)
            if delay > _EPS:
                held[pickup] = timing.service[pickup] + delay
                timing = _Timing.of(shuttle, stops, travel, now, held)
                changed = True
        if not changed:
            break
    return timing
