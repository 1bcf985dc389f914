"""The dispatcher as a service core: rides in, positions in, routes and a report out.

Pure and single-threaded: the transport (MQTT, HTTP) calls it with plain values and ``now``.
Each shuttle's route holds only the stops still ahead; a position within ``arrival_radius_m``
of the next stop serves it (a pickup not before it is due), moves the shuttle there and re-times
the rest. New rides are inserted at once or refused with a reason; a ride not yet picked up
may be cancelled. Every ``reoptimise_every_s`` a batch re-optimisation may move rides not yet
picked up, never breaking a promise; it can be computed elsewhere (a worker thread) from a
snapshot and is adopted re-timed from the shuttles' newer positions (see :mod:`._batch_rebase`).
"""

from dataclasses import dataclass, replace
from typing import Literal

from cloud.mobility._batch_rebase import rebase_batch
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
from cloud.mobility._routes import RideRequest, Shuttle, Stop, schedule


@dataclass(frozen=True, slots=True)
class ServiceReport:
    """What the riders got so far."""

    rides: tuple[RideRecord, ...]
    refused: int
    cancelled: int = 0

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


RideState = Literal["scheduled", "aboard", "completed", "cancelled"]


class CancellationError(ValueError):
    """A ride that cannot be cancelled: ``state`` is unknown, aboard, completed or cancelled."""

    def __init__(self, request: str, state: RideState | Literal["unknown"]) -> None:
        reasons = {
            "unknown": "no such ride was booked",
            "aboard": "the rider is aboard",
            "completed": "the ride is over",
            "cancelled": "the ride was cancelled already",
        }
        super().__init__(f"ride {request!r} cannot be cancelled: {reasons[state]}")
        self.request = request
        self.state = state


@dataclass(frozen=True, slots=True)
class RideStatus:
    """One booked ride now: its promise, the live ETAs (while planned) and what happened."""

    request: str
    state: RideState
    shuttle: str | None
    promised_pickup: float | None
    promised_dropoff: float
    pickup_eta: float | None
    dropoff_eta: float | None
    picked_up_at: float | None
    dropped_off_at: float | None


@dataclass(frozen=True, slots=True)
class ServiceState:
    """Everything a :class:`ShuttleService` knows, as plain values: what a restarted service
    resumes from (see :mod:`._service_state` for its JSON)."""

    result: DispatchResult
    rides: dict[str, RideRecord]
    cancelled: dict[str, RideRecord]
    picked_up_by: dict[str, str]
    refused: int
    next_batch: float


