"""A batch plan computed from an older state, carried onto the state as it is now.

The batch re-optimisation searches for up to its budget on a snapshot while positions keep
arriving: shuttles move and serve stops. Its decision (which shuttle serves which ride, in which
order) still holds when only that happened; it is re-timed from where the shuttles are now. It
no longer fits when a ride was booked or cancelled meanwhile, when a stop it moved to another
shuttle was served by the old one, or when the re-timed plan would break a window or a seat.
"""

from dataclasses import replace

from cloud.mobility._dispatch import DispatchResult
from cloud.mobility._insertion import Route
from cloud.mobility._routes import Stop

_Key = tuple[str, str]


def _key(stop: Stop) -> _Key:
    return (stop.request, stop.action)


def _timed_at(route: Route, current: DispatchResult) -> float:
    """When *route* was timed from its shuttle's position: a shuttle that has not reported since
    is not taken to have stood still until ``current.now``."""
    if not route.stops:
        return current.now
    return route.timing.arrival[0] - current.travel.seconds(
        route.shuttle.position, route.stops[0].position
    )


def rebase_batch(
    snapshot: DispatchResult, batch: DispatchResult, current: DispatchResult
) -> DispatchResult | None:
    """*batch* (computed from *snapshot*) applied to *current*, or None when it no longer fits."""
    if current is snapshot:
        return batch
    if (
        current.requests.keys() != snapshot.requests.keys()
        or current.promised != snapshot.promised
        or current.routes.keys() != batch.routes.keys()
    ):
        return None
    # Stops still ahead now, wherever they are, as the current state has them (a rider picked
    # up meanwhile has a plain deadline on the drop-off).
    ahead: dict[_Key, Stop] = {
        _key(stop): stop for route in current.routes.values() for stop in route.stops
    }
    owner: dict[_Key, str] = {
        _key(stop): shuttle for shuttle, route in snapshot.routes.items() for stop in route.stops
    }
    routes: dict[str, Route] = {}
    for shuttle, planned in batch.routes.items():
        stops: list[Stop] = []
        for stop in planned.stops:
            key = _key(stop)
            if key in ahead:
                stops.append(ahead.pop(key))
            elif owner.get(key) != shuttle:
                return None  # served meanwhile by the shuttle the batch took it from
        now = current.routes[shuttle]
        route = Route.timed(now.shuttle, tuple(stops), current.travel, _timed_at(now, current))
        if not route.timing.feasible:
            return None
        routes[shuttle] = route
    if ahead:
        return None  # a stop the batch does not know of
    return replace(
        batch,
        now=current.now,
        routes=routes,
        requests=current.requests,
        promised=current.promised,
        late=current.late,
    )
