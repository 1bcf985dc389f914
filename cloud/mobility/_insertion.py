"""Cheapest feasible insertion of a ride into a shuttle's route, in O(n²) per route.

Windows are checked through each stop's forward slack, so a candidate (pickup before stop *i*,
drop-off before stop *j*) costs O(1) to test; only the chosen one is re-timed in full.
"""

from dataclasses import dataclass

from cloud.mobility._geo import TravelModel
from cloud.mobility._routes import RideRequest, Schedule, Shuttle, Stop, schedule, stops_of

#: Weight of the new rider's own drop-off time against the fleet's added driving time.
RIDE_TIME_WEIGHT = 0.2
_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class Route:
    """A shuttle with its planned stops and their timing."""

    shuttle: Shuttle
    stops: tuple[Stop, ...]
    timing: Schedule

    @classmethod
    def timed(
        cls, shuttle: Shuttle, stops: tuple[Stop, ...], travel: TravelModel, now: float
    ) -> "Route":
        return cls(shuttle, stops, schedule(shuttle, stops, travel, now))

    def requests(self) -> set[str]:
        return {stop.request for stop in self.stops}

    def movable(self) -> list[str]:
        """Requests not yet picked up: batch re-optimisation may move them to another shuttle."""
        return [stop.request for stop in self.stops if stop.action == "pickup"]

    def without(self, request: str, travel: TravelModel, now: float) -> "Route":
        return self.without_all({request}, travel, now)

    def without_all(self, requests: set[str], travel: TravelModel, now: float) -> "Route":
        kept = tuple(stop for stop in self.stops if stop.request not in requests)
        return Route.timed(self.shuttle, kept, travel, now)

    def driving_s(self, travel: TravelModel, now: float) -> float:
        """Seconds spent driving (not waiting) along the route."""
        total, position = 0.0, self.shuttle.position
        for stop in self.stops:
            total += travel.seconds(position, stop.position)
            position = stop.position
        return total


@dataclass(frozen=True, slots=True)
class Insertion:
    """Where a ride goes: the new route and what it costs."""

    shuttle: str
    route: Route
    cost: float
    pickup_eta: float
    dropoff_eta: float


@dataclass(frozen=True, slots=True)
class Legs:
    """Travel times between a ride's two ends and a route's stops: they depend on places only,
    so a search over shifted windows computes them once."""

    from_shuttle: float
    to_pickup: list[float]
    to_dropoff: list[float]
    direct: float

    @classmethod
    def of(cls, route: Route, request: RideRequest, travel: TravelModel) -> "Legs":
        # Every leg that starts at a stop includes the dwell there; the shuttle's own
        # position is not a stop.
        return cls(
            travel.seconds(route.shuttle.position, request.pickup),
            [travel.from_stop(stop.position, request.pickup) for stop in route.stops],
            [travel.from_stop(stop.position, request.dropoff) for stop in route.stops],
            travel.from_stop(request.pickup, request.dropoff),
        )


