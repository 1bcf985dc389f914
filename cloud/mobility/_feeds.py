"""The feed endpoints as one pure function: (path, query, now) → status and document."""

import re
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
from cloud.mobility._tokens import Denied, TokenStore, bearer_token

GBFS_TYPE = "application/json"
MDS_TYPE = "application/vnd.mds+json;version=2.0"
#: /events/recent serves the last two weeks; older events are in /events/historical.
RECENT_MS = 14 * 24 * HOUR_MS
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DAY_HOUR = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}")


@dataclass(frozen=True, slots=True)
class FeedResponse:
    status: int
    content_type: str
    document: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()
    #: Why the request was refused, for the server's log (never the token).
    denied: Denied | None = None


@dataclass
class FeedService:
    """GBFS 3.0 under ``/gbfs/``, MDS 2.0 provider endpoints under ``/mds/``.

    GBFS is public by design. With *tokens*, every MDS endpoint wants ``Authorization: Bearer``
    with one of their tokens (MDS: a provider authorizes the agencies); without, MDS is open.
    """

    fleet: ScooterFleet
    system: SystemInfo
    base_url: str
    zones: tuple[NoRideZone, ...] = field(default=())
    tokens: TokenStore | None = None

    def urls(self) -> dict[str, str]:
        base = self.base_url.rstrip("/")
        return {"gbfs": f"{base}/gbfs/gbfs.json", "mds": f"{base}/mds/vehicles"}

    def respond(
        self,
        path: str,
        query: dict[str, str],
        now_ms: int,
        accept: str | None = None,
        authorization: str | None = None,
    ) -> FeedResponse:
        """The answer to ``GET path?query`` at *now_ms*; *accept* and *authorization* are the
        request's headers of those names."""
        parts = [part for part in path.split("/") if part]
        if parts[:1] == ["gbfs"] and len(parts) == 2:
            return self._gbfs(parts[1], now_ms)
        if parts[:1] == ["mds"]:
            # Before anything else: a caller not let in learns nothing, not even what exists.
            if self.tokens is not None:
                verdict = self.tokens.check(bearer_token(authorization))
                if isinstance(verdict, Denied):
                    return _mds_denied(verdict)
            if not _accepts_mds_2_0(accept):
                return _mds_error(
                    406, "not_acceptable", "only MDS 2.0 is served", f"Accept: {accept}"
                )
            return self._mds(parts[1:], query, now_ms)
        return FeedResponse(404, GBFS_TYPE, {"error": f"no feed at {path}"})

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
            return FeedResponse(404, GBFS_TYPE, {"error": f"no GBFS feed {name}"})
        return FeedResponse(200, GBFS_TYPE, build())

    def _mds(self, parts: list[str], query: dict[str, str], now_ms: int) -> FeedResponse:
        fleet = self.fleet
        try:
            if parts == ["vehicles"]:
                return FeedResponse(200, MDS_TYPE, mds_vehicles(fleet, now_ms))
            if parts == ["vehicles", "status"]:
                return FeedResponse(200, MDS_TYPE, mds_vehicles_status(fleet, now_ms))
            if parts[:1] == ["vehicles"] and parts[1:-1] in ([], ["status"]) and len(parts) > 1:
                return self._one_vehicle(parts[-1], len(parts) == 3, now_ms)
            if parts == ["trips"]:
                hour = _hour(query, "end_time")
                return self._hourly(mds_trips(fleet, hour), hour, now_ms, "end_time")
            if parts == ["events", "historical"]:
                hour = _hour(query, "event_time")
                events = mds_events(fleet, hour, hour + HOUR_MS)
                return self._hourly(events, hour, now_ms, "event_time")
            if parts == ["telemetry"]:
                hour = _hour(query, "telemetry_time")
                if hour + HOUR_MS > now_ms:
                    # /telemetry has no 404: an hour still going on is a bad parameter.
                    return _mds_error(
                        400, "bad_param", "that hour has not ended yet", "telemetry_time"
                    )
                return FeedResponse(200, MDS_TYPE, mds_telemetry(fleet, hour))
            if parts == ["events", "recent"]:
                start, end = _millis(query, "start_time"), _millis(query, "end_time")
                return FeedResponse(200, MDS_TYPE, _recent(fleet, start, end, now_ms))
        except QueryError as exc:
            return _mds_error(400, exc.code, exc.description, exc.parameter)
        return _mds_error(404, "not_found", "no such MDS endpoint", f"/{'/'.join(parts)}")

    def _one_vehicle(self, device_id: str, status: bool, now_ms: int) -> FeedResponse:
        if not _UUID.fullmatch(device_id):
            return _mds_error(400, "bad_param", "device_id is not a UUID", "device_id")
        build = mds_vehicles_status if status else mds_vehicles
        document = build(self.fleet, now_ms, device_id)
        if not document["vehicles_status" if status else "vehicles"]:
            return _mds_error(404, "not_found", "no vehicle with that device_id", device_id)
        return FeedResponse(200, MDS_TYPE, document)

    def _hourly(
        self, document: dict[str, Any], hour_ms: int, now_ms: int, parameter: str
    ) -> FeedResponse:
        # MDS: an hour not yet over, or one before the fleet was operating, is not found.
        if hour_ms + HOUR_MS > now_ms:
            return _mds_error(404, "not_found", "that hour has not ended yet", parameter)
        first = self.fleet.events[0].timestamp if self.fleet.events else None
        if first is None or hour_ms + HOUR_MS <= first:
            return _mds_error(404, "not_found", "no operations during that hour", parameter)
        return FeedResponse(200, MDS_TYPE, document)


