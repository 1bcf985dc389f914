"""GBFS 3.0 and MDS 2.0 feeds over real HTTP, checked against the schemas.

GBFS: MobilityData's official JSON schemas (v3.0), as shipped verbatim in the gbfs-validator
package. MDS: no registry package ships the official MDS 2.0 schemas, so the required structure
of each provider endpoint is written below from the MDS 2.0 specification.
"""

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import jsonschema
import pytest

from cloud.mobility import FeedServer, FeedService, Hub, ScooterFleet, ScooterType
from hinode.commands.mobility import NO_RIDE_ZONES, SYSTEM, scooter_city

AT = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
GBFS_FEEDS = (
    "gbfs",
    "system_information",
    "vehicle_types",
    "station_information",
    "station_status",
    "vehicle_status",
    "geofencing_zones",
)

UUID = {"type": "string", "format": "uuid", "pattern": "^[0-9a-f-]{36}$"}
TIMESTAMP = {"type": "integer", "minimum": 946_684_800_000}
GPS = {
    "type": "object",
    "required": ["lat", "lng"],
    "properties": {
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "lng": {"type": "number", "minimum": -180, "maximum": 180},
    },
}
STATES = ["available", "reserved", "on_trip", "non_operational", "elsewhere", "removed", "unknown"]
EVENT = {
    "type": "object",
    "required": [
        "device_id",
        "provider_id",
        "event_id",
        "vehicle_state",
        "event_types",
        "timestamp",
        "location",
    ],
    "properties": {
        "device_id": UUID,
        "provider_id": UUID,
        "event_id": UUID,
        "vehicle_state": {"enum": STATES},
        "event_types": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "timestamp": TIMESTAMP,
        "location": GPS,
        "battery_percent": {"type": "integer", "minimum": 0, "maximum": 100},
        "trip_ids": {"type": "array", "items": UUID},
    },
}
TELEMETRY = {
    "type": "object",
    "required": ["device_id", "provider_id", "telemetry_id", "timestamp", "location"],
    "properties": {
        "device_id": UUID,
        "provider_id": UUID,
        "telemetry_id": UUID,
        "timestamp": TIMESTAMP,
        "location": GPS,
        "battery_percent": {"type": "integer", "minimum": 0, "maximum": 100},
    },
}


def mds_payload(key: str, item: dict[str, Any], *, updated: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["version", key] + (["last_updated", "ttl"] if updated else []),
        "properties": {
            "version": {"type": "string", "pattern": r"^2\.0\.\d+$"},
            key: {"type": "array", "items": item},
        },
    }
    return schema


MDS_SCHEMAS = {
    "vehicles": mds_payload(
        "vehicles",
        {
            "type": "object",
            "required": [
                "device_id",
                "provider_id",
                "vehicle_id",
                "vehicle_type",
                "propulsion_types",
            ],
            "properties": {
                "device_id": UUID,
                "provider_id": UUID,
                "vehicle_type": {
                    "enum": [
                        "bicycle",
                        "cargo_bicycle",
                        "car",
                        "scooter_standing",
                        "scooter_seated",
                        "moped",
                        "delivery_robot",
                        "other",
                    ]
                },
                "propulsion_types": {"type": "array", "minItems": 1},
            },
        },
        updated=True,
    ),
    "vehicles/status": mds_payload(
        "vehicles_status",
        {
            "type": "object",
            "required": ["device_id", "provider_id", "last_event"],
            "properties": {"last_event": EVENT, "last_telemetry": TELEMETRY},
        },
        updated=True,
    ),
    "trips": mds_payload(
        "trips",
        {
            "type": "object",
            "required": [
                "provider_id",
                "device_id",
                "trip_id",
                "start_time",
                "end_time",
                "start_location",
                "end_location",
                "duration",
                "distance",
            ],
            "properties": {
                "trip_id": UUID,
                "start_time": TIMESTAMP,
                "end_time": TIMESTAMP,
                "start_location": GPS,
                "end_location": GPS,
                "duration": {"type": "integer", "minimum": 0},
                "distance": {"type": "integer", "minimum": 0},
            },
        },
    ),
    "events": mds_payload("events", EVENT),
    "telemetry": mds_payload("telemetry", TELEMETRY),
}


def gbfs_schema(name: str) -> dict[str, Any]:
    folder = resources.files("gbfs_validator").joinpath("data/schemas/v3.0")
    schema: dict[str, Any] = json.loads(folder.joinpath(f"{name}.json").read_text())
    return schema


def fetch(url: str) -> tuple[int, str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], json.load(error)


@pytest.fixture(scope="module")
def feeds() -> Any:
    fleet = scooter_city(AT, days=7)
    service = FeedService(fleet, SYSTEM, "", NO_RIDE_ZONES)
    clock = int(AT.timestamp() * 1000)
    with FeedServer(service, lambda: clock) as server:
        service.base_url = server.url
        yield server.url, fleet


def check(schema: dict[str, Any], document: Any) -> None:
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


@pytest.mark.parametrize("name", GBFS_FEEDS)
def test_gbfs_feeds_validate_against_the_official_schemas(feeds: Any, name: str) -> None:
    url, _ = feeds
    status, content_type, document = fetch(f"{url}/gbfs/{name}.json")
    assert (status, content_type) == (200, "application/json")
    check(gbfs_schema(name), document)


def test_gbfs_discovery_lists_every_feed_at_a_working_url(feeds: Any) -> None:
    url, _ = feeds
    _, _, discovery = fetch(f"{url}/gbfs/gbfs.json")
    listed = {feed["name"]: feed["url"] for feed in discovery["data"]["feeds"]}
    assert set(listed) == set(GBFS_FEEDS)
    for feed_url in listed.values():
        assert fetch(feed_url)[0] == 200


