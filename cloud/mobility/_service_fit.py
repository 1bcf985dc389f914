"""A saved service state fitted to the config it is restarted with, pure."""

from dataclasses import replace

from cloud.mobility._dispatch import stretch_to_etas
from cloud.mobility._geo import TravelModel
from cloud.mobility._insertion import Route as PlannedRoute
from cloud.mobility._routes import Shuttle, Stop
from cloud.mobility._service_config import MobilityServiceConfig
from cloud.mobility._service_state import LoopState, ShuttleLink


class StateConflictError(ValueError):
    """A saved state the config cannot take over (another site, a shuttle removed with rides)."""


def fit_to_config(saved: LoopState, config: MobilityServiceConfig) -> tuple[LoopState, list[str]]:
    """*saved* made to fit *config*: a shuttle new in the config joins empty where the config
    puts it, one gone from it leaves if its route is empty; the config's travel model and seats
    apply (routes re-timed from the saved ``now``). Returns the state and what changed, one
    line each; raises :class:`StateConflictError` when a promise would be dropped."""
    if saved.site != config.site:
        msg = f"the state is of site {saved.site!r}, the config is of site {config.site!r}"
        raise StateConflictError(msg)
    result, travel = saved.service.result, config.travel
    wanted = {shuttle.id: shuttle for shuttle in config.shuttles}
    changes: list[str] = []
    stranded = {
        sid: sorted(route.requests())
        for sid, route in result.routes.items()
        if sid not in wanted and route.stops
    }
    if stranded:
        lines = "; ".join(
            f"shuttle {sid!r} has rides {', '.join(rides)} ahead"
            for sid, rides in sorted(stranded.items())
        )
        msg = f"shuttles gone from the config still have promised rides: {lines}"
        raise StateConflictError(msg)
    routes: dict[str, PlannedRoute] = {}
    links = dict(saved.links)
    for sid in result.routes.keys() - wanted.keys():
        links.pop(sid, None)
        changes.append(f"shuttle {sid!r} left (not in the config, no rides ahead)")
    for sid, entry in wanted.items():
        route = result.routes.get(sid)
        if route is None:
            shuttle = Shuttle(sid, entry.position, entry.capacity)
            routes[sid] = PlannedRoute.timed(shuttle, (), travel, result.now)
            links[sid] = ShuttleLink()
            changes.append(f"shuttle {sid!r} joined (new in the config)")
            continue
        if route.shuttle.capacity == entry.capacity and result.travel == travel:
            routes[sid] = route
            continue
        most = max((route.shuttle.load, *route.timing.load_after), default=0)
        if most > entry.capacity:
            msg = (
                f"shuttle {sid!r} has {entry.capacity} seats in the config, but its route "
                f"carries {most} riders at once"
            )
            raise StateConflictError(msg)
        if route.shuttle.capacity != entry.capacity:
            changes.append(
                f"shuttle {sid!r} now seats {entry.capacity} (was {route.shuttle.capacity})"
            )
        shuttle = replace(route.shuttle, capacity=entry.capacity)
        routes[sid] = _retimed(shuttle, route.stops, travel, result.now)
    if result.travel != travel:
        changes.append("the travel model changed: routes re-timed")
    service = replace(saved.service, result=replace(result, routes=routes, travel=travel))
    return replace(saved, service=service, links=links), changes


def _retimed(
    shuttle: Shuttle, stops: tuple[Stop, ...], travel: TravelModel, now: float
) -> PlannedRoute:
    route = PlannedRoute.timed(shuttle, stops, travel, now)
    if route.timing.feasible:
        return route
    stretched, _ = stretch_to_etas(stops, route.timing.service)
    return PlannedRoute.timed(shuttle, stretched, travel, now)
