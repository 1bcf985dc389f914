"""The shuttle service's state as a versioned JSON document, so that a restart keeps its promises.

Pure: :func:`encode_state` turns a :class:`LoopState` into JSON text, :func:`decode_state` turns
the text back or raises :class:`StateDocumentError` naming the place inside the document. Times
are epoch seconds as JSON numbers (exact: a float survives the round trip bit for bit); each
route keeps its timing as it was computed, so ETAs and promises come back unchanged.
"""

import dataclasses
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cloud.mobility._dispatch import Alternative, DispatchResult, Refusal
from cloud.mobility._geo import TravelModel
from cloud.mobility._insertion import Route
from cloud.mobility._progress import RideRecord
from cloud.mobility._route_delivery import Outcome, RouteCommand
from cloud.mobility._routes import Action, RideRequest, Schedule, Shuttle, Stop
from cloud.mobility._service import ServiceState

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

STATE_FORMAT = "hinode.mobility-state"
STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class ShuttleLink:
    """What the service told one shuttle: the stops of its routes not yet served, its latest
    route command (and what became of it) and that command's seq."""

    sent: tuple[tuple[str, Action], ...] = ()
    command: RouteCommand | None = None
    seq: int | None = None
    #: The refusal already logged for the route being resent.
    refusal_reported: str | None = None


@dataclass(frozen=True, slots=True)
class LoopState:
    """A shuttle service loop's state: the dispatch state, per shuttle what it was sent, and
    the last seq used (a restarted service goes on above it)."""

    site: str
    service: ServiceState
    links: dict[str, ShuttleLink]
    seq: int


class StateDocumentError(ValueError):
    """A state document that cannot be read; ``path`` names where inside it ("": the whole)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem


class _Doc(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


Position = tuple[Annotated[float, Field(ge=-90, le=90)], Annotated[float, Field(ge=-180, le=180)]]
Name = Annotated[str, Field(min_length=1)]


class _Travel(_Doc):
    speed_kmh: Annotated[float, Field(gt=0)]
    detour_factor: Annotated[float, Field(ge=1)]
    dwell_s: Annotated[float, Field(ge=0)]


class _Stop(_Doc):
    request: Name
    action: Action
    position: Position
    load: int
    earliest: float
    latest: float
    max_ride_s: float | None = None


class _Timing(_Doc):
    arrival: tuple[float, ...]
    service: tuple[float, ...]
    load_after: tuple[int, ...]
    slack: tuple[float, ...]
    feasible: bool


class _Command(_Doc):
    id: Name
    seq: Annotated[int, Field(ge=0)]
    sent_at: float
    attempt: Annotated[int, Field(ge=1)]
    outcome: Outcome
    reason: str | None = None
    resend_at: float | None = None
    refusal_reported: str | None = None


class _Shuttle(_Doc):
    id: Name
    position: Position
    capacity: Annotated[int, Field(ge=1)]
    load: Annotated[int, Field(ge=0)]
    stops: list[_Stop]
    timing: _Timing
    sent: tuple[tuple[Name, Action], ...]
    command: _Command | None = None


class _Request(_Doc):
    id: Name
    pickup: Position
    dropoff: Position
    passengers: Annotated[int, Field(ge=1)]
    earliest_pickup: float
    latest_dropoff: float
    max_ride_s: float | None = None


class _Alternative(_Doc):
    earliest_pickup: float
    latest_dropoff: float
    shuttle: Name
    pickup_eta: float
    dropoff_eta: float


class _Refusal(_Doc):
    request: Name
    reason: str
    alternative: _Alternative | None = None


class _Ride(_Doc):
    request: Name
    earliest_pickup: float
    promised_pickup: float | None
    promised_dropoff: float
    pickup_at: float | None = None
    dropoff_at: float | None = None
    picked_up_by: Name | None = None


class _State(_Doc):
    format: Literal["hinode.mobility-state"]
    version: Literal[1]
    site: Name
    now: float
    next_batch: float
    seq: Annotated[int, Field(ge=0)]
    travel: _Travel
    refused: Annotated[int, Field(ge=0)]
    shuttles: list[_Shuttle]
    requests: list[_Request]
    promised: list[Name]
    refusals: list[_Refusal]
    late: list[Name]
    rides: list[_Ride]
    cancelled: list[_Ride]


def encode_state(state: LoopState) -> str:
    """The state as JSON text (one document, keys in a fixed order, a newline at the end)."""
    return json.dumps(state_document(state), indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def decode_state(text: str) -> LoopState:
    """The state from JSON text; raises :class:`StateDocumentError`."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateDocumentError(
            "", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    return parse_state_document(document)


def state_document(state: LoopState) -> dict[str, Any]:
    """The state as a JSON-ready dict."""
    service, result = state.service, state.service.result
    shuttles = []
    for shuttle_id, route in result.routes.items():
        link = state.links.get(shuttle_id, ShuttleLink())
        shuttles.append(
            _Shuttle(
                id=shuttle_id,
                position=route.shuttle.position,
                capacity=route.shuttle.capacity,
                load=route.shuttle.load,
                stops=[_doc(_Stop, stop) for stop in route.stops],
                timing=_doc(_Timing, route.timing),
                sent=link.sent,
                command=None if link.command is None else _command_doc(link),
            )
        )
    document = _State(
        format=STATE_FORMAT,
        version=STATE_VERSION,
        site=state.site,
        now=result.now,
        next_batch=service.next_batch,
        seq=state.seq,
        travel=_doc(_Travel, result.travel),
        refused=service.refused,
        shuttles=shuttles,
        requests=[_doc(_Request, request) for request in result.requests.values()],
        promised=sorted(result.promised),
        refusals=[_doc(_Refusal, refusal) for refusal in result.refusals],
        late=list(result.late),
        rides=[_ride_doc(ride, service.picked_up_by) for ride in service.rides.values()],
        cancelled=[_ride_doc(ride, service.picked_up_by) for ride in service.cancelled.values()],
    )
    return document.model_dump(mode="json")


