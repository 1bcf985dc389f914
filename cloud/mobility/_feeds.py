"""The feed endpoints as one pure function: (path, query, now) → status and document."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloud.mobility._fleet import ScooterFleet
from cloud.mobility._gbfs import (
    NoRideZone,
    SystemInfo,
    gbfs_discovery,
    geofencing_zones,
    station_information,
    station_status,
    system_information,
    vehicle_status,
    vehicle_types,
)
from cloud.mobility._mds import (
    HOUR_MS,
    mds_events,
    mds_telemetry,
    mds_trips,
    mds_vehicles,
    mds_vehicles_status,
)

GBFS_TYPE = "application/json"
MDS_TYPE = "application/vnd.mds+json;version=2.0"


@dataclass(frozen=True, slots=True)
class FeedResponse:
    status: int
    content_type: str
    document: dict[str, Any]


@dataclass
class FeedService:
    """GBFS 3.0 under ``/gbfs/``, MDS 2.0 provider endpoints under ``/mds/``."""

    fleet: ScooterFleet
    system: SystemInfo
    base_url: str
    zones: tuple[NoRideZone, ...] = field(default=())

    def urls(self) -> dict[str, str]:
        base = self.base_url.rstrip("/")
        return {"gbfs": f"{base}/gbfs/gbfs.json", "mds": f"{base}/mds/vehicles"}

    def respond(self, path: str, query: dict[str, str], now_ms: int) -> FeedResponse:
        parts = [part for part in path.split("/") if part]
        if parts[:1] == ["gbfs"] and len(parts) == 2:
            return self._gbfs(parts[1], now_ms)
        if parts[:1] == ["mds"]:
            return self._mds(parts[1:], query, now_ms)
        return _error(404, GBFS_TYPE, f"no feed at {path}")

    def _gbfs(self, name: str, now_ms: int) -> FeedResponse:
        fleet, system = self.fleet, self.system
        builders = {
            "gbfs.json": lambda: gbfs_discovery(system, f"{self.base_url}/gbfs", now_ms),
            "system_information.json": lambda: system_information(system, now_ms),
            "vehicle_types.json": lambda: vehicle_types(system, fleet, now_ms),
            "station_information.json": lambda: station_information(system, fleet, now_ms),
            "station_status.json": lambda: station_status(system, fleet, now_ms),
            "vehicle_status.json": lambda: vehicle_status(system, fleet, now_ms),
            "geofencing_zones.json": lambda: geofencing_zones(system, self.zones, now_ms),
        }
        build = builders.get(name)
        if build is None:
            return _error(404, GBFS_TYPE, f"no GBFS feed {name}")
        return FeedResponse(200, GBFS_TYPE, build())

    def _mds(self, parts: list[str], query: dict[str, str], now_ms: int) -> FeedResponse:
        fleet = self.fleet
        try:
            if parts == ["vehicles"]:
                return FeedResponse(200, MDS_TYPE, mds_vehicles(fleet, now_ms))
            if parts == ["vehicles", "status"]:
                return FeedResponse(200, MDS_TYPE, mds_vehicles_status(fleet, now_ms))
            if len(parts) in (2, 3) and parts[0] == "vehicles" and parts[-1] in fleet.scooters:
                one = parts[-1]
                if parts[1:] == [one]:
                    return FeedResponse(200, MDS_TYPE, mds_vehicles(fleet, now_ms, one))
                if parts[1:] == ["status", one]:
                    return FeedResponse(200, MDS_TYPE, mds_vehicles_status(fleet, now_ms, one))
            if parts == ["trips"]:
                return self._hourly(mds_trips(fleet, _hour(query, "end_time")), query, now_ms)
            if parts == ["telemetry"]:
                hour = _hour(query, "telemetry_time")
                return self._hourly(mds_telemetry(fleet, hour), query, now_ms, hour)
            if parts == ["events", "historical"]:
                hour = _hour(query, "event_time")
                return self._hourly(mds_events(fleet, hour, hour + HOUR_MS), query, now_ms, hour)
            if parts == ["events", "recent"]:
                start, end = _millis(query, "start_time"), _millis(query, "end_time")
                return FeedResponse(200, MDS_TYPE, _recent(fleet, start, end))
        except ValueError as exc:
            return _error(400, MDS_TYPE, str(exc))
        return _error(404, MDS_TYPE, f"no MDS endpoint /{'/'.join(parts)}")

    def _hourly(
        self,
        document: dict[str, Any],
        query: dict[str, str],
        now_ms: int,
        hour_ms: int | None = None,
    ) -> FeedResponse:
        # MDS: an hour that has not finished yet is not available.
        hour = hour_ms if hour_ms is not None else _hour(query, "end_time")
        if hour + HOUR_MS > now_ms:
            return _error(404, MDS_TYPE, "that hour has not ended yet")
        return FeedResponse(200, MDS_TYPE, document)


def _hour(query: dict[str, str], name: str) -> int:
    """``YYYY-MM-DDTHH`` (UTC) as epoch ms."""
    raw = query.get(name)
    if raw is None:
        raise ValueError(f"{name} is required (YYYY-MM-DDTHH, UTC)")
    try:
        hour = datetime.strptime(raw, "%Y-%m-%dT%H").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{name}: {raw!r} is not YYYY-MM-DDTHH") from None
    return int(hour.timestamp() * 1000)


def _recent(fleet: ScooterFleet, start: int, end: int) -> dict[str, Any]:
    if end < start:
        raise ValueError("end_time is before start_time")
    return mds_events(fleet, start, end)


def _millis(query: dict[str, str], name: str) -> int:
    raw = query.get(name, "")
    if not raw.isdigit():
        raise ValueError(f"{name}: {raw!r} is not a timestamp in milliseconds")
    return int(raw)


def _error(status: int, content_type: str, message: str) -> FeedResponse:
    return FeedResponse(status, content_type, {"error": message})
