"""The quarter's road graph (shipped as data) and shortest paths over it."""

import heapq
import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class RoadNode:
    """A junction or a place: estate lanes, the bus stop, the station, offices."""

    id: str
    name: str
    kind: str
    lat: float
    lon: float


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial course from the first point to the second, clockwise from true north."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dlambda = math.radians(lon2 - lon1)
    y = math.sin(dlambda) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlambda)
    return math.degrees(math.atan2(y, x)) % 360


class RoadGraph:
    """Undirected roads between named nodes, lengths in metres."""

    def __init__(self, nodes: list[RoadNode], edges: list[tuple[str, str]]) -> None:
        self.nodes = {node.id: node for node in nodes}
        self._neighbours: dict[str, list[tuple[str, float]]] = {node.id: [] for node in nodes}
        for a, b in edges:
            length = self.length_m(a, b)
            self._neighbours[a].append((b, length))
            self._neighbours[b].append((a, length))

    def length_m(self, a: str, b: str) -> float:
        first, second = self.nodes[a], self.nodes[b]
        return distance_m(first.lat, first.lon, second.lat, second.lon)

    def neighbours(self, node: str) -> list[str]:
        return [other for other, _ in self._neighbours[node]]

    def of_kind(self, kind: str) -> list[RoadNode]:
        return [node for node in self.nodes.values() if node.kind == kind]

    def shortest_path(self, start: str, goal: str) -> list[str]:
        """Node ids from *start* to *goal* inclusive (Dijkstra); ValueError if unreachable."""
        best = {start: 0.0}
        previous: dict[str, str] = {}
        queue = [(0.0, start)]
        while queue:
            cost, node = heapq.heappop(queue)
            if node == goal:
                path = [goal]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return path[::-1]
            if cost > best[node]:
                continue
            for other, length in self._neighbours[node]:
                if cost + length < best.get(other, math.inf):
                    best[other] = cost + length
                    previous[other] = node
                    heapq.heappush(queue, (cost + length, other))
        raise ValueError(f"no road from {start} to {goal}")


@cache
def city_roads() -> RoadGraph:
    """The shipped quarter: Midorigaoka hillside estate, its bus stop, Hinode station."""
    text = resources.files(__package__).joinpath("city_roads.json").read_text(encoding="utf-8")
    document = json.loads(text)
    nodes = [RoadNode(**node) for node in document["nodes"]]
    return RoadGraph(nodes, [(a, b) for a, b in document["edges"]])
