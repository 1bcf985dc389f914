"""GBFS 3.0 documents of the scooter fleet, built from the ledger by pure functions."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from cloud.mobility._fleet import Hub, ScooterFleet

GBFS_VERSION = "3.0"
JST = timezone(timedelta(hours=9), "JST")
FEEDS = (
    "system_information",
    "vehicle_types",
    "station_information",
    "station_status",
    "vehicle_status",
    "geofencing_zones",
)
#: Rented or lost scooters are not published: only what a rider could rent or see parked.
_VISIBLE = {"available", "reserved", "non_operational"}


@dataclass(frozen=True, slots=True)
class SystemInfo:
    system_id: str
    name: str
    operator: str
    feed_contact_email: str
    language: str = "ja"
    timezone: str = "Asia/Tokyo"
    opening_hours: str = "Mo-Su 05:00-24:00"
    ttl_s: int = 60


@dataclass(frozen=True, slots=True)
class NoRideZone:
    """A polygon (ring of (lat, lon)) where rides may not end, e.g. a station concourse."""

    name: str
    ring: tuple[tuple[float, float], ...]
    ride_start_allowed: bool = False
    ride_end_allowed: bool = False
    ride_through_allowed: bool = True
    maximum_speed_kph: int | None = 6


def rfc3339(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, JST).isoformat(timespec="seconds")


def _text(system: SystemInfo, text: str) -> list[dict[str, str]]:
    return [{"text": text, "language": system.language}]


def _envelope(system: SystemInfo, at_ms: int, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "last_updated": rfc3339(at_ms),
        "ttl": system.ttl_s,
        "version": GBFS_VERSION,
        "data": data,
    }


def gbfs_discovery(system: SystemInfo, base_url: str, at_ms: int) -> dict[str, Any]:
    base = base_url.rstrip("/")
    feeds = [{"name": "gbfs", "url": f"{base}/gbfs.json"}]
    feeds += [{"name": name, "url": f"{base}/{name}.json"} for name in FEEDS]
    return _envelope(system, at_ms, {"feeds": feeds})


def system_information(system: SystemInfo, at_ms: int) -> dict[str, Any]:
    return _envelope(
        system,
        at_ms,
        {
            "system_id": system.system_id,
            "languages": [system.language],
            "name": _text(system, system.name),
            "operator": _text(system, system.operator),
            "opening_hours": system.opening_hours,
            "feed_contact_email": system.feed_contact_email,
            "timezone": system.timezone,
        },
    )


def vehicle_types(system: SystemInfo, fleet: ScooterFleet, at_ms: int) -> dict[str, Any]:
    return _envelope(
        system,
        at_ms,
        {
            "vehicle_types": [
                {
                    "vehicle_type_id": kind.vehicle_type_id,
                    "form_factor": kind.form_factor,
                    "propulsion_type": kind.propulsion_type,
                    "name": _text(system, kind.name),
                    "max_range_meters": kind.max_range_m,
                    "max_permitted_speed": round(kind.max_speed_kmh),
                    "rider_capacity": 1,
                }
                for kind in fleet.types
            ]
        },
    )


def station_information(system: SystemInfo, fleet: ScooterFleet, at_ms: int) -> dict[str, Any]:
    return _envelope(
        system,
        at_ms,
        {
            "stations": [
                {
                    "station_id": hub.id,
                    "name": _text(system, hub.name),
                    "lat": hub.position[0],
                    "lon": hub.position[1],
                    "is_virtual_station": True,
                    "station_area": _circle(hub),
                    "capacity": hub.capacity,
                }
                for hub in fleet.hubs
            ]
        },
    )


def station_status(system: SystemInfo, fleet: ScooterFleet, at_ms: int) -> dict[str, Any]:
    stations = []
    for hub in fleet.hubs:
        here = [
            scooter
            for scooter in fleet.scooters.values()
            if scooter.state == "available" and fleet.hub_at(scooter.position) == hub
        ]
        by_type = {kind.vehicle_type_id: 0 for kind in fleet.types}
        for scooter in here:
            by_type[scooter.vehicle_type_id] += 1
        stations.append(
            {
                "station_id": hub.id,
                "num_vehicles_available": len(here),
                "vehicle_types_available": [
                    {"vehicle_type_id": kind, "count": count} for kind, count in by_type.items()
                ],
                "is_installed": True,
                "is_renting": True,
                "is_returning": len(here) < hub.capacity,
                "last_reported": rfc3339(at_ms),
            }
        )
    return _envelope(system, at_ms, {"stations": stations})


def vehicle_status(system: SystemInfo, fleet: ScooterFleet, at_ms: int) -> dict[str, Any]:
    """Rentable and parked-but-disabled scooters, under their rotating public ids."""
    ranges = {kind.vehicle_type_id: kind.max_range_m for kind in fleet.types}
    vehicles = []
    for device_id, scooter in sorted(fleet.scooters.items()):
        if scooter.state not in _VISIBLE:
            continue
        entry: dict[str, Any] = {
            "vehicle_id": fleet.gbfs_vehicle_id(device_id),
            "lat": round(scooter.position[0], 6),
            "lon": round(scooter.position[1], 6),
            "is_reserved": scooter.state == "reserved",
            "is_disabled": scooter.state == "non_operational",
            "vehicle_type_id": scooter.vehicle_type_id,
            "current_range_meters": round(
                ranges[scooter.vehicle_type_id] * scooter.battery_pct / 100
            ),
            "current_fuel_percent": round(scooter.battery_pct / 100, 2),
        }
        reported = [
            heard.timestamp
            for heard in (scooter.last_event, scooter.last_telemetry)
            if heard is not None
        ]
        if reported:
            entry["last_reported"] = rfc3339(max(reported))
        hub = fleet.hub_at(scooter.position)
        if hub is not None:
            entry["station_id"] = hub.id
        vehicles.append(entry)
    return _envelope(system, at_ms, {"vehicles": vehicles})


def geofencing_zones(
    system: SystemInfo, zones: tuple[NoRideZone, ...], at_ms: int
) -> dict[str, Any]:
    features = []
    for zone in zones:
        ring = [[lon, lat] for lat, lon in zone.ring]
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        rule: dict[str, Any] = {
            "ride_start_allowed": zone.ride_start_allowed,
            "ride_end_allowed": zone.ride_end_allowed,
            "ride_through_allowed": zone.ride_through_allowed,
        }
        if zone.maximum_speed_kph is not None:
            rule["maximum_speed_kph"] = zone.maximum_speed_kph
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]},
                "properties": {"name": _text(system, zone.name), "rules": [rule]},
            }
        )
    return _envelope(
        system,
        at_ms,
        {
            "geofencing_zones": {"type": "FeatureCollection", "features": features},
            "global_rules": [
                {
                    "ride_start_allowed": True,
                    "ride_end_allowed": True,
                    "ride_through_allowed": True,
                }
            ],
        },
    )


def _circle(hub: Hub, corners: int = 12) -> dict[str, Any]:
    """The hub's area as a GeoJSON MultiPolygon, counter-clockwise (right-hand rule)."""
    lat_per_m = 1 / 111_320
    lon_per_m = lat_per_m / math.cos(math.radians(hub.position[0]))
    east, north = hub.radius_m * lon_per_m, hub.radius_m * lat_per_m
    angles = [2 * math.pi * k / corners for k in range(corners)]
    ring = [
        [
            round(hub.position[1] + east * math.cos(angle), 7),
            round(hub.position[0] + north * math.sin(angle), 7),
        ]
        for angle in angles
    ]
    ring.append(ring[0])
    return {"type": "MultiPolygon", "coordinates": [[ring]]}
