"""Scooter rebalancing: expected demand per zone from trip history, and a service van's plan.

Pure. Zones are the fleet's hubs; a trip belongs to the nearest hub within a catchment. The
plan greedily takes the battery swap or the move (pick up at a zone with spare scooters, drop
off where riders will find none) that removes the most expected unmet demand per kilometre
driven, within the van's seats, batteries and stops.
"""

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from cloud.mobility._fleet import Hub, MdsTrip, Scooter, ScooterFleet
from cloud.mobility._geo import LatLon, distance_m

#: A scooter needs this much charge to be worth renting out.
RENTABLE_PCT = 20.0
CATCHMENT_M = 400.0
#: Riders returning within the horizon arrive spread over it: count half of them as supply.
ARRIVAL_WEIGHT = 0.5

DemandKey = tuple[str, int, int]  # zone, weekday (0 = Monday), hour


@dataclass(frozen=True, slots=True)
class DemandProfile:
    """Mean trip starts and ends per (zone, weekday, hour) in local time."""

    starts: dict[DemandKey, float]
    ends: dict[DemandKey, float]
    tz: tzinfo

    def expected(self, zone: str, at: datetime, hours: int) -> tuple[float, float]:
        """Expected (starts, ends) in *zone* over the *hours* from *at*."""
        starts = ends = 0.0
        local = at.astimezone(self.tz)
        for offset in range(hours):
            moment = local + timedelta(hours=offset)
            key = (zone, moment.weekday(), moment.hour)
            starts += self.starts.get(key, 0.0)
            ends += self.ends.get(key, 0.0)
        return starts, ends


def nearest_zone(hubs: Iterable[Hub], position: LatLon, catchment_m: float) -> str | None:
    best: tuple[float, str] | None = None
    for hub in hubs:
        gap = distance_m(hub.position, position)
        if gap <= catchment_m and (best is None or gap < best[0]):
            best = (gap, hub.id)
    return None if best is None else best[1]


def demand_profile(
    trips: Iterable[MdsTrip],
    hubs: tuple[Hub, ...],
    tz: tzinfo,
    catchment_m: float = CATCHMENT_M,
) -> DemandProfile:
    """Average trips per zone, weekday and hour over the days the history covers."""
    starts: Counter[DemandKey] = Counter()
    ends: Counter[DemandKey] = Counter()
    days: set[datetime] = set()
    for trip in trips:
        began = datetime.fromtimestamp(trip.start_time / 1000, tz)
        ended = datetime.fromtimestamp(trip.end_time / 1000, tz)
        days.add(began.replace(hour=0, minute=0, second=0, microsecond=0))
        origin = nearest_zone(hubs, trip.start, catchment_m)
        if origin is not None:
            starts[(origin, began.weekday(), began.hour)] += 1
        destination = nearest_zone(hubs, trip.end, catchment_m)
        if destination is not None:
            ends[(destination, ended.weekday(), ended.hour)] += 1
    if not days:
        return DemandProfile({}, {}, tz)
    first, last = min(days), max(days)
    observed = Counter(
        (first + timedelta(days=offset)).weekday() for offset in range((last - first).days + 1)
    )
    return DemandProfile(
        {key: count / observed[key[1]] for key, count in starts.items()},
        {key: count / observed[key[1]] for key, count in ends.items()},
        tz,
    )


@dataclass(frozen=True, slots=True)
class Van:
    position: LatLon
    capacity: int = 8
    batteries: int = 10
    max_stops: int = 12


@dataclass(frozen=True, slots=True)
class VanAction:
    kind: Literal["pick_up", "drop_off", "swap"]
    zone: str
    vehicles: tuple[str, ...]
    load_after: int


@dataclass(frozen=True, slots=True)
class ZoneOutlook:
    zone: str
    expected_starts: float
    expected_ends: float
    rentable: int
    low_battery: int
    unmet_before: float
    unmet_after: float


@dataclass(frozen=True, slots=True)
class RebalancePlan:
    actions: tuple[VanAction, ...]
    zones: tuple[ZoneOutlook, ...]
    driving_m: float

    @property
    def unmet_before(self) -> float:
        return sum(zone.unmet_before for zone in self.zones)

    @property
    def unmet_after(self) -> float:
        return sum(zone.unmet_after for zone in self.zones)


@dataclass
class _Zone:
    hub: Hub
    need: float
    starts: float
    ends: float
    rentable: list[str] = field(default_factory=list)
    low: list[str] = field(default_factory=list)

    def unmet(self) -> float:
        return max(0.0, self.need - len(self.rentable))

    def spare(self) -> int:
        return max(0, math.floor(len(self.rentable) - max(self.need, 0.0)))


