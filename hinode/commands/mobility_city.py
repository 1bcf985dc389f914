"""The simulated scooter city behind ``hinode mobility serve`` and ``rebalance``."""

import heapq
import random
import uuid
from datetime import datetime, timedelta

from cloud.mobility import (
    JST,
    Hub,
    NoRideZone,
    ScooterFleet,
    ScooterType,
    SystemInfo,
    distance_m,
)
from simulators.vehicles import city_roads, scooter_trips

#: Parking hubs at these road nodes: (node, capacity).
HUB_NODES = (
    ("station", 24),
    ("station-south", 16),
    ("bus-stop", 10),
    ("office-1", 12),
    ("factory-gate", 12),
    ("east-2", 10),
    ("city-hall", 10),
    ("estate-gate", 10),
    ("library", 8),
)
SCOOTER_TYPE = ScooterType("kickboard-s1", "Hinode kickboard", max_range_m=40_000)
DRAIN_PCT_PER_KM = 2.5
_PICK_RADIUS_M = 300.0

#: Who runs the simulated fleet, as the feeds name it, and where riding is not allowed.
SYSTEM = SystemInfo(
    system_id="hinode-scooters",
    name="Hinode Scooters",
    operator="Hinode City Mobility",
    feed_contact_email="mobility@hinode.example",
)
NO_RIDE_ZONES = (
    NoRideZone(
        "Station concourse",
        ((36.5874, 136.6292), (36.5874, 136.6300), (36.5868, 136.6300), (36.5868, 136.6292)),
    ),
)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class ScooterCity:
    """A simulated scooter fleet living through simulated trips; ``advance_to`` moves it on.

    Trips, mid-trip telemetry, trip ends and the night crew's battery swaps (04:00 JST) happen
    in time order, so the ledger's events are chronological.
    """

    def __init__(self, start: datetime, *, days: int, scooters: int = 40, seed: int = 7) -> None:
        roads = city_roads()
        hubs = tuple(
            Hub(
                f"hub-{node}",
                roads.nodes[node].name,
                (roads.nodes[node].lat, roads.nodes[node].lon),
                capacity,
            )
            for node, capacity in HUB_NODES
        )
        self.fleet = ScooterFleet(
            provider_id=str(uuid.uuid5(uuid.NAMESPACE_DNS, "scooters.hinode.example")),
            id_secret=b"hinode-demo-rotation-secret",
            types=(SCOOTER_TYPE,),
            hubs=hubs,
        )
        rng = random.Random(seed)
        start = start.astimezone(JST).replace(minute=0, second=0, microsecond=0)
        for index in range(scooters):
            hub = hubs[index % len(hubs)]
            self.fleet.deploy(
                f"{uuid.uuid5(uuid.NAMESPACE_DNS, f'scooter-{index}.hinode.example')}",
                f"HN-{index + 1:04d}",
                SCOOTER_TYPE.vehicle_type_id,
                hub.position,
                rng.uniform(50, 100),
                epoch_ms(start),
            )
        self._trips = iter(scooter_trips(roads, start, days * 24, seed=seed))
        self._next_trip = next(self._trips, None)
        self._next_swap = start.replace(hour=4) + timedelta(days=1)
        #: (when, order, action, device, position, battery): telemetry and trip ends to come
        self._pending: list[tuple[int, int, str, str, tuple[float, float], float]] = []
        self._order = 0
        self.unserved_trips = 0

    def advance_to(self, moment: datetime) -> None:
        until = epoch_ms(moment)
        while True:
            candidates = []
            if self._pending:
                candidates.append(self._pending[0][0])
            if self._next_trip is not None:
                candidates.append(epoch_ms(self._next_trip.start))
            candidates.append(epoch_ms(self._next_swap))
            when = min(candidates)
            if when > until:
                return
            if self._pending and self._pending[0][0] == when:
                _, _, action, device, position, battery = heapq.heappop(self._pending)
                if action == "end":
                    self.fleet.end_trip(device, when, position, battery)
                else:
                    self.fleet.report(device, when, position, 15 / 3.6, None, battery)
            elif when == epoch_ms(self._next_swap):
                self._swap_flat_batteries(when)
            else:
                self._start_trip()

    def _swap_flat_batteries(self, when: int) -> None:
        for device, scooter in self.fleet.scooters.items():
            if scooter.state == "non_operational":
                self.fleet.record(device, ("battery_charged",), when, scooter.position, 100)
        self._next_swap += timedelta(days=1)

    def _start_trip(self) -> None:
        trip = self._next_trip
        assert trip is not None
        self._next_trip = next(self._trips, None)
        rider = _nearest_rentable(self.fleet, trip.path[0])
        if rider is None:
            self.unserved_trips += 1  # no scooter near: what rebalancing should learn about
            return
        scooter = self.fleet.scooters[rider]
        self.fleet.start_trip(rider, epoch_ms(trip.start))
        battery = max(0.0, scooter.battery_pct - DRAIN_PCT_PER_KM * trip.distance_m / 1000)
        halfway = epoch_ms(trip.start + (trip.end - trip.start) / 2)
        middle = trip.path[len(trip.path) // 2]
        for when, action, position, level in (
            (halfway, "telemetry", middle, (scooter.battery_pct + battery) / 2),
            (epoch_ms(trip.end), "end", trip.path[-1], battery),
        ):
            self._order += 1
            heapq.heappush(self._pending, (when, self._order, action, rider, position, level))


def scooter_city(
    at: datetime, *, days: int = 28, scooters: int = 40, seed: int = 7
) -> ScooterFleet:
    """The simulated fleet as it stands at *at*, after *days* of simulated trips."""
    city = ScooterCity(at - timedelta(days=days), days=days + 1, scooters=scooters, seed=seed)
    city.advance_to(at)
    return city.fleet


def _nearest_rentable(fleet: ScooterFleet, position: tuple[float, float]) -> str | None:
    best: tuple[float, str] | None = None
    for device, scooter in fleet.scooters.items():
        if scooter.state != "available" or scooter.battery_pct < 20:
            continue
        gap = distance_m(scooter.position, position)
        if gap <= _PICK_RADIUS_M and (best is None or gap < best[0]):
            best = (gap, device)
    return None if best is None else best[1]