class QueryError(ValueError):
    """A missing or malformed query parameter: a 400 in the MDS error format."""

    def __init__(self, code: str, description: str, parameter: str) -> None:
        super().__init__(f"{parameter}: {description}")
        self.code, self.description, self.parameter = code, description, parameter


def _accepts_mds_2_0(accept: str | None) -> bool:
    """Whether an Accept header lets us answer with MDS 2.0.

    A client that names the MDS media type must name version 2.0 (MDS: anything else is a 406).
    One that does not name it (no header, ``*/*``, ``application/json``: a browser, curl) gets
    2.0 too, rather than the 0.2 MDS would have a provider fall back to, which we do not serve.
    """
    named = []
    for media_range in (accept or "").split(","):
        media_type, *parameters = (part.strip() for part in media_range.split(";"))
        if media_type.lower() != "application/vnd.mds+json":
            continue
        fields = dict(p.partition("=")[::2] for p in parameters)
        named.append(fields.get("version", "").strip('"'))
    return not named or "2.0" in named


def _hour(query: dict[str, str], name: str) -> int:
    """``YYYY-MM-DDTHH`` (UTC) as epoch ms."""
    raw = query.get(name)
    if raw is None:
        raise QueryError("missing_param", "required: an hour as YYYY-MM-DDTHH, UTC", name)
    malformed = QueryError("bad_param", f"{raw!r} is not YYYY-MM-DDTHH", name)
    if not _DAY_HOUR.fullmatch(raw):  # strptime alone would take 2026-1-2T3
        raise malformed
    try:
        hour = datetime.strptime(raw, "%Y-%m-%dT%H").replace(tzinfo=UTC)
    except ValueError:
        raise malformed from None
    return int(hour.timestamp() * 1000)


def _recent(fleet: ScooterFleet, start: int, end: int, now_ms: int) -> dict[str, Any]:
    if end < start:
        raise QueryError("bad_param", "end_time is before start_time", "end_time")
    if start < now_ms - RECENT_MS:
        raise QueryError(
            "bad_param", "more than two weeks ago: use /events/historical", "start_time"
        )
    return mds_events(fleet, start, end)


def _millis(query: dict[str, str], name: str) -> int:
    raw = query.get(name)
    if raw is None:
        raise QueryError("missing_param", "required: a timestamp in milliseconds", name)
    if not (raw.isascii() and raw.isdigit()):
        raise QueryError("bad_param", f"{raw!r} is not a timestamp in milliseconds", name)
    return int(raw)


def _mds_denied(denied: Denied) -> FeedResponse:
    code = "unauthorized" if denied.status == 401 else "forbidden"
    body = {
        "error": code,
        "error_description": denied.reason,
        "error_details": ["Authorization: Bearer <token>"],
    }
    return FeedResponse(
        denied.status, MDS_TYPE, body, (("WWW-Authenticate", denied.challenge),), denied
    )


def _mds_error(status: int, code: str, description: str, detail: str) -> FeedResponse:
    """The MDS error message: a code, a description and at least one detail."""
    body = {"error": code, "error_description": description, "error_details": [detail]}
    return FeedResponse(status, MDS_TYPE, body)
