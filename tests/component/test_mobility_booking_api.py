"""The booking API over HTTP against the real service loop: book, follow, cancel, see shuttles.

The command port is a fake that records the route commands: this test is about HTTP (the MQTT
path has its own integration tests), and the route each booking sends is what a rider changes.
"""

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cloud.mobility import (
    MobilityServiceConfig,
    ServiceShuttle,
    ShuttleServiceLoop,
    create_booking_app,
)
from tests.support.shuttle_service import (
    BUS_STOP,
    DEPOT,
    ESTATE,
    NOW,
    RecordedCommands,
    SteppedClock,
    iso,
    position,
)


class World:
    def __init__(self) -> None:
        config = MobilityServiceConfig(
            site="midorigaoka",
            dwell_s=20,
            shuttles=[
                ServiceShuttle(id="shuttle-1", gateway="gw-depot", position=DEPOT, capacity=2)
            ],
        )
        self.commands = RecordedCommands()
        self.clock = SteppedClock(NOW)
        self.loop = ShuttleServiceLoop(config, self.commands, now=NOW)
        self.client = TestClient(create_booking_app(self.loop, self.clock))

    def book(self, **fields: Any) -> Any:
        body = {
            "pickup": list(ESTATE),
            "dropoff": list(BUS_STOP),
            "passengers": 1,
            "earliest_pickup": iso(NOW + 120),
            "latest_dropoff": iso(NOW + 3600),
            **fields,
        }
        return self.client.post("/rides", json=body)

    def arrive(self, at: float, where: tuple[float, float]) -> None:
        self.clock.at = at
        self.loop.receive(*position(at, where))


def epoch(text: str) -> float:
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() is not None
    return moment.timestamp()


@pytest.fixture
def world() -> World:
    return World()


def test_a_booked_ride_is_answered_with_its_shuttle_and_etas(world: World) -> None:
    answer = world.book(id="mrs-sato")
    assert answer.status_code == 201
    body = answer.json()
    assert (body["request"], body["shuttle"]) == ("mrs-sato", "shuttle-1")
    assert NOW + 120 <= epoch(body["pickup_eta"]) < epoch(body["dropoff_eta"]) <= NOW + 3600
    assert body["pickup_eta"].endswith("+09:00")
    assert world.commands.stops() == [("mrs-sato", "pickup"), ("mrs-sato", "dropoff")]


def test_a_ride_without_an_id_gets_one(world: World) -> None:
    answer = world.book()
    assert answer.status_code == 201
    request = answer.json()["request"]
    assert request.startswith("ride-")
    assert world.client.get(f"/rides/{request}").json()["state"] == "scheduled"


def test_the_same_id_twice_is_a_conflict(world: World) -> None:
    assert world.book(id="mrs-sato").status_code == 201
    again = world.book(id="mrs-sato")
    assert again.status_code == 409
    assert "booked already" in again.json()["reason"]
    assert len(world.commands.sent) == 1


def test_a_refused_ride_gets_the_reason_and_the_earliest_alternative(world: World) -> None:
    # Both fill the shuttle, and there is no time to serve one after the other.
    assert world.book(id="a", passengers=2, latest_dropoff=iso(NOW + 700)).status_code == 201
    refused = world.book(id="b", passengers=2, latest_dropoff=iso(NOW + 700))
    assert refused.status_code == 409
    body = refused.json()
    assert body["request"] == "b"
    assert "busy" in body["reason"]
    alternative = body["alternative"]
    assert set(alternative) == {
        "earliest_pickup",
        "latest_dropoff",
        "shuttle",
        "pickup_eta",
        "dropoff_eta",
    }
    assert epoch(alternative["earliest_pickup"]) > NOW + 120
    assert world.loop.report().refused == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pickup": [95, 136.65]}, "pickup.0"),
        ({"passengers": 0}, "passengers"),
        ({"earliest_pickup": "2026-11-23T15:02:00"}, "earliest_pickup"),  # no offset
        ({"latest_dropoff": iso(NOW)}, "latest_dropoff must be after"),
        ({"seats": 2}, "seats"),
        ({"id": "two words"}, "id"),
    ],
)
def test_an_invalid_booking_is_422_naming_the_field(
    world: World, change: dict[str, Any], field: str
) -> None:
    answer = world.book(**change)
    assert answer.status_code == 422
    assert field in answer.json()["error"]
    assert world.commands.sent == []


def test_a_ride_is_followed_from_scheduled_to_completed(world: World) -> None:
    booked = world.book(id="mrs-sato").json()
    status = world.client.get("/rides/mrs-sato").json()
    assert status["state"] == "scheduled"
    assert status["shuttle"] == "shuttle-1"
    assert status["promised_pickup"] == booked["pickup_eta"]
    assert status["pickup_eta"] == booked["pickup_eta"]
    world.arrive(NOW + 200, ESTATE)
    aboard = world.client.get("/rides/mrs-sato").json()
    assert aboard["state"] == "aboard"
    assert epoch(aboard["picked_up_at"]) == NOW + 200
    assert aboard["pickup_eta"] is None
    assert epoch(aboard["dropoff_eta"]) > NOW + 200
    world.arrive(NOW + 500, BUS_STOP)
    done = world.client.get("/rides/mrs-sato").json()
    assert (done["state"], done["shuttle"]) == ("completed", "shuttle-1")
    assert epoch(done["dropped_off_at"]) == NOW + 500
    assert world.client.get("/rides/nobody").status_code == 404


def test_cancelling_before_pickup_frees_the_route_but_not_once_aboard(world: World) -> None:
    world.book(id="mrs-sato")
    world.book(id="mr-ito", earliest_pickup=iso(NOW + 400))
    assert world.client.delete("/rides/mr-ito").status_code == 204
    assert world.commands.stops() == [("mrs-sato", "pickup"), ("mrs-sato", "dropoff")]
    assert world.client.get("/rides/mr-ito").json()["state"] == "cancelled"
    assert world.client.delete("/rides/mr-ito").status_code == 409
    assert world.client.delete("/rides/nobody").status_code == 404
    world.arrive(NOW + 200, ESTATE)
    aboard = world.client.delete("/rides/mrs-sato")
    assert aboard.status_code == 409
    assert aboard.json()["state"] == "aboard"
    assert world.loop.report().cancelled == 1


def test_shuttles_show_position_load_and_the_stops_ahead(world: World) -> None:
    world.book(id="mrs-sato")
    world.arrive(NOW + 200, ESTATE)
    world.clock.at = NOW + 230
    (shuttle,) = world.client.get("/shuttles").json()["shuttles"]
    assert shuttle["id"] == "shuttle-1"
    assert shuttle["position"] == list(ESTATE)
    assert (shuttle["load"], shuttle["capacity"]) == (1, 2)
    (stop,) = shuttle["stops"]
    assert (stop["request"], stop["action"]) == ("mrs-sato", "dropoff")
    # Timed from the request's now: the shuttle has not moved since its last fix.
    assert epoch(stop["eta"]) > NOW + 230


def test_health_answers_with_the_counters(world: World) -> None:
    world.book(id="mrs-sato")
    body = world.client.get("/health").json()
    assert body == {
        "status": "ok",
        "site": "midorigaoka",
        "shuttles": 1,
        "positions_received": 0,
        "commands_sent": 1,
        "commands_resent": 0,
    }