def best_insertion_into(
    route: Route,
    request: RideRequest,
    travel: TravelModel,
    now: float,
    legs: Legs | None = None,
) -> Insertion | None:
    """The cheapest feasible way to add *request* to *route*, or None."""
    shuttle, stops, timing = route.shuttle, route.stops, route.timing
    pickup, dropoff = stops_of(request, travel)
    seats = request.passengers
    if seats > shuttle.capacity or pickup.latest < now - _EPS:
        return None
    count = len(stops)
    legs = legs or Legs.of(route, request, travel)
    to_pickup, to_dropoff, direct = legs.to_pickup, legs.to_dropoff, legs.direct
    arrival, service, load_after, slack = (
        timing.arrival,
        timing.service,
        timing.load_after,
        timing.slack,
    )
    max_ride = request.max_ride_s
    if max_ride is not None and direct > max_ride + _EPS:
        return None
    # Other riders' ride limits are not in the slack: with any, every candidate that passes
    # the O(1) checks is kept and the cheapest is taken whose full re-timing is feasible.
    ride_limits = any(stop.max_ride_s is not None for stop in stops)
    candidates: list[tuple[float, int, int]] = []
    best: tuple[float, int, int] | None = None
    for i in range(count + 1):
        before_time = now if i == 0 else service[i - 1]
        if before_time > pickup.latest + _EPS:
            break
        if (shuttle.load if i == 0 else load_after[i - 1]) + seats > shuttle.capacity:
            continue
        from_before = legs.from_shuttle if i == 0 else to_pickup[i - 1]
        pickup_at = max(before_time + from_before, pickup.earliest)
        if pickup_at > pickup.latest + _EPS:
            continue
        leg_i = arrival[i] - before_time if i < count else 0.0
        # Drop-off straight after the pickup.
        dropoff_at = pickup_at + direct
        if dropoff_at <= dropoff.latest + _EPS:
            if i < count:
                shift = max(0.0, dropoff_at + to_dropoff[i] - service[i])
                added = from_before + direct + to_dropoff[i] - leg_i
                fits = shift <= slack[i] + _EPS
            else:
                added, fits = from_before + direct, True
            cost = added + RIDE_TIME_WEIGHT * (dropoff_at - request.earliest_pickup)
            if fits and ride_limits:
                candidates.append((cost, i, i))
            if fits and (best is None or cost < best[0]):
                best = (cost, i, i)
        if i == count:
            continue
        # Drop-off later, after original stops i .. j-1.
        shift = max(0.0, pickup_at + to_pickup[i] - service[i])
        pickup_added = from_before + to_pickup[i] - leg_i
        for j in range(i + 1, count + 1):
            k = j - 1
            if load_after[k] + seats > shuttle.capacity:
                break
            if shift > stops[k].latest - service[k] + _EPS:
                break
            leaving_k = service[k] + shift
            if leaving_k > dropoff.latest + _EPS:
                break
            dropoff_at = leaving_k + to_dropoff[k]
            rides_within = max_ride is None or dropoff_at - pickup_at <= max_ride + _EPS
            if dropoff_at <= dropoff.latest + _EPS and rides_within:
                if j < count:
                    leg_j = arrival[j] - service[k]
                    added = to_dropoff[k] + to_dropoff[j] - leg_j
                    fits = max(0.0, dropoff_at + to_dropoff[j] - service[j]) <= slack[j] + _EPS
                else:
                    added, fits = to_dropoff[k], True
                cost = (
                    pickup_added + added + RIDE_TIME_WEIGHT * (dropoff_at - request.earliest_pickup)
                )
                if fits and ride_limits:
                    candidates.append((cost, i, j))
                if fits and (best is None or cost < best[0]):
                    best = (cost, i, j)
            if j < count:
                shift = max(0.0, shift - (service[j] - arrival[j]))
    if best is None:
        return None
    for cost, i, j in sorted(candidates) if ride_limits else [best]:
        new_stops = (*stops[:i], pickup, *stops[i:j], dropoff, *stops[j:])
        new_route = Route.timed(shuttle, new_stops, travel, now)
        # Without ride limits only float noise can fail here; stay on the safe side.
        if new_route.timing.feasible:
            return Insertion(
                shuttle.id,
                new_route,
                cost,
                new_route.timing.service[i],
                new_route.timing.service[j + 1],
            )
    return None


def best_insertion(
    routes: dict[str, Route],
    request: RideRequest,
    travel: TravelModel,
    now: float,
    legs: dict[str, Legs] | None = None,
) -> Insertion | None:
    """The cheapest feasible insertion over every shuttle (ties: lowest shuttle id)."""
    best: Insertion | None = None
    for shuttle_id in sorted(routes):
        known = None if legs is None else legs.get(shuttle_id)
        candidate = best_insertion_into(routes[shuttle_id], request, travel, now, known)
        if candidate is not None and (best is None or candidate.cost < best.cost - _EPS):
            best = candidate
    return best
