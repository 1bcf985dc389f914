"""The dispatcher as a service core: rides in, positions in, routes and a report out.

Pure and single-threaded: the transport (MQTT, HTTP) calls it with plain values and ``now``.
Each shuttle's route holds only the stops still ahead; a position within ``arrival_radius_m``
of the next stop serves it (a pickup not before it is due), moves the shuttle there and re-times
the rest. New rides are inserted at once or refused with a reason; every
``reoptimise_every_s`` a batch re-optimisation may move rides not yet picked up, never breaking
a promise.
"""

from dataclasses import dataclass, replace

from cloud.mobility._dispatch import (
    DispatchResult,
    Refusal,
    ShuttleState,
    insert_request,
    stretch_to_etas,
)
from cloud.mobility._geo import LatLon, TravelModel, distance_m
from cloud.mobility._insertion import Insertion, Route
from cloud.mobility._progress import ARRIVAL_RADIUS_M, RideRecord
from cloud.mobility._reoptimise import reoptimise
from cloud.mobility._routes import RideRequest, Shuttle, Stop


@dataclass(frozen=True, slots=True)
class ServiceReport:
    """What the riders got so far."""

    rides: tuple[RideRecord, ...]
    refused: int

    @property
    def completed(self) -> tuple[RideRecord, ...]:
        return tuple(ride for ride in self.rides if ride.dropoff_at is not None)

    def mean_wait_s(self) -> float | None:
        waits = [r.wait_s for r in self.rides if r.wait_s is not None]
        return sum(waits) / len(waits) if waits else None

    def mean_ride_s(self) -> float | None:
        rides = [r.ride_s for r in self.rides if r.ride_s is not None]
        return sum(rides) / len(rides) if rides else None

    def late(self, requests: dict[str, RideRequest]) -> tuple[str, ...]:
        return tuple(
            r.request
            for r in self.completed
            if r.dropoff_at is not None and r.dropoff_at > requests[r.request].latest_dropoff + 1
        )


class ShuttleService:
    """Dispatch state of one fleet, kept current from rides and positions."""

    def __init__(
        self,
        shuttles: list[ShuttleState],
        travel: TravelModel,
        now: float,
        *,
        reoptimise_every_s: float = 300.0,
        batch_budget_s: float = 1.0,
        arrival_radius_m: float = ARRIVAL_RADIUS_M,
    ) -> None:
        self.travel = travel
        self.arrival_radius_m = arrival_radius_m
        self.reoptimise_every_s = reoptimise_every_s
        self.batch_budget_s = batch_budget_s
        self._next_batch = now + reoptimise_every_s
        routes = {
            s.id: Route.timed(Shuttle(s.id, s.position, s.capacity), (), travel, now)
            for s in shuttles
        }
        self.result = DispatchResult(now, travel, routes, {}, frozenset())
        self.rides: dict[str, RideRecord] = {}
        self.refused = 0

    @property
    def routes(self) -> dict[str, Route]:
        return self.result.routes

    def request(self, ride: RideRequest, now: float) -> Insertion | Refusal:
        """Answer a new ride at once."""
        self._retime(now)
        result, outcome = insert_request(self.result, ride)
        if isinstance(outcome, Refusal):
            self.refused += 1
            self.result = result
            return outcome
        self.result = replace(result, promised=result.promised | {ride.id})
        self.rides[ride.id] = RideRecord(
            ride.id, ride.earliest_pickup, outcome.pickup_eta, outcome.dropoff_eta
        )
        return outcome

    def position(self, shuttle_id: str, position: LatLon, at: float) -> list[Stop]:
        """A shuttle's fix: serves the stops it reached and re-times the rest from here."""
        route = self.routes[shuttle_id]
        stops, load, reached = list(route.stops), route.shuttle.load, []
        while stops and distance_m(position, stops[0].position) <= self.arrival_radius_m:
            stop = stops[0]
            if stop.action == "pickup" and at < stop.earliest:
                break  # waiting for the rider
            record = self.rides[stop.request]
            if stop.action == "pickup":
                self.rides[stop.request] = replace(record, pickup_at=at)
                # Aboard now: the ride limit becomes a plain deadline on the drop-off.
                stops = [_ride_limit_as_deadline(later, stop.request, at) for later in stops]
            else:
                self.rides[stop.request] = replace(record, dropoff_at=at)
            load += stop.load
            reached.append(stops.pop(0))
        shuttle = replace(route.shuttle, position=position, load=load)
        routes = {**self.routes, shuttle_id: self._timed(shuttle, tuple(stops), at)}
        self.result = replace(self.result, routes=routes, now=max(at, self.result.now))
        return reached

    def tick(self, now: float) -> bool:
        """Run the batch re-optimisation when it is due; True if it ran."""
        if now < self._next_batch:
            return False
        self._next_batch = now + self.reoptimise_every_s
        self._retime(now)
        # Riders refused earlier were told so: the batch works for the rides accepted.
        accepted = replace(self.result, refusals=())
        self.result = reoptimise(accepted, time_budget_s=self.batch_budget_s)
        return True

    def report(self) -> ServiceReport:
        return ServiceReport(tuple(self.rides.values()), self.refused)

    def _retime(self, now: float) -> None:
        """Routes timed from *now*: a shuttle that has not moved since is still where it was."""
        if now <= self.result.now:
            return
        routes = {
            sid: self._timed(route.shuttle, route.stops, now) for sid, route in self.routes.items()
        }
        self.result = replace(self.result, routes=routes, now=now)

    def _timed(self, shuttle: Shuttle, stops: tuple[Stop, ...], now: float) -> Route:
        """Timed from *now*; a stop already behind its window is stretched to its ETA, so that
        nothing new can make it later still (its lateness shows in the report)."""
        route = Route.timed(shuttle, stops, self.travel, now)
        if route.timing.feasible:
            return route
        stretched, _ = stretch_to_etas(stops, route.timing.service)
        return Route.timed(shuttle, stretched, self.travel, now)


def _ride_limit_as_deadline(stop: Stop, request: str, picked_up_at: float) -> Stop:
    if stop.request != request or stop.action != "dropoff" or stop.max_ride_s is None:
        return stop
    return replace(stop, latest=min(stop.latest, picked_up_at + stop.max_ride_s), max_ride_s=None)
