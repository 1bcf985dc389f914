"""Bearer tokens on the mobility APIs: MDS over real HTTP (GBFS stays public), the booking API.

MDS 2.0 answers a missing and an unknown token alike with 401 (its *Responses* section), in its
error message shape; the challenge tells the two apart as RFC 6750 does.
"""

import json
import logging
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cloud.mobility import (
    MDS_VERSION,
    FeedServer,
    FeedService,
    MobilityServiceConfig,
    ServiceShuttle,
    ShuttleServiceLoop,
    TokenStore,
    create_booking_app,
    new_bearer_token,
    token_file_line,
)
from hinode.commands.mobility_city import NO_RIDE_ZONES, SYSTEM, scooter_city
from tests.support.shuttle_service import (
    BUS_STOP,
    DEPOT,
    ESTATE,
    NOW,
    RecordedCommands,
    SteppedClock,
    iso,
)

AT = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
MDS_TYPE = "application/vnd.mds+json;version=2.0"
AGENCY = new_bearer_token()
CALL_CENTRE = new_bearer_token()
TOKENS = TokenStore.parse(
    f"{token_file_line('city-transport', AGENCY)}\n{token_file_line('call-centre', CALL_CENTRE)}\n",
    "tokens.txt",
)
MDS_PATHS = (
    "vehicles",
    "vehicles/status",
    "trips?end_time=2026-11-24T05",
    "telemetry?telemetry_time=2026-11-24T05",
)


def get(url: str, token: str | None = None, **headers: str) -> tuple[int, Any, Any]:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.load(error)


@pytest.fixture(scope="module")
def feeds() -> Iterator[str]:
    service = FeedService(scooter_city(AT, days=1), SYSTEM, "", NO_RIDE_ZONES, TOKENS)
    clock = int(AT.timestamp() * 1000)
    with FeedServer(service, lambda: clock) as server:
        service.base_url = server.url
        yield server.url


def assert_refused(status: int, headers: Any, body: Any, challenge: str) -> None:
    assert status == 401
    assert headers["WWW-Authenticate"] == challenge
    assert headers["Content-Type"] == MDS_TYPE
    assert body["error"] == "unauthorized"
    assert isinstance(body["error_description"], str)
    assert body["error_details"]


@pytest.mark.parametrize("path", MDS_PATHS)
def test_mds_without_a_token_is_401_with_a_bearer_challenge(feeds: str, path: str) -> None:
    assert_refused(*get(f"{feeds}/mds/{path}"), "Bearer")


@pytest.mark.parametrize("path", MDS_PATHS)
def test_mds_with_an_unknown_token_is_401_invalid_token(feeds: str, path: str) -> None:
    status, headers, body = get(f"{feeds}/mds/{path}", new_bearer_token())
    assert_refused(status, headers, body, 'Bearer error="invalid_token"')
    assert body["error_description"] == "unknown bearer token"


@pytest.mark.parametrize("path", MDS_PATHS)
def test_mds_with_an_agency_token_is_served(feeds: str, path: str) -> None:
    status, headers, body = get(f"{feeds}/mds/{path}", AGENCY, Accept=MDS_TYPE)
    assert status == 200, body
    assert headers["Content-Type"] == MDS_TYPE
    assert body["version"] == MDS_VERSION


def test_mds_takes_no_other_scheme_and_hides_what_exists(feeds: str) -> None:
    assert_refused(*get(f"{feeds}/mds/vehicles", Authorization=f"Basic {AGENCY}"), "Bearer")
    # Who is not let in cannot tell an endpoint that exists from one that does not.
    assert_refused(*get(f"{feeds}/mds/no-such-endpoint"), "Bearer")
    assert get(f"{feeds}/mds/no-such-endpoint", AGENCY)[0] == 404


def test_gbfs_stays_public(feeds: str) -> None:
    status, _, discovery = get(f"{feeds}/gbfs/gbfs.json")
    assert status == 200
    for feed in discovery["data"]["feeds"]:
        assert get(feed["url"])[0] == 200, feed["name"]


