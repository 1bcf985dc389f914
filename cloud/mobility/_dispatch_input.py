"""The ``hinode mobility dispatch`` document: frozen pydantic models, and the result as JSON."""

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Annotated, Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from cloud.mobility._dispatch import (
    DispatchInputError,
    DispatchProblem,
    DispatchResult,
    PlannedStop,
    Refusal,
    ShuttleState,
)
from cloud.mobility._geo import TravelModel
from cloud.mobility._gtfs import BusConnection, Timetable
from cloud.mobility._routes import RideRequest

Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Position = tuple[Latitude, Longitude]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class PlanStopIn(_Model):
    request: Ident
    action: Literal["pickup", "dropoff"]
    position: Position


class ShuttleIn(_Model):
    id: Ident
    position: Position
    capacity: Annotated[int, Field(ge=1, le=100)]
    onboard: Annotated[list[Ident], Field(max_length=100)] = []
    plan: Annotated[list[PlanStopIn], Field(max_length=400)] = []


class CatchBusIn(_Model):
    """Drop off in time for the first bus from *stop_id* (in ``stop_times``) one can still make."""

    stop_id: Annotated[str, Field(min_length=1, max_length=255)]
    departure_after: AwareDatetime | None = None


class StopTimeIn(_Model):
    """One row of GTFS ``stop_times.txt`` (the columns dispatch needs)."""

    trip_id: Annotated[str, Field(min_length=1, max_length=255)]
    stop_id: Annotated[str, Field(min_length=1, max_length=255)]
    departure_time: Annotated[str, Field(pattern=r"^\d{1,2}:[0-5]\d:[0-5]\d$")]


class RequestIn(_Model):
    id: Ident
    pickup: Position
    dropoff: Position
    passengers: Annotated[int, Field(ge=1, le=100)] = 1
    earliest_pickup: AwareDatetime
    latest_dropoff: AwareDatetime
    #: A bus to catch at the drop-off: arrive at least ``transfer_minutes`` before it leaves.
    bus_departure: AwareDatetime | None = None
    #: …or a bus from the GTFS table: the first departure the ride can still make.
    catch_bus: CatchBusIn | None = None
    transfer_minutes: Annotated[float, Field(ge=0, le=60)] = 3.0
    #: The longest ride allowed from pickup to drop-off (elderly riders).
    max_ride_minutes: Annotated[float, Field(gt=0, le=600)] | None = None

    @model_validator(mode="after")
    def _one_bus(self) -> Self:
        if self.bus_departure is not None and self.catch_bus is not None:
            raise ValueError("give bus_departure or catch_bus, not both")
        return self


class DispatchInput(_Model):
    now: AwareDatetime
    speed_kmh: Annotated[float, Field(gt=0, le=60)]
    detour_factor: Annotated[float, Field(ge=1, le=5)] = 1.3
    #: Time at each stop from the start of service until the shuttle drives on.
    dwell_seconds: Annotated[float, Field(ge=0, le=600)] = 0.0
    shuttles: Annotated[list[ShuttleIn], Field(max_length=1000)]
    requests: Annotated[list[RequestIn], Field(max_length=10_000)]
    #: GTFS stop_times of the service day (for ``catch_bus``), times from local midnight.
    stop_times: Annotated[list[StopTimeIn], Field(max_length=200_000)] = []
    service_date: date | None = None
    utc_offset_hours: Annotated[float, Field(ge=-12, le=14)] = 9.0

    def timetable(self) -> Timetable:
        offset = timezone(timedelta(hours=self.utc_offset_hours))
        day = self.service_date or self.now.astimezone(offset).date()
        midnight = datetime.combine(day, time(), tzinfo=offset).timestamp()
        rows = [(row.trip_id, row.stop_id, row.departure_time) for row in self.stop_times]
        return Timetable(rows, midnight)

    def connections(self) -> dict[str, BusConnection]:
        """The bus each ``catch_bus`` request is dropped off for (absent: none catchable)."""
        timetable = self.timetable()
        travel = TravelModel(self.speed_kmh, self.detour_factor, self.dwell_seconds)
        found: dict[str, BusConnection] = {}
        for index, request in enumerate(self.requests):
            if request.catch_bus is None:
                continue
            stop_id = request.catch_bus.stop_id
            if not timetable.serves(stop_id):
                raise DispatchInputError(
                    f"requests.{index}.catch_bus.stop_id", f"no departures from {stop_id!r}"
                )
            direct = travel.from_stop(request.pickup, request.dropoff)
            soonest = request.earliest_pickup.timestamp() + direct + request.transfer_minutes * 60
            after = request.catch_bus.departure_after
            if after is not None:
                soonest = max(soonest, after.timestamp())
            connection = timetable.first_departure(stop_id, soonest)
            if connection is not None:
                found[request.id] = connection
        return found

    def problem(self) -> DispatchProblem:
        connections = self.connections()
        catchable = [r for r in self.requests if r.catch_bus is None or r.id in connections]
        return DispatchProblem(
            now=self.now.timestamp(),
            travel=TravelModel(self.speed_kmh, self.detour_factor, self.dwell_seconds),
            refused=tuple(
                Refusal(
                    r.id,
                    f"no bus from {r.catch_bus.stop_id!r} can be caught on this service day",
                )
                for r in self.requests
                if r.catch_bus is not None and r.id not in connections
            ),
            shuttles=tuple(
                ShuttleState(
                    shuttle.id,
                    shuttle.position,
                    shuttle.capacity,
                    tuple(shuttle.onboard),
                    tuple(PlannedStop(s.request, s.action, s.position) for s in shuttle.plan),
                )
                for shuttle in self.shuttles
            ),
            requests=tuple(_ride(request, connections.get(request.id)) for request in catchable),
        )


