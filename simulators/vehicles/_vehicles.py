"""Shuttles and scooters moving along the road graph, with what their own interfaces report."""

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from simulators.vehicles._nmea import ReceiverEpoch
from simulators.vehicles._roads import RoadGraph, bearing_deg, distance_m

#: Walking speed: the shuttles share pavements and lanes with pedestrians.
SHUTTLE_MAX_KMH = 6.0
SCOOTER_MAX_KMH = 20.0
VehicleKind = Literal["shuttle", "scooter"]


@dataclass
class SimulatedVehicle:
    """One vehicle: a position moving along waypoints at a constant cruising speed."""

    id: str
    kind: VehicleKind
    lat: float
    lon: float
    speed_kmh: float
    battery_pct: float = 100.0
    capacity: int = 0
    occupancy: int = 0
    door_open: bool = False
    locked: bool = True
    #: Battery used per kilometre driven.
    drain_pct_per_km: float = 1.5
    course_deg: float = 0.0
    moving: bool = False
    odometer_m: float = 0.0
    _waypoints: list[tuple[float, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        limit = SHUTTLE_MAX_KMH if self.kind == "shuttle" else SCOOTER_MAX_KMH
        if not 0 < self.speed_kmh <= limit:
            raise ValueError(f"{self.kind} speed must be in (0, {limit}] km/h")

    @property
    def speed_mps(self) -> float:
        return self.speed_kmh / 3.6 if self.moving else 0.0

    def follow(self, waypoints: list[tuple[float, float]]) -> None:
        """Drive through *waypoints* in order (straight lines between them)."""
        self._waypoints = list(waypoints)
        self.moving = bool(self._waypoints)

    def drive_to(self, roads: RoadGraph, start: str, goal: str) -> None:
        """Drive from node *start* (where the vehicle is) to node *goal* along the roads."""
        path = roads.shortest_path(start, goal)
        self.follow([(roads.nodes[node].lat, roads.nodes[node].lon) for node in path])

    def step(self, dt_s: float) -> None:
        """Move on by *dt_s* seconds of driving."""
        budget_m = self.speed_kmh / 3.6 * dt_s if self.moving else 0.0
        while budget_m > 0 and self._waypoints:
            target_lat, target_lon = self._waypoints[0]
            gap_m = distance_m(self.lat, self.lon, target_lat, target_lon)
            if gap_m > 0.01:
                self.course_deg = bearing_deg(self.lat, self.lon, target_lat, target_lon)
            if gap_m <= budget_m:
                self.lat, self.lon = target_lat, target_lon
                self._waypoints.pop(0)
                self._drive(gap_m)
                budget_m -= gap_m
                continue
            share = budget_m / gap_m
            self.lat += (target_lat - self.lat) * share
            self.lon += (target_lon - self.lon) * share
            self._drive(budget_m)
            budget_m = 0
        if not self._waypoints:
            self.moving = False

    def _drive(self, metres: float) -> None:
        self.odometer_m += metres
        self.battery_pct = max(0.0, self.battery_pct - self.drain_pct_per_km * metres / 1000)

    def receiver_epoch(self, utc: datetime, rng: random.Random | None = None) -> ReceiverEpoch:
        """What the vehicle's GNSS receiver reports now (a little noise if *rng* is given)."""
        jitter_deg = rng.gauss(0, 0.000_01) if rng else 0.0
        return ReceiverEpoch(
            utc=utc,
            lat=self.lat + jitter_deg,
            lon=self.lon + jitter_deg,
            speed_mps=self.speed_mps,
            course_deg=self.course_deg,
        )

    def interface_state(self) -> dict[str, object]:
        """What the vehicle's own controller reports beside the GNSS."""
        if self.kind == "shuttle":
            return {
                "kind": "shuttle",
                "battery_pct": round(self.battery_pct, 1),
                "door_open": self.door_open,
                "occupancy": self.occupancy,
            }
        return {"kind": "scooter", "battery_pct": round(self.battery_pct, 1), "locked": self.locked}


def shuttle_at(roads: RoadGraph, vehicle_id: str, node: str, capacity: int = 6) -> SimulatedVehicle:
    place = roads.nodes[node]
    return SimulatedVehicle(
        vehicle_id, "shuttle", place.lat, place.lon, speed_kmh=5.0, capacity=capacity
    )


def scooter_at(roads: RoadGraph, vehicle_id: str, node: str) -> SimulatedVehicle:
    place = roads.nodes[node]
    return SimulatedVehicle(vehicle_id, "scooter", place.lat, place.lon, speed_kmh=15.0)
