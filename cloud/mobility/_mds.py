"""MDS 2.0 provider documents (vehicles, vehicles/status, trips, events, telemetry), pure."""

from typing import Any

from cloud.mobility._fleet import MdsEvent, MdsTelemetry, ScooterFleet, ScooterType

MDS_VERSION = "2.0.0"
HOUR_MS = 3_600_000
#: Near-realtime documents may be at most 5 minutes old, so ttl (ms) may not exceed it.
MAX_TTL_MS = 300_000
#: /vehicles/status lists a vehicle off the street (removed, elsewhere, missing) for 90 minutes.
OFF_STREET_MS = 90 * 60_000
_OFF_STREET = frozenset({"removed", "elsewhere", "missing"})
#: MDS vehicle types; a GBFS form factor MDS lacks is published as ``other``.
_VEHICLE_TYPES = frozenset(
    {
        "bicycle",
        "bus",
        "cargo_bicycle",
        "car",
        "delivery_robot",
        "moped",
        "motorcycle",
        "scooter_standing",
        "scooter_seated",
        "truck",
        "other",
    }
)


def _gps(position: tuple[float, float]) -> dict[str, float]:
    return {"lat": round(position[0], 7), "lng": round(position[1], 7)}


def _percent(value: float) -> int:
    """``battery_percent``: an integer 0–100."""
    return min(100, max(0, round(value)))


def _event(fleet: ScooterFleet, event: MdsEvent) -> dict[str, Any]:
    document: dict[str, Any] = {
        "device_id": event.device_id,
        "provider_id": fleet.provider_id,
        "event_id": event.event_id,
        "vehicle_state": event.vehicle_state,
        "event_types": list(event.event_types),
        "timestamp": event.timestamp,
        "location": _gps(event.position),
        "battery_percent": _percent(event.battery_pct),
    }
    if event.trip_id is not None:
        document["trip_ids"] = [event.trip_id]
    return document


def _telemetry(fleet: ScooterFleet, point: MdsTelemetry) -> dict[str, Any]:
    location: dict[str, Any] = _gps(point.position)
    if point.speed_mps is not None:
        location["speed"] = round(point.speed_mps, 2)
    if point.heading_deg is not None:
        location["heading"] = round(point.heading_deg, 1)
    return {
        "device_id": point.device_id,
        "provider_id": fleet.provider_id,
        "telemetry_id": point.telemetry_id,
        "timestamp": point.timestamp,
        # Both required, null outside a trip; micromobility trips have no journeys.
        "trip_ids": None if point.trip_id is None else [point.trip_id],
        "journey_id": None,
        "location": location,
        "battery_percent": _percent(point.battery_pct),
    }


def _vehicle(fleet: ScooterFleet, kind: ScooterType, device_id: str) -> dict[str, Any]:
    scooter = fleet.scooters[device_id]
    return {
        "device_id": scooter.device_id,
        "provider_id": fleet.provider_id,
        "vehicle_id": scooter.vehicle_id,
        "vehicle_type": kind.form_factor if kind.form_factor in _VEHICLE_TYPES else "other",
        "propulsion_types": [kind.propulsion_type],
        "maximum_speed": round(kind.max_speed_kmh),
    }


def mds_vehicles(
    fleet: ScooterFleet, at_ms: int, device_id: str | None = None, ttl_ms: int = 60_000
) -> dict[str, Any]:
    """Every vehicle, or the one of ``/vehicles/{device_id}``."""
    kinds = {kind.vehicle_type_id: kind for kind in fleet.types}
    return {
        "version": MDS_VERSION,
        "vehicles": [
            _vehicle(fleet, kinds[scooter.vehicle_type_id], device)
            for device, scooter in sorted(fleet.scooters.items())
            if device_id in (None, device)
        ],
        "last_updated": at_ms,
        "ttl": min(ttl_ms, MAX_TTL_MS),
    }


def mds_vehicles_status(
    fleet: ScooterFleet, at_ms: int, device_id: str | None = None, ttl_ms: int = 60_000
) -> dict[str, Any]:
    """Every vehicle's last event and telemetry, or one vehicle's.

    The whole-fleet list leaves out a vehicle that has been off the street (removed, elsewhere,
    missing) for longer than 90 minutes, as MDS asks; asked for by id, it is always there.
    """
    statuses = []
    for device, scooter in sorted(fleet.scooters.items()):
        event, point = scooter.last_event, scooter.last_telemetry
        if event is None or point is None or device_id not in (None, device):
            continue
        if (
            device_id is None
            and event.vehicle_state in _OFF_STREET
            and at_ms - event.timestamp > OFF_STREET_MS
        ):
            continue
        statuses.append(
            {
                "device_id": device,
                "provider_id": fleet.provider_id,
                "last_event": _event(fleet, event),
                "last_telemetry": _telemetry(fleet, point),
            }
        )
    return {
        "version": MDS_VERSION,
        "vehicles_status": statuses,
        "last_updated": at_ms,
        "ttl": min(ttl_ms, MAX_TTL_MS),
    }


def mds_trips(fleet: ScooterFleet, end_hour_ms: int) -> dict[str, Any]:
    """Trips that ended within the hour starting at *end_hour_ms* (``end_time=YYYY-MM-DDTHH``)."""
    return {
        "version": MDS_VERSION,
        "trips": [
            {
                "provider_id": fleet.provider_id,
                "device_id": trip.device_id,
                "trip_id": trip.trip_id,
                "trip_type": ["rider"],
                "start_time": trip.start_time,
                "end_time": trip.end_time,
                "start_location": _gps(trip.start),
                "end_location": _gps(trip.end),
                "duration": round((trip.end_time - trip.start_time) / 1000),  # seconds
                "distance": round(trip.distance_m),  # metres
            }
            for trip in fleet.trips
            if end_hour_ms <= trip.end_time < end_hour_ms + HOUR_MS
        ],
    }


def mds_events(fleet: ScooterFleet, start_ms: int, end_ms: int) -> dict[str, Any]:
    """Events with start ≤ timestamp < end (``events/historical`` for one hour, or ``recent``)."""
    return {
        "version": MDS_VERSION,
        "events": [
            _event(fleet, event) for event in fleet.events if start_ms <= event.timestamp < end_ms
        ],
    }


def mds_telemetry(fleet: ScooterFleet, hour_ms: int) -> dict[str, Any]:
    """Telemetry with a timestamp within the hour starting at *hour_ms*."""
    return {
        "version": MDS_VERSION,
        "telemetry": [
            _telemetry(fleet, point)
            for point in fleet.telemetry
            if hour_ms <= point.timestamp < hour_ms + HOUR_MS
        ],
    }
