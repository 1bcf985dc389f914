"""Following a dispatched route from a shuttle's positions: stops reached, fresh ETAs, waits.

Pure: positions and their times in, what the riders experienced out. A stop counts as reached
when the shuttle comes within ``arrival_radius_m`` of it while it is the next stop of the route.
"""

from dataclasses import dataclass, field, replace

from cloud.mobility._geo import LatLon, TravelModel, distance_m
from cloud.mobility._insertion import Route
from cloud.mobility._routes import RideRequest, Shuttle, Stop, schedule

ARRIVAL_RADIUS_M = 15.0


@dataclass(frozen=True, slots=True)
class RideRecord:
    """What one rider got: the wait after their earliest pickup, the ride, against the promise."""

    request: str
    earliest_pickup: float
    promised_pickup: float | None
    promised_dropoff: float
    pickup_at: float | None = None
    dropoff_at: float | None = None

    @property
    def wait_s(self) -> float | None:
        return None if self.pickup_at is None else self.pickup_at - self.earliest_pickup

    @property
    def ride_s(self) -> float | None:
        if self.pickup_at is None or self.dropoff_at is None:
            return None
        return self.dropoff_at - self.pickup_at


@dataclass
class RouteProgress:
    """One shuttle working through its dispatched route."""

    route: Route
    requests: dict[str, RideRequest]
    travel: TravelModel
    arrival_radius_m: float = ARRIVAL_RADIUS_M
    done: int = 0
    rides: dict[str, RideRecord] = field(default_factory=dict)
    etas: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        pickups: dict[str, float] = {}
        for stop, eta in zip(self.route.stops, self.route.timing.service, strict=True):
            if stop.action == "pickup":
                pickups[stop.request] = eta
            else:
                self.rides[stop.request] = RideRecord(
                    stop.request,
                    self.requests[stop.request].earliest_pickup,
                    pickups.get(stop.request),
                    eta,
                )
        self.etas = self.route.timing.service

    @property
    def remaining(self) -> tuple[Stop, ...]:
        return self.route.stops[self.done :]

    @property
    def finished(self) -> bool:
        return self.done == len(self.route.stops)

    def observe(self, position: LatLon, at: float, aboard: int | None = None) -> list[Stop]:
        """A new position: returns the stops reached with it and refreshes the ETAs of the rest."""
        reached: list[Stop] = []
        while not self.finished:
            stop = self.route.stops[self.done]
            if distance_m(position, stop.position) > self.arrival_radius_m:
                break
            if stop.action == "pickup" and at < stop.earliest:
                break  # waiting for the rider: their pickup is not due yet
            record = self.rides[stop.request]
            if stop.action == "pickup":
                self.rides[stop.request] = replace(record, pickup_at=at)
            else:
                self.rides[stop.request] = replace(record, dropoff_at=at)
            reached.append(stop)
            self.done += 1
        load = aboard if aboard is not None else self._aboard()
        here = Shuttle(self.route.shuttle.id, position, self.route.shuttle.capacity, load)
        self.etas = schedule(here, self.remaining, self.travel, at).service
        return reached

    def _aboard(self) -> int:
        return sum(stop.load for stop in self.route.stops[: self.done]) + self.route.shuttle.load
