"""Great-circle distances and the travel-time model dispatch promises are made with."""

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8

LatLon = tuple[float, float]


def distance_m(a: LatLon, b: LatLon) -> float:
    """Great-circle (haversine) distance between two (lat, lon) points in degrees."""
    phi1, phi2 = math.radians(a[0]), math.radians(b[0])
    dphi, dlambda = phi2 - phi1, math.radians(b[1] - a[1])
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class TravelModel:
    """Travel time = great-circle distance × detour factor / speed (streets are not straight).

    ``dwell_s`` is the time spent at each stop from the start of service (doors open, an elderly
    rider boarding or leaving) until the shuttle drives on.
    """

    speed_kmh: float
    detour_factor: float = 1.3
    dwell_s: float = 0.0

    def seconds(self, a: LatLon, b: LatLon) -> float:
        return distance_m(a, b) * self.detour_factor / (self.speed_kmh / 3.6)

    def from_stop(self, a: LatLon, b: LatLon) -> float:
        """From the start of service at stop *a* to arriving at *b*."""
        return self.dwell_s + self.seconds(a, b)