def parse_state_document(document: object) -> LoopState:
    """The state from a parsed JSON document; raises :class:`StateDocumentError`."""
    _check_version(document)
    try:
        parsed = _State.model_validate(document)
    except ValidationError as exc:
        problems = exc.errors(include_url=False)
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        path = ".".join(str(part) for part in first["loc"]) or ""
        raise StateDocumentError(path, f"{first['msg']}{more}") from None
    _check_consistent(parsed)
    travel = TravelModel(**parsed.travel.model_dump())
    routes: dict[str, Route] = {}
    links: dict[str, ShuttleLink] = {}
    for entry in parsed.shuttles:
        shuttle = Shuttle(entry.id, entry.position, entry.capacity, entry.load)
        stops = tuple(Stop(**stop.model_dump()) for stop in entry.stops)
        routes[entry.id] = Route(shuttle, stops, Schedule(**entry.timing.model_dump()))
        links[entry.id] = _link(entry)
    result = DispatchResult(
        parsed.now,
        travel,
        routes,
        {request.id: RideRequest(**request.model_dump()) for request in parsed.requests},
        frozenset(parsed.promised),
        tuple(_refusal(refusal) for refusal in parsed.refusals),
        tuple(parsed.late),
    )
    service = ServiceState(
        result,
        {ride.request: _ride(ride) for ride in parsed.rides},
        {ride.request: _ride(ride) for ride in parsed.cancelled},
        {
            ride.request: ride.picked_up_by
            for ride in (*parsed.rides, *parsed.cancelled)
            if ride.picked_up_by is not None
        },
        parsed.refused,
        parsed.next_batch,
    )
    return LoopState(parsed.site, service, links, parsed.seq)


def _check_version(document: object) -> None:
    if not isinstance(document, dict):
        raise StateDocumentError("", "expected a JSON object")
    if document.get("format") != STATE_FORMAT:
        raise StateDocumentError(
            "format", f"expected {STATE_FORMAT!r}, got {document.get('format')!r}"
        )
    version = document.get("version")
    if version != STATE_VERSION:
        raise StateDocumentError(
            "version", f"this service reads version {STATE_VERSION}, the document is {version!r}"
        )


def _check_consistent(state: _State) -> None:
    """What the models cannot say: ids unique, timings as long as routes, every stop booked."""
    requests = {request.id for request in state.requests}
    rides = {ride.request for ride in state.rides}
    seen: set[str] = set()
    for index, shuttle in enumerate(state.shuttles):
        where = f"shuttles.{index}"
        if shuttle.id in seen:
            raise StateDocumentError(f"{where}.id", f"shuttle {shuttle.id!r} appears twice")
        seen.add(shuttle.id)
        timing = shuttle.timing
        lengths = {
            len(timing.arrival),
            len(timing.service),
            len(timing.load_after),
            len(timing.slack),
        }
        if lengths != {len(shuttle.stops)}:
            raise StateDocumentError(
                f"{where}.timing",
                f"timed for {sorted(lengths)} stops, the route has {len(shuttle.stops)}",
            )
        for position, stop in enumerate(shuttle.stops):
            if stop.request not in rides:
                raise StateDocumentError(
                    f"{where}.stops.{position}.request", f"no ride {stop.request!r} in rides"
                )
    for field, ids in (
        ("promised", state.promised),
        ("rides", [ride.request for ride in state.rides]),
        ("cancelled", [ride.request for ride in state.cancelled]),
    ):
        for index, request in enumerate(ids):
            if request not in requests:
                raise StateDocumentError(f"{field}.{index}", f"no request {request!r} in requests")


_D = TypeVar("_D", bound=_Doc)


def _doc(model: type[_D], value: "DataclassInstance") -> _D:
    """The document entry of *value*, whose fields (and those of the dataclasses in it) the
    entry repeats by name; read back with ``Type(**entry.model_dump())``."""
    return model.model_validate(dataclasses.asdict(value))


def _command_doc(link: ShuttleLink) -> _Command:
    command = link.command
    assert command is not None
    return _Command(
        id=command.command_id,
        seq=link.seq or 0,
        sent_at=command.sent_at,
        attempt=command.attempt,
        outcome=command.outcome,
        reason=command.reason,
        resend_at=command.resend_at,
        refusal_reported=link.refusal_reported,
    )


def _link(entry: _Shuttle) -> ShuttleLink:
    if entry.command is None:
        return ShuttleLink(entry.sent)
    command = entry.command
    return ShuttleLink(
        entry.sent,
        RouteCommand(
            command.id,
            command.sent_at,
            command.attempt,
            command.outcome,
            command.reason,
            command.resend_at,
        ),
        command.seq,
        command.refusal_reported,
    )


def _refusal(entry: _Refusal) -> Refusal:
    alternative = entry.alternative
    return Refusal(
        entry.request,
        entry.reason,
        None if alternative is None else Alternative(**alternative.model_dump()),
    )


def _ride_doc(ride: RideRecord, picked_up_by: dict[str, str]) -> _Ride:
    return _Ride.model_validate(
        {**dataclasses.asdict(ride), "picked_up_by": picked_up_by.get(ride.request)}
    )


def _ride(entry: _Ride) -> RideRecord:
    return RideRecord(**entry.model_dump(exclude={"picked_up_by"}))
