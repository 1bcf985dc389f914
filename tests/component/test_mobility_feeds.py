"""GBFS 3.0 and MDS 2.0 feeds over real HTTP, checked against the schemas.

GBFS: MobilityData's official JSON schemas (v3.0), as shipped verbatim in the gbfs-validator
package. MDS: no registry package ships the official MDS 2.0 schemas, so what the MDS 2.0
provider definitions require of each endpoint, for the micromobility mode, is written below as
JSON Schema, with the rules the specification states in prose (event types per vehicle state,
trip_ids on trip events, trip telemetry, the 90-minute rule, Accept and errors) as tests.
"""

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import jsonschema
import pytest

from cloud.mobility import FeedServer, FeedService, Hub, ScooterFleet, ScooterType
from hinode.commands.mobility_city import NO_RIDE_ZONES, SYSTEM, scooter_city
from tests.support.mds import LEADS_INTO, TRIP_EVENT_TYPES

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

MDS_TYPE = "application/vnd.mds+json;version=2.0"

# MDS 2.0 data types.
UUID = {
    "type": "string",
    "format": "uuid",
    "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
}
UUIDS = {"type": "array", "uniqueItems": True, "items": UUID}
TIMESTAMP = {"type": "integer", "minimum": 1_514_764_800_000}  # milliseconds, 2018 onwards
COUNT = {"type": "integer", "minimum": 0}
PERCENT = {"type": "integer", "minimum": 0, "maximum": 100}
TEXT = {"type": "string", "maxLength": 255}
GPS = {
    "type": "object",
    "required": ["lat", "lng"],
    "properties": {
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "lng": {"type": "number", "minimum": -180, "maximum": 180},
        "altitude": {"type": "number"},  # metres
        "heading": {"type": "number"},  # degrees from true north
        "speed": {"type": "number"},  # metres per second
        "horizontal_accuracy": {"type": "number"},
        "vertical_accuracy": {"type": "number"},
        "satellites": COUNT,
    },
}
VEHICLE_TYPES = [
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
]
PROPULSION_TYPES = [
    "human",
    "electric_assist",
    "electric",
    "combustion",
    "combustion_diesel",
    "hybrid",
    "hydrogen_fuel_cell",
    "plug_in_hybrid",
]
ACCESSIBILITY = {"type": "array", "uniqueItems": True, "items": {"enum": ["adaptive"]}}