def test_vehicle_status_shows_rentable_scooters_at_their_hubs(feeds: Any) -> None:
    url, fleet = feeds
    _, _, document = fetch(f"{url}/gbfs/vehicle_status.json")
    vehicles = document["data"]["vehicles"]
    visible = [s for s in fleet.scooters.values() if s.state in ("available", "non_operational")]
    assert len(vehicles) == len(visible) > 0
    labels = {s.vehicle_id for s in fleet.scooters.values()} | set(fleet.scooters)
    assert not {v["vehicle_id"] for v in vehicles} & labels  # never the device or its label
    _, _, stations = fetch(f"{url}/gbfs/station_status.json")
    parked = sum(s["num_vehicles_available"] for s in stations["data"]["stations"])
    at_hubs = [v for v in vehicles if "station_id" in v and not v["is_disabled"]]
    assert parked == len(at_hubs)


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        ("vehicles", "vehicles"),
        ("vehicles/status", "vehicles/status"),
        ("trips?end_time=2026-11-23T23", "trips"),
        ("events/historical?event_time=2026-11-23T23", "events"),
        ("telemetry?telemetry_time=2026-11-23T23", "telemetry"),
        (
            f"events/recent?start_time={int((AT - timedelta(hours=3)).timestamp() * 1000)}"
            f"&end_time={int(AT.timestamp() * 1000)}",
            "events",
        ),
    ],
)
def test_mds_endpoints_have_the_required_structure(feeds: Any, path: str, schema: str) -> None:
    url, _ = feeds
    status, content_type, document = fetch(f"{url}/mds/{path}")
    assert status == 200, document
    assert content_type == "application/vnd.mds+json;version=2.0"
    check(MDS_SCHEMAS[schema], document)


def test_mds_single_vehicle_endpoints(feeds: Any) -> None:
    url, fleet = feeds
    device = sorted(fleet.scooters)[0]
    _, _, vehicles = fetch(f"{url}/mds/vehicles/{device}")
    check(MDS_SCHEMAS["vehicles"], vehicles)
    assert [v["device_id"] for v in vehicles["vehicles"]] == [device]
    _, _, status = fetch(f"{url}/mds/vehicles/status/{device}")
    check(MDS_SCHEMAS["vehicles/status"], status)
    assert [v["device_id"] for v in status["vehicles_status"]] == [device]
    assert fetch(f"{url}/mds/vehicles/0b6e1c52-0000-4000-8000-00000000dead")[0] == 404


def test_mds_hourly_endpoints_have_data_for_a_commuter_hour(feeds: Any) -> None:
    url, _ = feeds
    # Monday 23 November 2026, 08:00 JST = 23:00 UTC the day before.
    _, _, trips = fetch(f"{url}/mds/trips?end_time=2026-11-22T23")
    assert trips["trips"]
    assert all(trip["end_time"] >= trip["start_time"] for trip in trips["trips"])


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("trips", 400),
        ("trips?end_time=yesterday", 400),
        ("trips?end_time=2026-11-23T22", 200),
        ("trips?end_time=2026-11-23T22&x=1", 200),
        ("trips?end_time=2026-11-24T07", 404),  # that hour has not ended
        ("events/recent?start_time=5&end_time=1", 400),
        ("nothing", 404),
    ],
)
def test_mds_bad_queries_are_answered_not_crashed(feeds: Any, path: str, status: int) -> None:
    url, _ = feeds
    assert fetch(f"{url}/mds/{path}")[0] == status


def test_vehicle_id_is_rotated_after_each_trip() -> None:
    hub = Hub("hub-station", "Station", (36.5871, 136.6296), capacity=10)
    fleet = ScooterFleet(
        "0b6e1c52-0000-4000-8000-000000000001", b"secret", (ScooterType("k1", "K"),), (hub,)
    )
    device = "0b6e1c52-0000-4000-8000-0000000000aa"
    start = int(AT.timestamp() * 1000)
    fleet.deploy(device, "HN-0001", "k1", hub.position, 90, start)
    seen = [fleet.gbfs_vehicle_id(device)]
    for trip in range(3):
        fleet.start_trip(device, start + trip * 600_000 + 1000)
        assert fleet.gbfs_vehicle_id(device) == seen[-1]  # not while it is rented
        fleet.end_trip(device, start + trip * 600_000 + 300_000, hub.position, 80 - trip)
        seen.append(fleet.gbfs_vehicle_id(device))
    assert len(set(seen)) == 4
    other = ScooterFleet(fleet.provider_id, b"other-secret", fleet.types, fleet.hubs)
    other.deploy(device, "HN-0001", "k1", hub.position, 90, start)
    assert other.gbfs_vehicle_id(device) != seen[0]  # unlinkable without the secret


def test_a_failing_document_is_a_500_not_a_dead_server(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(FeedService):
        def respond(self, path: str, query: dict[str, str], now_ms: int) -> Any:
            if path == "/boom":
                raise RuntimeError("boom")
            return super().respond(path, query, now_ms)

    fleet = scooter_city(AT, days=1)
    service = Broken(fleet, SYSTEM, "", NO_RIDE_ZONES)
    with FeedServer(service, lambda: int(AT.timestamp() * 1000)) as server:
        assert fetch(f"{server.url}/boom")[0] == 500
        assert fetch(f"{server.url}/gbfs/gbfs.json")[0] == 200
    assert "feed /boom failed" in caplog.text