def test_refusals_are_warned_of_once_and_never_with_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = FeedService(scooter_city(AT, days=1), SYSTEM, "", NO_RIDE_ZONES, TOKENS)
    guessed = new_bearer_token()
    with (
        caplog.at_level(logging.WARNING, logger="cloud.mobility._feed_server"),
        FeedServer(service, lambda: int(AT.timestamp() * 1000)) as server,
    ):
        for _ in range(3):
            assert get(f"{server.url}/mds/vehicles", guessed)[0] == 401
        assert get(f"{server.url}/mds/vehicles", AGENCY)[0] == 200
    assert [record.getMessage() for record in caplog.records] == [
        "MDS: refused a request from 127.0.0.1: unknown bearer token"
    ]
    assert guessed not in caplog.text


def test_mds_without_a_token_file_is_open_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = FeedService(scooter_city(AT, days=1), SYSTEM, "", NO_RIDE_ZONES)
    with (
        caplog.at_level(logging.WARNING, logger="cloud.mobility._feed_server"),
        FeedServer(service, lambda: int(AT.timestamp() * 1000)) as server,
    ):
        assert get(f"{server.url}/mds/vehicles")[0] == 200
        assert get(f"{server.url}/mds/vehicles/status")[0] == 200
    assert [record.getMessage() for record in caplog.records] == [
        f"MDS endpoints at {server.url}/mds/ are open to anyone: no token file"
    ]


# --- the booking API ------------------------------------------------------------------------


def booking_client(tokens: TokenStore | None) -> TestClient:
    config = MobilityServiceConfig(
        site="midorigaoka",
        dwell_s=20,
        shuttles=[ServiceShuttle(id="shuttle-1", gateway="gw-depot", position=DEPOT, capacity=2)],
    )
    loop = ShuttleServiceLoop(config, RecordedCommands(), now=NOW)
    return TestClient(create_booking_app(loop, SteppedClock(NOW), tokens))


RIDE = {
    "id": "ride-1",
    "pickup": list(ESTATE),
    "dropoff": list(BUS_STOP),
    "earliest_pickup": iso(NOW + 120),
    "latest_dropoff": iso(NOW + 3600),
}
BOOKING_CALLS = (
    ("POST", "/rides"),
    ("GET", "/rides/ride-1"),
    ("DELETE", "/rides/ride-1"),
    ("GET", "/shuttles"),
)


def call(client: TestClient, method: str, path: str, token: str | None = None) -> Any:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    body = RIDE if method == "POST" else None
    return client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path"), BOOKING_CALLS)
def test_booking_without_a_token_is_401(method: str, path: str) -> None:
    response = call(booking_client(TOKENS), method, path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"error": "no bearer token"}


@pytest.mark.parametrize(("method", "path"), BOOKING_CALLS)
def test_booking_with_an_unknown_token_is_401_invalid_token(method: str, path: str) -> None:
    response = call(booking_client(TOKENS), method, path, new_bearer_token())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert response.json() == {"error": "unknown bearer token"}


def test_booking_with_a_token_books_follows_and_cancels() -> None:
    client = booking_client(TOKENS)
    booked = call(client, "POST", "/rides", CALL_CENTRE)
    assert booked.status_code == 201, booked.text
    assert booked.json()["shuttle"] == "shuttle-1"
    assert call(client, "GET", "/rides/ride-1", CALL_CENTRE).json()["state"] == "scheduled"
    assert call(client, "GET", "/shuttles", AGENCY).status_code == 200
    assert call(client, "DELETE", "/rides/ride-1", CALL_CENTRE).status_code == 204


def test_a_refused_booking_changes_nothing() -> None:
    client = booking_client(TOKENS)
    assert call(client, "POST", "/rides", new_bearer_token()).status_code == 401
    assert call(client, "GET", "/rides/ride-1", CALL_CENTRE).status_code == 404


def test_health_stays_open_to_monitoring() -> None:
    response = booking_client(TOKENS).get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_booking_without_a_token_store_is_open() -> None:
    assert call(booking_client(None), "POST", "/rides").status_code == 201


def test_the_openapi_document_declares_bearer_auth() -> None:
    document = booking_client(TOKENS).get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert document["paths"]["/shuttles"]["get"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in document["paths"]["/health"]["get"]