EVENT = {
    "type": "object",
    "required": [
        "device_id",
        "provider_id",
        "event_id",
        "vehicle_state",
        "event_types",
        "timestamp",
    ],
    "properties": {
        "device_id": UUID,
        "provider_id": UUID,
        "data_provider_id": UUID,
        "event_id": UUID,
        "vehicle_state": {"enum": sorted(LEADS_INTO)},
        "event_types": {"type": "array", "minItems": 1, "uniqueItems": True},
        "timestamp": TIMESTAMP,
        "publication_time": TIMESTAMP,
        "location": GPS,
        "event_geographies": UUIDS,
        "battery_percent": PERCENT,
        "fuel_percent": PERCENT,
        "trip_ids": UUIDS,
        "associated_ticket": TEXT,
    },
    # A location, or else the geographies it lies in.
    "anyOf": [
        {"required": ["location"]},
        {"required": ["event_geographies"], "properties": {"event_geographies": {"minItems": 1}}},
    ],
    "allOf": [
        # Only event types that lead into the state the event reports.
        *(
            {
                "if": {"properties": {"vehicle_state": {"const": state}}},
                "then": {"properties": {"event_types": {"items": {"enum": sorted(kinds)}}}},
            }
            for state, kinds in LEADS_INTO.items()
        ),
        # A trip event names its trip.
        {
            "if": {"properties": {"event_types": {"contains": {"enum": sorted(TRIP_EVENT_TYPES)}}}},
            "then": {"required": ["trip_ids"], "properties": {"trip_ids": {"minItems": 1}}},
        },
    ],
}
TELEMETRY = {
    "type": "object",
    "required": [
        "device_id",
        "provider_id",
        "telemetry_id",
        "timestamp",
        "trip_ids",
        "journey_id",
        "location",
    ],
    "properties": {
        "device_id": UUID,
        "provider_id": UUID,
        "data_provider_id": UUID,
        "telemetry_id": UUID,
        "timestamp": TIMESTAMP,
        # The trip(s) the point was on, or null between trips.
        "trip_ids": {"oneOf": [{**UUIDS, "minItems": 1}, {"type": "null"}]},
        "journey_id": {"type": "null"},  # micromobility has no journeys
        "stop_id": UUID,
        "location": GPS,
        "location_type": {"enum": ["street", "sidewalk", "crosswalk", "garage", "bike_lane"]},
        "battery_percent": PERCENT,
        "fuel_percent": PERCENT,
        "tipped_over": {"type": "boolean"},
    },
}
VEHICLE = {
    "type": "object",
    "required": ["device_id", "provider_id", "vehicle_id", "vehicle_type", "propulsion_types"],
    "properties": {
        "device_id": UUID,
        "provider_id": UUID,
        "data_provider_id": UUID,
        "vehicle_id": TEXT,
        "vehicle_type": {"enum": VEHICLE_TYPES},
        "propulsion_types": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"enum": PROPULSION_TYPES},
        },
        "vehicle_attributes": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "year": {"type": "integer", "minimum": 1970},
                "make": TEXT,
                "model": TEXT,
            },
        },
        "accessibility_attributes": ACCESSIBILITY,
        "battery_capacity": COUNT,  # mAh
        "fuel_capacity": COUNT,  # litres
        "maximum_speed": COUNT,  # km/h
    },
}
VEHICLE_STATUS = {
    "type": "object",
    "required": ["device_id", "provider_id", "last_event", "last_telemetry"],
    "properties": {
        "device_id": UUID,
        "provider_id": UUID,
        "data_provider_id": UUID,
        "last_event": EVENT,
        "last_telemetry": TELEMETRY,
    },
}
COST = {"type": ["integer", "null"], "minimum": 0}
TRIP = {
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
        "provider_id": UUID,
        "data_provider_id": UUID,
        "device_id": UUID,
        "trip_id": UUID,
        "trip_type": {
            "type": "array",
            "maxItems": 1,
            "uniqueItems": True,
            "items": {"enum": ["rider", "rebalance", "maintenance"]},
        },
        "start_time": TIMESTAMP,
        "end_time": TIMESTAMP,
        "start_location": GPS,
        "end_location": GPS,
        "duration": COUNT,  # seconds
        "distance": COUNT,  # metres
        "publication_time": TIMESTAMP,
        "accessibility_attributes": ACCESSIBILITY,
        "parking_verification_url": {"type": ["string", "null"], "format": "uri"},
        "parking_category": {"enum": ["corral", "curb", "rack", "other_valid", "invalid"]},
        "standard_cost": COST,
        "actual_cost": COST,
        "currency": {"type": ["string", "null"], "pattern": "^[A-Z]{3}$"},
    },
}
LINKS = {
    "type": "object",
    "required": ["next"],  # null on the last page
    "additionalProperties": False,
    "properties": {
        name: {"type": ["string", "null"], "format": "uri"}
        for name in ("first", "last", "prev", "next")
    },
}
MDS_ERROR = {
    "type": "object",
    "required": ["error", "error_description", "error_details"],
    "properties": {
        "error": {"type": "string"},
        "error_description": {"type": "string"},
        "error_details": {"type": "array", "minItems": 1, "items": {"type": "string"}},
    },
}


def mds_payload(
    key: str,
    item: dict[str, Any],
    *,
    near_realtime: bool = False,
    may_page: bool = False,
    one: bool = False,
) -> dict[str, Any]:
    """The response body: the MDS version, the records, and what the endpoint adds to them."""
    records: dict[str, Any] = {"type": "array", "items": item}
    if one:
        records |= {"minItems": 1, "maxItems": 1}
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["version", key],
        "properties": {"version": {"type": "string", "pattern": r"^2\.0\.\d+$"}, key: records},
    }
    if near_realtime:  # at most 5 minutes old
        schema["required"] += ["last_updated", "ttl"]
        schema["properties"] |= {
            "last_updated": TIMESTAMP,
            "ttl": {"type": "integer", "minimum": 0, "maximum": 300_000},
        }
    if may_page:
        schema["properties"]["links"] = LINKS
    else:  # trips, historical events, telemetry and single records are never paged
        schema["not"] = {"required": ["links"]}
    return schema