def _ride(request: RequestIn, connection: BusConnection | None) -> RideRequest:
    latest = request.latest_dropoff.timestamp()
    bus = request.bus_departure.timestamp() if request.bus_departure is not None else None
    if connection is not None:
        bus = connection.departure
    if bus is not None:
        latest = min(latest, bus - request.transfer_minutes * 60)
    return RideRequest(
        request.id,
        request.pickup,
        request.dropoff,
        request.passengers,
        request.earliest_pickup.timestamp(),
        latest,
        None if request.max_ride_minutes is None else request.max_ride_minutes * 60,
    )


def describe_validation_error(error: ValidationError) -> str:
    """``requests.2.passengers: Input should be greater than or equal to 1`` (first problem)."""
    problems = error.errors(include_url=False)
    first = problems[0]
    path = ".".join(str(part) for part in first["loc"]) or "<input>"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{path}: {first['msg']}{more}"


def iso(epoch_s: float) -> str:
    """UTC ISO 8601 to the second, as the output promises times."""
    return datetime.fromtimestamp(round(epoch_s), UTC).isoformat().replace("+00:00", "Z")


def dispatch_document(
    result: DispatchResult, connections: dict[str, BusConnection] | None = None
) -> dict[str, Any]:
    """The output of ``hinode mobility dispatch --json``."""
    connections = connections or {}
    assignments = []
    for a in result.assignments():
        entry: dict[str, Any] = {
            "request": a.request,
            "shuttle": a.shuttle,
            "pickup_eta": None if a.pickup_eta is None else iso(a.pickup_eta),
            "dropoff_eta": iso(a.dropoff_eta),
        }
        bus = connections.get(a.request)
        if bus is not None:
            entry["bus"] = {
                "stop_id": bus.stop_id,
                "trip_id": bus.trip_id,
                "departure": iso(bus.departure),
            }
        assignments.append(entry)
    return {
        "assignments": assignments,
        "unassigned": [
            {
                "request": refusal.request,
                "reason": refusal.reason,
                "alternative": None
                if refusal.alternative is None
                else {
                    "earliest_pickup": iso(refusal.alternative.earliest_pickup),
                    "latest_dropoff": iso(refusal.alternative.latest_dropoff),
                    "shuttle": refusal.alternative.shuttle,
                    "pickup_eta": iso(refusal.alternative.pickup_eta),
                    "dropoff_eta": iso(refusal.alternative.dropoff_eta),
                },
            }
            for refusal in sorted(result.refusals, key=lambda r: r.request)
        ],
        "routes": {
            shuttle_id: [
                {
                    "request": stop.request,
                    "action": stop.action,
                    "eta": iso(eta),
                    "position": [stop.position[0], stop.position[1]],
                }
                for stop, eta in zip(route.stops, route.timing.service, strict=True)
            ]
            for shuttle_id, route in sorted(result.routes.items())
        },
        "late": list(result.late),
    }
