"""MDS 2.0 provider documents (vehicles, vehicles/status, trips, events, telemetry), pure."""

from typing import Any

from cloud.mobility._fleet import MdsEvent, MdsTelemetry, ScooterFleet

MDS_VERSION = "2.0.0"
HOUR_MS = 3_600_000


def _gps(position: tuple[float, float]) -> dict[str, float]:
    return {"lat": round(position[0], 7), "lng": round(position[1], 7)}


def _event(fleet: ScooterFleet, event: MdsEvent) -> dict[str, Any]:
    document: dict[str, Any] = {
        "device_id": event.device_id,
        "provider_id": fleet.provider_id,
        "event_id": event.event_id,
        "vehicle_state": event.vehicle_state,
        "event_types": list(event.event_types),
        "timestamp": event.timestamp,
        "location": _gps(event.position),
        "battery_percent": round(event.battery_pct),
    }
    if event.trip_id is not None:
        document["trip_ids"] = [event.trip_id]
    return document


def _telemetry(fleet: ScooterFleet, point: MdsTelemetry) -> dict[str, Any]:
    location: dict[str, Any] = {**_gps(point.position), "speed": round(point.speed_mps, 2)}
    if point.heading_deg is not None:
        location["heading"] = round(point.heading_deg, 1)
    document: dict[str, Any] = {
        "device_id": point.device_id,
        "provider_id": fleet.provider_id,
        "telemetry_id": point.telemetry_id,
        "timestamp": point.timestamp,
        "location": location,
        "battery_percent": round(point.battery_pct),
    }
    if point.trip_id is not None:
        document["trip_ids"] = [point.trip_id]
    return document


def mds_vehicles(
    fleet: ScooterFleet, at_ms: int, device_id: str | None = None, ttl_ms: int = 60_000
) -> dict[str, Any]:
    """Every vehicle, or the one of ``/vehicles/{device_id}``."""
    kinds = {kind.vehicle_type_id: kind for kind in fleet.types}
    return {
        "version": MDS_VERSION,
        "vehicles": [
            {
                "device_id": scooter.device_id,
                "provider_id": fleet.provider_id,
                "vehicle_id": scooter.vehicle_id,
                "vehicle_type": "scooter_standing",
                "propulsion_types": ["electric"],
                "maximum_speed": round(kinds[scooter.vehicle_type_id].max_speed_kmh),
            }
            for _, scooter in sorted(fleet.scooters.items())
            if device_id is None or scooter.device_id == device_id
        ],
        "last_updated": at_ms,
        "ttl": ttl_ms,
    }


def mds_vehicles_status(
    fleet: ScooterFleet, at_ms: int, device_id: str | None = None, ttl_ms: int = 60_000
) -> dict[str, Any]:
    """Every vehicle's last event and telemetry, or one vehicle's."""
    statuses = []
    for _, scooter in sorted(fleet.scooters.items()):
        if scooter.last_event is None or device_id not in (None, scooter.device_id):
            continue
        entry: dict[str, Any] = {
            "device_id": scooter.device_id,
            "provider_id": fleet.provider_id,
            "last_event": _event(fleet, scooter.last_event),
        }
        if scooter.last_telemetry is not None:
            entry["last_telemetry"] = _telemetry(fleet, scooter.last_telemetry)
        statuses.append(entry)
    return {
        "version": MDS_VERSION,
        "vehicles_status": statuses,
        "last_updated": at_ms,
        "ttl": ttl_ms,
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
                "trip_type": "community",
                "start_time": trip.start_time,
                "end_time": trip.end_time,
                "start_location": _gps(trip.start),
                "end_location": _gps(trip.end),
                "duration": round((trip.end_time - trip.start_time) / 1000),
                "distance": round(trip.distance_m),
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
    return {
        "version": MDS_VERSION,
        "telemetry": [
            _telemetry(fleet, point)
            for point in fleet.telemetry
            if hour_ms <= point.timestamp < hour_ms + HOUR_MS
        ],
    }