MDS_SCHEMAS = {
    "vehicles": mds_payload("vehicles", VEHICLE, near_realtime=True, may_page=True),
    "vehicles/{device_id}": mds_payload("vehicles", VEHICLE, near_realtime=True, one=True),
    "vehicles/status": mds_payload(
        "vehicles_status", VEHICLE_STATUS, near_realtime=True, may_page=True
    ),
    "vehicles/status/{device_id}": mds_payload(
        "vehicles_status", VEHICLE_STATUS, near_realtime=True, one=True
    ),
    "trips": mds_payload("trips", TRIP),
    "events/historical": mds_payload("events", EVENT),
    "events/recent": mds_payload("events", EVENT, may_page=True),
    "telemetry": mds_payload("telemetry", TELEMETRY),
    "error": MDS_ERROR,
}


def gbfs_schema(name: str) -> dict[str, Any]:
    folder = resources.files("gbfs_validator").joinpath("data/schemas/v3.0")
    schema: dict[str, Any] = json.loads(folder.joinpath(f"{name}.json").read_text())
    return schema


def fetch(url: str, accept: str | None = None) -> tuple[int, str, Any]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers["Content-Type"], json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], json.load(error)


def mds(url: str, path: str, accept: str | None = MDS_TYPE) -> tuple[int, Any]:
    """GET an MDS endpoint as an MDS 2.0 client asks for it; every answer is MDS 2.0."""
    status, content_type, document = fetch(f"{url}/mds/{path}", accept)
    assert content_type == MDS_TYPE, (path, status, content_type)
    return status, document


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


RECENT = (
    f"events/recent?start_time={int((AT - timedelta(hours=3)).timestamp() * 1000)}"
    f"&end_time={int(AT.timestamp() * 1000)}"
)


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        ("vehicles", "vehicles"),
        ("vehicles/status", "vehicles/status"),
        ("trips?end_time=2026-11-23T23", "trips"),
        ("events/historical?event_time=2026-11-23T23", "events/historical"),
        ("telemetry?telemetry_time=2026-11-23T23", "telemetry"),
        (RECENT, "events/recent"),
    ],
)
def test_mds_endpoints_have_the_required_structure(feeds: Any, path: str, schema: str) -> None:
    url, _ = feeds
    status, document = mds(url, path)
    assert status == 200, document
    key = next(
        k for k in ("vehicles_status", "vehicles", "trips", "events", "telemetry") if k in document
    )
    assert document[key]  # a busy hour: the schema is checked against real records
    check(MDS_SCHEMAS[schema], document)


def test_mds_single_vehicle_endpoints(feeds: Any) -> None:
    url, fleet = feeds
    device = sorted(fleet.scooters)[0]
    _, vehicles = mds(url, f"vehicles/{device}")
    check(MDS_SCHEMAS["vehicles/{device_id}"], vehicles)
    assert [v["device_id"] for v in vehicles["vehicles"]] == [device]
    _, status = mds(url, f"vehicles/status/{device}")
    check(MDS_SCHEMAS["vehicles/status/{device_id}"], status)
    assert [v["device_id"] for v in status["vehicles_status"]] == [device]