def plan_rebalancing(
    fleet: ScooterFleet,
    profile: DemandProfile,
    at: datetime,
    van: Van,
    *,
    horizon_h: int = 3,
    catchment_m: float = CATCHMENT_M,
) -> RebalancePlan:
    """The van's moves and swaps for the next *horizon_h* hours, in driving order."""
    zones = _zones(fleet, profile, at, horizon_h, catchment_m)
    before = {zone_id: zone.unmet() for zone_id, zone in zones.items()}
    actions: list[VanAction] = []
    position, stops, batteries, driven = van.position, 0, van.batteries, 0.0
    while stops < van.max_stops:
        step = _best_step(zones, position, van, batteries, stops)
        if step is None:
            break
        kind, source, target, count = step
        if kind == "swap":
            zone = zones[source]
            swapped = tuple(zone.low[:count])
            zone.low = zone.low[count:]
            zone.rentable += swapped
            batteries -= count
            driven += distance_m(position, zone.hub.position)
            position, stops = zone.hub.position, stops + 1
            actions.append(VanAction("swap", source, swapped, 0))
            continue
        origin, destination = zones[source], zones[target]
        moved = tuple(origin.rentable[-count:])
        origin.rentable = origin.rentable[:-count]
        destination.rentable += moved
        driven += distance_m(position, origin.hub.position)
        driven += distance_m(origin.hub.position, destination.hub.position)
        position, stops = destination.hub.position, stops + 2
        actions.append(VanAction("pick_up", source, moved, len(moved)))
        actions.append(VanAction("drop_off", target, moved, 0))
    outlook = tuple(
        ZoneOutlook(
            zone_id,
            round(zone.starts, 2),
            round(zone.ends, 2),
            len(zone.rentable),
            len(zone.low),
            round(before[zone_id], 2),
            round(zone.unmet(), 2),
        )
        for zone_id, zone in sorted(zones.items())
    )
    return RebalancePlan(tuple(actions), outlook, driven)


def _zones(
    fleet: ScooterFleet,
    profile: DemandProfile,
    at: datetime,
    horizon_h: int,
    catchment_m: float,
) -> dict[str, _Zone]:
    zones: dict[str, _Zone] = {}
    for hub in fleet.hubs:
        starts, ends = profile.expected(hub.id, at, horizon_h)
        zones[hub.id] = _Zone(hub, starts - ARRIVAL_WEIGHT * ends, starts, ends)
    for device_id, scooter in sorted(fleet.scooters.items()):
        zone_id = nearest_zone(fleet.hubs, scooter.position, catchment_m)
        if zone_id is None:
            continue
        if _rentable(scooter):
            zones[zone_id].rentable.append(device_id)
        elif _swappable(scooter):
            zones[zone_id].low.append(device_id)
    return zones


def _rentable(scooter: Scooter) -> bool:
    return scooter.state == "available" and scooter.battery_pct >= RENTABLE_PCT


def _swappable(scooter: Scooter) -> bool:
    low = scooter.battery_pct < RENTABLE_PCT
    return scooter.state in ("available", "non_operational") and low


def _best_step(
    zones: dict[str, _Zone], position: LatLon, van: Van, batteries: int, stops: int
) -> tuple[Literal["swap", "move"], str, str, int] | None:
    best: tuple[float, Literal["swap", "move"], str, str, int] | None = None
    for zone_id, zone in zones.items():
        unmet = zone.unmet()
        if unmet <= 0:
            continue
        if batteries > 0 and zone.low:
            count = min(batteries, len(zone.low), math.ceil(unmet))
            gain = min(float(count), unmet)
            km = distance_m(position, zone.hub.position) / 1000
            score = gain / (1 + km)
            if best is None or score > best[0]:
                best = (score, "swap", zone_id, zone_id, count)
        if stops + 2 > van.max_stops:
            continue
        for source_id, source in zones.items():
            spare = source.spare()
            if source_id == zone_id or spare <= 0:
                continue
            count = min(spare, van.capacity, math.ceil(unmet))
            gain = min(float(count), unmet) - max(0.0, source.need - (len(source.rentable) - count))
            if gain <= 0:
                continue
            km = (
                distance_m(position, source.hub.position)
                + distance_m(source.hub.position, zone.hub.position)
            ) / 1000
            score = gain / (1 + km)
            if best is None or score > best[0]:
                best = (score, "move", source_id, zone_id, count)
    return None if best is None else best[1:]
