"""Shuttle dispatch: keep the plans already promised, insert each new ride, refuse with a reason.

Pure: plain values in (times as epoch seconds), plain values out.
"""

from dataclasses import dataclass, field, replace

from cloud.mobility._geo import LatLon, TravelModel
from cloud.mobility._insertion import Insertion, Legs, Route, best_insertion
from cloud.mobility._routes import Action, RideRequest, Shuttle, Stop, schedule, stops_of

#: Float noise, not lateness.
_TOLERANCE_S = 1e-6
#: A refused ride is offered the same window shifted later, in these steps, up to this far.
ALTERNATIVE_STEP_S = 300.0
ALTERNATIVE_HORIZON_S = 4 * 3600.0
#: The search tries every third step first (15 min), then the fine steps before a hit.
_COARSE_STEPS = 3


class DispatchInputError(ValueError):
    """The shuttles' plans and the requests do not fit together; ``path`` names where."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True, slots=True)
class PlannedStop:
    request: str
    action: Action
    position: LatLon


@dataclass(frozen=True, slots=True)
class ShuttleState:
    """A shuttle as reported: position, seats, riders aboard and the plan it is driving."""

    id: str
    position: LatLon
    capacity: int
    onboard: tuple[str, ...] = ()
    plan: tuple[PlannedStop, ...] = ()


@dataclass(frozen=True, slots=True)
class DispatchProblem:
    now: float
    travel: TravelModel
    shuttles: tuple[ShuttleState, ...]
    requests: tuple[RideRequest, ...]
    #: Requests answered before dispatch (e.g. no bus left to catch), not in *requests*.
    refused: tuple["Refusal", ...] = ()


@dataclass(frozen=True, slots=True)
class Alternative:
    """The earliest shifted window that could be served, and by whom."""

    earliest_pickup: float
    latest_dropoff: float
    shuttle: str
    pickup_eta: float
    dropoff_eta: float


@dataclass(frozen=True, slots=True)
class Refusal:
    request: str
    reason: str
    alternative: Alternative | None = None


@dataclass(frozen=True, slots=True)
class Assignment:
    request: str
    shuttle: str
    pickup_eta: float | None  # None: already aboard
    dropoff_eta: float


@dataclass(frozen=True, slots=True)
class DispatchResult:
    """Routes of every shuttle, who rides with whom, and who was refused and why."""

    now: float
    travel: TravelModel
    routes: dict[str, Route]
    requests: dict[str, RideRequest]
    promised: frozenset[str]
    refusals: tuple[Refusal, ...] = ()
    late: tuple[str, ...] = field(default=())

    def assignments(self) -> list[Assignment]:
        found: list[Assignment] = []
        for shuttle_id in sorted(self.routes):
            route = self.routes[shuttle_id]
            pickups: dict[str, float] = {}
            for stop, eta in zip(route.stops, route.timing.service, strict=True):
                if stop.action == "pickup":
                    pickups[stop.request] = eta
                else:
                    found.append(
                        Assignment(stop.request, shuttle_id, pickups.get(stop.request), eta)
                    )
        return sorted(found, key=lambda a: a.request)

    def served(self) -> set[str]:
        return {request for route in self.routes.values() for request in route.requests()}


def plan_routes(problem: DispatchProblem) -> tuple[dict[str, Route], frozenset[str], list[str]]:
    """The shuttles' current plans as timed routes; returns (routes, promised, late requests).

    A plan already behind a window keeps its order; that stop's window is stretched to its
    current ETA so that nothing new may make it later still.
    """
    requests = {request.id: request for request in problem.requests}
    travel, now = problem.travel, problem.now
    routes: dict[str, Route] = {}
    promised: set[str] = set()
    late: list[str] = []
    for index, state in enumerate(problem.shuttles):
        where = f"shuttles.{index}"
        if state.id in routes:
            raise DispatchInputError(f"{where}.id", f"shuttle {state.id!r} appears twice")
        stops = _plan_stops(state, requests, travel, where, promised)
        load = sum(requests[rid].passengers for rid in state.onboard)
        if load > state.capacity:
            raise DispatchInputError(
                f"{where}.onboard", f"{load} passengers aboard, capacity {state.capacity}"
            )
        shuttle = Shuttle(state.id, state.position, state.capacity, load)
        timing = schedule(shuttle, stops, travel, now)
        if not timing.feasible:
            stops, behind = stretch_to_etas(stops, timing.service)
            late.extend(behind)
            timing = schedule(shuttle, stops, travel, now)
            if not timing.feasible:
                raise DispatchInputError(f"{where}.plan", "the plan overfills the shuttle")
        routes[state.id] = Route(shuttle, stops, timing)
    return routes, frozenset(promised), sorted(set(late))


def stretch_to_etas(
    stops: tuple[Stop, ...], etas: tuple[float, ...]
) -> tuple[tuple[Stop, ...], list[str]]:
    """Stops already behind their window or ride limit, stretched to their ETAs (so nothing new
    can make them later still), and the requests that are behind."""
    boarded: dict[str, float] = {}
    stretched: list[Stop] = []
    behind: list[str] = []
    for stop, eta in zip(stops, etas, strict=True):
        if stop.action == "pickup":
            boarded[stop.request] = eta
        changed = stop
        if eta > stop.latest + _TOLERANCE_S:
            changed = replace(changed, latest=eta)
        ride = eta - boarded[stop.request] if stop.request in boarded else None
        if stop.max_ride_s is not None and ride is not None and ride > stop.max_ride_s + 1e-6:
            changed = replace(changed, max_ride_s=ride)
        if changed != stop:
            behind.append(stop.request)
        stretched.append(changed)
    return tuple(stretched), behind


def _plan_stops(
    state: ShuttleState,
    requests: dict[str, RideRequest],
    travel: TravelModel,
    where: str,
    promised: set[str],
) -> tuple[Stop, ...]:
    for position, rid in enumerate(state.onboard):
        if rid not in requests:
            raise DispatchInputError(f"{where}.onboard.{position}", f"unknown request {rid!r}")
    stops: list[Stop] = []
    seen: dict[str, set[str]] = {}
    for position, planned in enumerate(state.plan):
        path = f"{where}.plan.{position}"
        request = requests.get(planned.request)
        if request is None:
            raise DispatchInputError(f"{path}.request", f"unknown request {planned.request!r}")
        actions = seen.setdefault(planned.request, set())
        if planned.action in actions:
            raise DispatchInputError(path, f"a second {planned.action} of {planned.request!r}")
        aboard = planned.request in state.onboard
        if planned.action == "pickup" and aboard:
            raise DispatchInputError(path, f"{planned.request!r} is already aboard")
        if planned.action == "dropoff" and not aboard and "pickup" not in actions:
            raise DispatchInputError(path, f"drop-off of {planned.request!r} before its pickup")
        if planned.request in promised and not actions:
            raise DispatchInputError(path, f"{planned.request!r} is planned on two shuttles")
        actions.add(planned.action)
        pickup, dropoff = stops_of(request, travel)
        stop = pickup if planned.action == "pickup" else dropoff
        stops.append(replace(stop, position=planned.position))
    for rid in (*state.onboard, *seen):
        if "dropoff" not in seen.get(rid, set()):
            raise DispatchInputError(f"{where}.plan", f"no drop-off planned for {rid!r}")
        promised.add(rid)
    return tuple(stops)


def dispatch(problem: DispatchProblem) -> DispatchResult:
    """Keep the promised plans and insert each new request, earliest pickup first."""
    routes, promised, late = plan_routes(problem)
    requests = {request.id: request for request in problem.requests}
    pending = sorted(
        (request for request in problem.requests if request.id not in promised),
        key=lambda request: (request.earliest_pickup, request.id),
    )
    refused: list[RideRequest] = []
    for request in pending:
        insertion = best_insertion(routes, request, problem.travel, problem.now)
        if insertion is None:
            refused.append(request)
        else:
            routes[insertion.shuttle] = insertion.route
    # Reasons and alternatives against the final plan, so that each offer still holds.
    refusals = [refuse(routes, request, problem.travel, problem.now) for request in refused]
    refusals += problem.refused
    return DispatchResult(
        problem.now,
        problem.travel,
        routes,
        requests,
        promised,
        tuple(refusals),
        tuple(late),
    )


def insert_request(
    result: DispatchResult, request: RideRequest
) -> tuple[DispatchResult, Insertion | Refusal]:
    """One new ride against a standing result: the online path, answered at once."""
    insertion = best_insertion(result.routes, request, result.travel, result.now)
    requests = {**result.requests, request.id: request}
    if insertion is None:
        refusal = refuse(result.routes, request, result.travel, result.now)
        updated = replace(result, requests=requests, refusals=(*result.refusals, refusal))
        return updated, refusal
    routes = {**result.routes, insertion.shuttle: insertion.route}
    return replace(result, routes=routes, requests=requests), insertion


def refuse(
    routes: dict[str, Route], request: RideRequest, travel: TravelModel, now: float
) -> Refusal:
    """Why *request* cannot be served, and the earliest later window that could be."""
    largest = max((route.shuttle.capacity for route in routes.values()), default=0)
    if not routes:
        return Refusal(request.id, "no shuttle in service")
    if request.passengers > largest:
        return Refusal(
            request.id, f"{request.passengers} passengers; the largest shuttle seats {largest}"
        )
    direct = travel.from_stop(request.pickup, request.dropoff)
    if request.max_ride_s is not None and direct > request.max_ride_s:
        return Refusal(
            request.id,
            f"the direct ride takes {direct / 60:.1f} min, more than the "
            f"{request.max_ride_s / 60:.1f} min allowed",
        )
    if request.earliest_pickup + direct > request.latest_dropoff:
        reason = (
            f"window too short: the direct ride takes {direct / 60:.1f} min, the window "
            f"{(request.latest_dropoff - request.earliest_pickup) / 60:.1f} min"
        )
    else:
        nearest = min(
            max(
                now + travel.seconds(route.shuttle.position, request.pickup),
                request.earliest_pickup,
            )
            + direct
            for route in routes.values()
        )
        if nearest > request.latest_dropoff:
            reason = (
                f"no shuttle can reach the pickup in time: even the nearest idle one would "
                f"drop off {(nearest - request.latest_dropoff) / 60:.1f} min late"
            )
        else:
            reason = (
                "every shuttle that could reach it is busy: taking the ride would exceed "
                "its seats or make a promised ride late"
            )
    return Refusal(request.id, reason, _alternative(routes, request, travel, now))


def _alternative(
    routes: dict[str, Route], request: RideRequest, travel: TravelModel, now: float
) -> Alternative | None:
    """Shift the window later: coarse steps first, then back in fine steps to the earliest."""
    direct = travel.from_stop(request.pickup, request.dropoff)
    width = max(request.latest_dropoff - request.earliest_pickup, direct)
    base = max(request.earliest_pickup, now)
    legs = {sid: Legs.of(route, request, travel) for sid, route in routes.items()}

    def served_at(earliest: float) -> Alternative | None:
        shifted = replace(request, earliest_pickup=earliest, latest_dropoff=earliest + width)
        insertion = best_insertion(routes, shifted, travel, now, legs)
        if insertion is None:
            return None
        return Alternative(
            earliest, earliest + width, insertion.shuttle, insertion.pickup_eta,
            insertion.dropoff_eta,
        )  # fmt: skip

    coarse = ALTERNATIVE_STEP_S * _COARSE_STEPS
    previous = base - ALTERNATIVE_STEP_S
    for step in range(int(ALTERNATIVE_HORIZON_S // coarse) + 1):
        found = served_at(base + step * coarse)
        if found is None:
            previous = base + step * coarse
            continue
        for fine in range(1, _COARSE_STEPS):
            earlier = previous + fine * ALTERNATIVE_STEP_S
            if earlier >= found.earliest_pickup:
                break
            refined = served_at(earlier)
            if refined is not None:
                return refined
        return found
    return None