def test_every_trip_has_its_events_and_its_start_and_end_telemetry(feeds: Any) -> None:
    url, _ = feeds
    # Monday 23 November 2026, 08:00 JST = 23:00 UTC the day before.
    _, trips = mds(url, "trips?end_time=2026-11-22T23")
    assert trips["trips"]
    points: dict[str, list[int]] = {}
    events: dict[str, list[str]] = {}
    for hour in ("2026-11-22T22", "2026-11-22T23"):  # a trip may start in the hour before
        for point in mds(url, f"telemetry?telemetry_time={hour}")[1]["telemetry"]:
            for trip_id in point["trip_ids"] or []:
                points.setdefault(trip_id, []).append(point["timestamp"])
        for event in mds(url, f"events/historical?event_time={hour}")[1]["events"]:
            for trip_id in event.get("trip_ids", []):
                events.setdefault(trip_id, []).extend(event["event_types"])
    for trip in trips["trips"]:
        assert trip["duration"] == round((trip["end_time"] - trip["start_time"]) / 1000)
        stamps = sorted(points[trip["trip_id"]])
        assert len(stamps) >= 2
        assert (stamps[0], stamps[-1]) == (trip["start_time"], trip["end_time"])
        assert {"trip_start", "trip_end"} <= set(events[trip["trip_id"]])


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("trips", 400),
        ("trips?end_time=yesterday", 400),
        ("trips?end_time=2026-11-23T7", 400),
        ("trips?end_time=2026-11-23T24", 400),
        ("trips?end_time=2026-11-23T22", 200),
        ("trips?end_time=2026-11-23T22&x=1", 200),
        ("trips?end_time=2026-11-24T07", 404),  # that hour has not ended
        ("trips?end_time=2026-10-01T07", 404),  # no operations then
        ("events/historical", 400),
        ("events/historical?event_time=2026-11-24T07", 404),
        ("events/historical?event_time=2026-10-01T07", 404),
        ("telemetry", 400),
        ("telemetry?telemetry_time=2026-11-24T07", 400),  # /telemetry has no 404
        ("events/recent", 400),
        ("events/recent?start_time=1795503600000", 400),
        ("events/recent?start_time=5&end_time=1", 400),
        ("events/recent?start_time=1794200000000&end_time=1795503600000", 400),  # > 2 weeks
        ("vehicles/HN-0001", 400),  # device_id is a UUID
        ("vehicles/status/HN-0001", 400),
        ("vehicles/0b6e1c52-0000-4000-8000-00000000dead", 404),
        ("vehicles/status/0b6e1c52-0000-4000-8000-00000000dead", 404),
        ("nothing", 404),
    ],
)
def test_mds_bad_queries_are_answered_not_crashed(feeds: Any, path: str, status: int) -> None:
    url, _ = feeds
    answered, document = mds(url, path)
    assert answered == status, document
    check(MDS_SCHEMAS["error"] if status != 200 else MDS_SCHEMAS["trips"], document)


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        (MDS_TYPE, 200),
        ("application/vnd.mds+json; version=2.0, application/json;q=0.5", 200),
        ("application/vnd.mds+json;version=1.2", 406),
        ("application/vnd.mds+json", 406),  # the version is required
        ("application/json", 200),  # no MDS version asked for: 2.0, the only one served
        (None, 200),
    ],
)
def test_mds_answers_the_version_the_accept_header_asks_for(
    feeds: Any, accept: str | None, status: int
) -> None:
    url, _ = feeds
    answered, document = mds(url, "vehicles", accept)
    assert answered == status
    check(MDS_SCHEMAS["vehicles" if status == 200 else "error"], document)


def test_rarer_states_validate_and_leave_the_status_list_after_90_minutes() -> None:
    hub = Hub("hub-station", "Station", (36.5871, 136.6296), capacity=10)
    fleet = ScooterFleet(
        "0b6e1c52-0000-4000-8000-000000000001", b"secret", (ScooterType("k1", "K"),), (hub,)
    )
    now = int(AT.timestamp() * 1000)
    start = now - 3 * 3_600_000
    rider, silent, collected, just_collected = (
        f"0b6e1c52-0000-4000-8000-0000000000{n:02x}" for n in range(0xA0, 0xA4)
    )
    for index, device in enumerate((rider, silent, collected, just_collected)):
        fleet.deploy(device, f"HN-{index:04d}", "k1", hub.position, 90, start)
    fleet.start_trip(rider, start + 60_000)
    fleet.end_trip(rider, start + 600_000, (36.5890, 136.6310), 9)  # then battery_low
    fleet.record(silent, ("comms_lost",), start + 700_000, hub.position)
    fleet.record(silent, ("not_located",), start + 800_000, hub.position)
    fleet.record(collected, ("rebalance_pick_up",), now - 91 * 60_000, hub.position)
    fleet.record(just_collected, ("rebalance_pick_up",), now - 89 * 60_000, hub.position)
    service = FeedService(fleet, SYSTEM, "", NO_RIDE_ZONES)

    def answer(path: str, **query: int) -> Any:
        response = service.respond(path, {k: str(v) for k, v in query.items()}, now, MDS_TYPE)
        assert response.status == 200, response.document
        return response.document

    events = answer("/mds/events/recent", start_time=start, end_time=now)
    check(MDS_SCHEMAS["events/recent"], events)
    states = {(e["device_id"], e["vehicle_state"]) for e in events["events"]}
    assert {(rider, "non_operational"), (silent, "missing"), (collected, "removed")} <= states
    statuses = answer("/mds/vehicles/status")
    check(MDS_SCHEMAS["vehicles/status"], statuses)
    # removed, elsewhere and missing vehicles stay listed for 90 minutes, then leave the list
    listed = {s["device_id"] for s in statuses["vehicles_status"]}
    assert listed == {rider, just_collected}
    check(MDS_SCHEMAS["vehicles/status/{device_id}"], answer(f"/mds/vehicles/status/{silent}"))