def compute_batch(snapshot: DispatchResult, budget_s: float) -> DispatchResult:
    """The batch re-optimisation of *snapshot*: pure, so it may run in a worker thread."""
    # Riders refused earlier were told so: the batch works for the rides accepted.
    return reoptimise(replace(snapshot, refusals=()), time_budget_s=budget_s)


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
        #: Cancelled rides and when; they leave ``rides``.
        self.cancelled: dict[str, RideRecord] = {}
        #: Which shuttle picked each rider up (the route forgets once the stops are served).
        self._picked_up_by: dict[str, str] = {}

    @classmethod
    def from_state(
        cls,
        state: ServiceState,
        *,
        reoptimise_every_s: float = 300.0,
        batch_budget_s: float = 1.0,
        arrival_radius_m: float = ARRIVAL_RADIUS_M,
    ) -> "ShuttleService":
        """The service where *state* left it (the routes keep their timing)."""
        service = cls(
            [],
            state.result.travel,
            state.result.now,
            reoptimise_every_s=reoptimise_every_s,
            batch_budget_s=batch_budget_s,
            arrival_radius_m=arrival_radius_m,
        )
        service.result = state.result
        service.rides = dict(state.rides)
        service.cancelled = dict(state.cancelled)
        service._picked_up_by = dict(state.picked_up_by)
        service.refused = state.refused
        service._next_batch = state.next_batch
        return service

    def state(self) -> ServiceState:
        """A copy of what the service knows now."""
        return ServiceState(
            self.result,
            dict(self.rides),
            dict(self.cancelled),
            dict(self._picked_up_by),
            self.refused,
            self._next_batch,
        )

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
            if stop.action == "pickup" and self._held(route.shuttle, position, load, stops, at):
                break  # boarding later keeps a ride within its limit
            record = self.rides[stop.request]
            if stop.action == "pickup":
                self.rides[stop.request] = replace(record, pickup_at=at)
                self._picked_up_by[stop.request] = shuttle_id
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
        """Run the batch re-optimisation when it is due, here and now; True if it ran."""
        snapshot = self.batch_due(now)
        if snapshot is None:
            return False
        self.adopt(snapshot, compute_batch(snapshot, self.batch_budget_s))
        return True

    def batch_due(self, now: float) -> DispatchResult | None:
        """When the batch is due: the state to compute it from (see :func:`compute_batch`)."""
        if now < self._next_batch:
            return None
        self._next_batch = now + self.reoptimise_every_s
        self._retime(now)
        return self.result

    def adopt(self, snapshot: DispatchResult, batch: DispatchResult) -> bool:
        """Take *batch*, re-timed from where the shuttles are now (positions and stops served
        since *snapshot* kept); if it no longer fits (a ride booked or cancelled meanwhile, a
        moved ride picked up by its old shuttle, a window broken from here), drop it and retry
        next round."""
        rebased = rebase_batch(snapshot, batch, self.result)
        if rebased is None:
            self._next_batch = min(self._next_batch, self.result.now)
            return False
        self.result = rebased
        return True

    def cancel(self, request_id: str, now: float) -> str:
        """Cancel a ride not yet picked up: both stops leave its route, which is re-timed.
        Returns the shuttle whose route changed; raises :class:`CancellationError`."""
        state = self.state_of(request_id)
        if state != "scheduled":
            raise CancellationError(request_id, state or "unknown")
        self._retime(now)
        routes = dict(self.routes)
        shuttle_id = next(sid for sid, route in routes.items() if request_id in route.requests())
        route = routes[shuttle_id]
        kept = tuple(stop for stop in route.stops if stop.request != request_id)
        routes[shuttle_id] = self._timed(route.shuttle, kept, self.result.now)
        self.result = replace(
            self.result, routes=routes, promised=self.result.promised - {request_id}
        )
        self.cancelled[request_id] = self.rides.pop(request_id)
        return shuttle_id

    def booked(self, request_id: str) -> bool:
        """True if a ride with this id was asked for already (served, refused or cancelled)."""
        return request_id in self.result.requests or request_id in self.cancelled

    def state_of(self, request_id: str) -> RideState | None:
        """Where a booked ride stands; None if it was never booked (or was refused)."""
        if request_id in self.cancelled:
            return "cancelled"
        record = self.rides.get(request_id)
        if record is None:
            return None
        if record.dropoff_at is not None:
            return "completed"
        return "aboard" if record.pickup_at is not None else "scheduled"

    def status(self, request_id: str, now: float | None = None) -> RideStatus | None:
        """A booked ride's promise, ETAs (from *now* if given) and progress; None if never
        booked."""
        state = self.state_of(request_id)
        if state is None:
            return None
        record = self.rides.get(request_id) or self.cancelled[request_id]
        shuttle, etas = self._picked_up_by.get(request_id), {}
        for sid, route in self.routes.items():
            if request_id not in route.requests():
                continue
            timed = route if now is None else self.route_at(sid, now)
            for stop, eta in zip(timed.stops, timed.timing.service, strict=True):
                if stop.request == request_id:
                    shuttle, etas[stop.action] = sid, eta
        return RideStatus(
            request_id,
            state,
            None if state == "cancelled" else shuttle,
            record.promised_pickup,
            record.promised_dropoff,
            etas.get("pickup"),
            etas.get("dropoff"),
            record.pickup_at,
            record.dropoff_at,
        )

    def route_at(self, shuttle_id: str, now: float) -> Route:
        """The shuttle's route timed from *now* (the state is left as it is)."""
        route = self.routes[shuttle_id]
        if now <= self.result.now:
            return route
        return self._timed(route.shuttle, route.stops, now)

    def report(self) -> ServiceReport:
        return ServiceReport(tuple(self.rides.values()), self.refused, len(self.cancelled))

    def _retime(self, now: float) -> None:
        """Routes timed from *now*: a shuttle that has not moved since is still where it was."""
        if now <= self.result.now:
            return
        routes = {
            sid: self._timed(route.shuttle, route.stops, now) for sid, route in self.routes.items()
        }
        self.result = replace(self.result, routes=routes, now=now)

    def _held(
        self, shuttle: Shuttle, position: LatLon, load: int, stops: list[Stop], at: float
    ) -> bool:
        """Whether the plan from here holds the first stop (a pickup) past the shuttle's arrival
        and the rider's earliest time, so that the ride stays within its limit."""
        if not any(stop.max_ride_s is not None for stop in stops):
            return False
        here = replace(shuttle, position=position, load=load)
        timing = schedule(here, tuple(stops), self.travel, at)
        return timing.service[0] > max(timing.arrival[0], stops[0].earliest) + 1e-6

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
