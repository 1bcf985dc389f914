"""The ``hinode mobility dispatch`` document: frozen pydantic models, and the result as JSON."""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from cloud.mobility._dispatch import (
    DispatchProblem,
    DispatchResult,
    PlannedStop,
    ShuttleState,
)
from cloud.mobility._geo import TravelModel
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


class RequestIn(_Model):
    id: Ident
    pickup: Position
    dropoff: Position
    passengers: Annotated[int, Field(ge=1, le=100)] = 1
    earliest_pickup: AwareDatetime
    latest_dropoff: AwareDatetime
    #: A bus to catch at the drop-off: arrive at least ``transfer_minutes`` before it leaves.
    bus_departure: AwareDatetime | None = None
    transfer_minutes: Annotated[float, Field(ge=0, le=60)] = 3.0


class DispatchInput(_Model):
    now: AwareDatetime
    speed_kmh: Annotated[float, Field(gt=0, le=60)]
    detour_factor: Annotated[float, Field(ge=1, le=5)] = 1.3
    shuttles: Annotated[list[ShuttleIn], Field(max_length=1000)]
    requests: Annotated[list[RequestIn], Field(max_length=10_000)]

    def problem(self) -> DispatchProblem:
        return DispatchProblem(
            now=self.now.timestamp(),
            travel=TravelModel(self.speed_kmh, self.detour_factor),
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
            requests=tuple(_ride(request) for request in self.requests),
        )


def _ride(request: RequestIn) -> RideRequest:
    latest = request.latest_dropoff.timestamp()
    if request.bus_departure is not None:
        latest = min(latest, request.bus_departure.timestamp() - request.transfer_minutes * 60)
    return RideRequest(
        request.id,
        request.pickup,
        request.dropoff,
        request.passengers,
        request.earliest_pickup.timestamp(),
        latest,
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


def dispatch_document(result: DispatchResult) -> dict[str, Any]:
    """The output of ``hinode mobility dispatch --json``."""
    return {
        "assignments": [
            {
                "request": a.request,
                "shuttle": a.shuttle,
                "pickup_eta": None if a.pickup_eta is None else iso(a.pickup_eta),
                "dropoff_eta": iso(a.dropoff_eta),
            }
            for a in result.assignments()
        ],
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