def valid_documents(url: str) -> dict[str, Any]:
    return {
        "trips": mds(url, "trips?end_time=2026-11-22T23")[1],
        "events/historical": mds(url, "events/historical?event_time=2026-11-22T23")[1],
        "telemetry": mds(url, "telemetry?telemetry_time=2026-11-22T23")[1],
        "vehicles": mds(url, "vehicles")[1],
        "vehicles/status": mds(url, "vehicles/status")[1],
    }


def _trip_end_and_battery_low_in_one(document: dict[str, Any]) -> None:
    event = next(e for e in document["events"] if e["event_types"] == ["trip_end"])
    event |= {"event_types": ["trip_end", "battery_low"], "vehicle_state": "non_operational"}


def _first(key: str, field: str, value: Any) -> Any:
    def mutate(document: dict[str, Any]) -> None:
        document[key][0][field] = value

    return mutate


def _without(key: str, field: str) -> Any:
    def mutate(document: dict[str, Any]) -> None:
        del document[key][0][field]

    return mutate


def _trip_event_without_trip(document: dict[str, Any]) -> None:
    event = next(e for e in document["events"] if "trip_start" in e["event_types"])
    del event["trip_ids"]


@pytest.mark.parametrize(
    ("schema", "mutate"),
    [
        ("trips", _first("trips", "trip_type", "community")),
        ("trips", _first("trips", "trip_type", ["rider", "rebalance"])),
        ("trips", _first("trips", "duration", 61.5)),
        ("trips", _without("trips", "end_location")),
        ("trips", lambda d: d.update(links={"next": None})),  # trips are never paged
        ("telemetry", _without("telemetry", "journey_id")),
        ("telemetry", _first("telemetry", "trip_ids", [])),
        ("telemetry", _first("telemetry", "battery_percent", 100.5)),
        ("events/historical", _trip_end_and_battery_low_in_one),
        ("events/historical", _trip_event_without_trip),
        ("events/historical", _first("events", "vehicle_state", "unknown")),
        ("events/historical", _first("events", "battery_percent", 101)),
        ("events/historical", _first("events", "timestamp", 1_700_000_000)),  # seconds
        ("vehicles", _first("vehicles", "vehicle_type", "scooter")),
        ("vehicles", _first("vehicles", "propulsion_types", [])),
        ("vehicles", lambda d: d.update(ttl=600_000)),
        ("vehicles/status", _without("vehicles_status", "last_telemetry")),
        ("vehicles/status", lambda d: d.pop("last_updated")),
    ],
)
def test_the_mds_schemas_refuse_what_the_definitions_forbid(
    feeds: Any, schema: str, mutate: Any
) -> None:
    url, _ = feeds
    document = valid_documents(url)[schema]
    check(MDS_SCHEMAS[schema], document)
    mutate(document)
    validator = jsonschema.Draft7Validator(MDS_SCHEMAS[schema])
    assert not validator.is_valid(document)


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
        def respond(
            self,
            path: str,
            query: dict[str, str],
            now_ms: int,
            accept: str | None = None,
            authorization: str | None = None,
        ) -> Any:
            if path == "/boom":
                raise RuntimeError("boom")
            return super().respond(path, query, now_ms, accept, authorization)

    fleet = scooter_city(AT, days=1)
    service = Broken(fleet, SYSTEM, "", NO_RIDE_ZONES)
    with FeedServer(service, lambda: int(AT.timestamp() * 1000)) as server:
        status, _, body = fetch(f"{server.url}/boom")
        assert status == 500
        check(MDS_SCHEMAS["error"], body)
        assert fetch(f"{server.url}/gbfs/gbfs.json")[0] == 200
    assert "feed /boom failed" in caplog.text
