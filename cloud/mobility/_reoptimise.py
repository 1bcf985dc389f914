"""Periodic batch re-optimisation: serve more rides, and sooner, without breaking any promise.

Rides not yet picked up may move between shuttles; riders aboard stay with theirs. A candidate
plan is kept only if every promised ride is still in it and every window holds (each route is
re-timed from scratch), so a promise can never get worse than its window. Two phases, within a
time budget: rebuilds of the movable rides in several orders (tightest deadline first, …), then
ejection moves that make room for a refused ride by moving one planned ride elsewhere. A rebuild
wins by serving more rides, or as many with routes that end at least ``min_gain_s`` sooner in
all (a smaller gain is not worth sending the shuttles new routes); with every ride served the
rebuilds still run, for that second reason.
"""

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

from cloud.mobility._dispatch import DispatchResult
from cloud.mobility._geo import TravelModel
from cloud.mobility._insertion import Route, best_insertion, best_insertion_into
from cloud.mobility._routes import RideRequest

#: How far a shuffled round may move a ride in the deadline order.
_JITTER_S = 1200.0


def reoptimise(
    result: DispatchResult,
    *,
    time_budget_s: float = 5.0,
    timer: Callable[[], float] = time.perf_counter,
    shuffled_rounds: int = 8,
    seed: int = 0,
    min_gain_s: float = 60.0,
) -> DispatchResult:
    """A plan serving at least the same promised rides, and as many rides as it can.

    Rebuilds take up to 60 % of the budget: the fixed orders, then up to *shuffled_rounds*
    orders by deadline with seeded jitter; ejection moves get the rest.
    """
    started = timer()
    deadline = started + 0.95 * time_budget_s  # the rest: re-timing and copying the result
    rebuild_deadline = started + 0.6 * time_budget_s
    travel, now = result.travel, result.now
    promised = set(result.promised) | result.served()
    # Refusals without a request (no bus left to catch) cannot be helped by moving rides.
    refused = [result.requests[r.request] for r in result.refusals if r.request in result.requests]
    movable = [result.requests[rid] for route in result.routes.values() for rid in route.movable()]
    best_routes = dict(result.routes)
    best_score = _score(best_routes, travel, now)
    fixed = {
        sid: route.without_all(set(route.movable()), travel, now)
        for sid, route in result.routes.items()
    }
    for order in _orders(movable, refused, shuffled_rounds, seed):
        if timer() > rebuild_deadline:
            break
        routes = _rebuild(fixed, order, promised, travel, now)
        if routes is not None:
            score = _score(routes, travel, now)
            if _better(score, best_score, min_gain_s):
                best_routes, best_score = routes, score
    best_routes = _eject_for_refused(best_routes, refused, result, deadline, timer)
    served = {rid for route in best_routes.values() for rid in route.requests()}
    # Rides still refused keep the answer they were given when they asked.
    refusals = tuple(refusal for refusal in result.refusals if refusal.request not in served)
    return replace(result, routes=best_routes, refusals=refusals, promised=result.promised)


def _better(score: tuple[int, float], best: tuple[int, float], min_gain_s: float) -> bool:
    served, end = score
    return served > best[0] or (served == best[0] and end > best[1] + min_gain_s)


def _score(routes: dict[str, Route], travel: TravelModel, now: float) -> tuple[int, float]:
    served = sum(len(route.requests()) for route in routes.values())
    end = sum((route.timing.end or now) - now for route in routes.values())
    return served, -end


def _orders(
    movable: list[RideRequest], refused: list[RideRequest], shuffled_rounds: int, seed: int
) -> Iterator[list[RideRequest]]:
    everyone = movable + refused

    def tightness(request: RideRequest) -> float:
        return request.latest_dropoff - request.earliest_pickup

    yield sorted(everyone, key=lambda r: (r.latest_dropoff, r.id))
    yield sorted(everyone, key=lambda r: (tightness(r), r.id))
    yield sorted(everyone, key=lambda r: (r.earliest_pickup, r.id))
    yield sorted(everyone, key=lambda r: (-r.passengers, r.latest_dropoff, r.id))
    rng = random.Random(seed)
    for _ in range(shuffled_rounds):
        jitter = {r.id: rng.uniform(0, _JITTER_S) for r in everyone}
        yield sorted(everyone, key=lambda r: (r.latest_dropoff + jitter[r.id], r.id))


def _rebuild(
    fixed: dict[str, Route],
    order: list[RideRequest],
    promised: set[str],
    travel: TravelModel,
    now: float,
) -> dict[str, Route] | None:
    """Insert promised rides first (all must fit), then the others; None if a promise breaks."""
    routes = dict(fixed)
    first = [r for r in order if r.id in promised]
    then = [r for r in order if r.id not in promised]
    for request in first:
        insertion = best_insertion(routes, request, travel, now)
        if insertion is None:
            return None
        routes[insertion.shuttle] = insertion.route
    for request in then:
        insertion = best_insertion(routes, request, travel, now)
        if insertion is not None:
            routes[insertion.shuttle] = insertion.route
    return routes


def _eject_for_refused(
    routes: dict[str, Route],
    refused: list[RideRequest],
    result: DispatchResult,
    deadline: float,
    timer: Callable[[], float],
) -> dict[str, Route]:
    """For each refused ride: move one planned ride to another shuttle to make room for it."""
    travel, now = result.travel, result.now
    routes = dict(routes)
    for request in refused:
        if any(request.id in route.requests() for route in routes.values()):
            continue
        if timer() > deadline:
            return routes
        plain = best_insertion(routes, request, travel, now)  # the rebuild may have made room
        if plain is not None:
            routes[plain.shuttle] = plain.route
            continue
        direct = travel.from_stop(request.pickup, request.dropoff)
        for shuttle_id in sorted(routes):
            if timer() > deadline:
                return routes
            route = routes[shuttle_id]
            reach = now + travel.seconds(route.shuttle.position, request.pickup)
            if max(reach, request.earliest_pickup) + direct > request.latest_dropoff:
                continue
            moved = _try_ejections(routes, shuttle_id, request, result)
            if moved is not None:
                routes = moved
                break
    return routes


def _try_ejections(
    routes: dict[str, Route], shuttle_id: str, request: RideRequest, result: DispatchResult
) -> dict[str, Route] | None:
    travel, now = result.travel, result.now
    route = routes[shuttle_id]
    for ejected_id in route.movable():
        lighter = route.without(ejected_id, travel, now)
        taken = best_insertion_into(lighter, request, travel, now)
        if taken is None:
            continue
        others = {**routes, shuttle_id: taken.route}
        rehomed = best_insertion(others, result.requests[ejected_id], travel, now)
        if rehomed is not None:
            return {**others, rehomed.shuttle: rehomed.route}
    return None
