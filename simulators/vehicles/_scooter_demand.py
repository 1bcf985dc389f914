"""Scooter trips of a simulated city: commuter peaks at the station, leisure at weekends."""

import itertools
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from simulators.vehicles._roads import RoadGraph

SCOOTER_KMH = 15.0
#: Trips per hour by (kind of day, hour) and (from kinds, to kinds).
_COMMUTE_IN = (("residential", "estate"), ("station",))
_COMMUTE_OUT = (("station",), ("office", "factory"))
_HOME_IN = (("office", "factory"), ("station",))
_HOME_OUT = (("station",), ("residential", "estate"))
_LEISURE = (("residential", "station", "public", "road"), ("public", "road", "residential"))


@dataclass(frozen=True, slots=True)
class ScooterTrip:
    start_node: str
    end_node: str
    start: datetime
    end: datetime
    path: tuple[tuple[float, float], ...]
    distance_m: float


def _rates(weekday: int, hour: int) -> list[tuple[tuple[tuple[str, ...], tuple[str, ...]], float]]:
    if weekday >= 5:
        leisure = 3.0 if 10 <= hour < 18 else 0.5 if 7 <= hour < 22 else 0.0
        return [(_LEISURE, leisure)]
    rates = []
    if 7 <= hour < 9:
        rates += [(_COMMUTE_IN, 6.0), (_COMMUTE_OUT, 6.0)]
    if 17 <= hour < 19:
        rates += [(_HOME_IN, 5.0), (_HOME_OUT, 5.0)]
    if 9 <= hour < 17 or 19 <= hour < 22:
        rates.append((_LEISURE, 1.0))
    return rates


def _poisson(rng: random.Random, mean: float) -> int:
    threshold, count, product = math.exp(-mean), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def scooter_trips(
    roads: RoadGraph, start: datetime, hours: int, *, seed: int = 0, scale: float = 1.0
) -> list[ScooterTrip]:
    """Trips starting in [start, start + hours) with local-time demand patterns, in start order.

    *start* must be timezone-aware; weekday and hour are taken in its own zone.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    rng = random.Random(seed)
    by_kind: dict[str, list[str]] = {}
    for node in roads.nodes.values():
        by_kind.setdefault(node.kind, []).append(node.id)
    trips: list[ScooterTrip] = []
    for offset in range(hours):
        hour_start = start + timedelta(hours=offset)
        for (origins, destinations), rate in _rates(hour_start.weekday(), hour_start.hour):
            sources = [n for kind in origins for n in by_kind.get(kind, [])]
            targets = [n for kind in destinations for n in by_kind.get(kind, [])]
            for _ in range(_poisson(rng, rate * scale)):
                origin, goal = rng.choice(sources), rng.choice(targets)
                if origin == goal:
                    continue
                path = roads.shortest_path(origin, goal)
                length = sum(roads.length_m(a, b) for a, b in itertools.pairwise(path))
                leaves = hour_start + timedelta(seconds=rng.uniform(0, 3600))
                arrives = leaves + timedelta(seconds=length / (SCOOTER_KMH / 3.6))
                points = tuple((roads.nodes[n].lat, roads.nodes[n].lon) for n in path)
                trips.append(ScooterTrip(origin, goal, leaves, arrives, points, length))
    return sorted(trips, key=lambda trip: trip.start)
