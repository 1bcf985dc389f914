"""Route commands on the wire: a route and no target; setpoints and heartbeats carry none."""

import json
from typing import Any

import pytest
from pydantic import ValidationError

from messages import CmdPayload, decode, encode
from messages.models import MAX_ROUTE_STOPS, Route, RouteStop

TOPIC = "hinode/v1/midorigaoka/gw-depot/cmd/shuttle-1"
SENT_AT = 1_795_420_800_000


def command(**fields: Any) -> dict[str, Any]:
    return {
        "schema": "hinode.cmd/1",
        "gateway": "gw-depot",
        "boot_id": "c0ffee00c0ffee00",
        "seq": 3,
        "sent_at": SENT_AT,
        "id": "route-1",
        "expires_at": SENT_AT + 60_000,
        **fields,
    }


def stop(request: str = "mr-ito", action: str = "pickup", eta: int = SENT_AT) -> dict[str, Any]:
    return {"request": request, "action": action, "position": [36.56, 136.65], "eta": eta}


def test_a_route_command_round_trips() -> None:
    document = command(kind="route", route={"stops": [stop(), stop(action="dropoff")]})
    payload = decode(TOPIC, json.dumps(document).encode()).payload
    assert isinstance(payload, CmdPayload)
    assert payload.route == Route(
        stops=[
            RouteStop(request="mr-ito", action="pickup", position=(36.56, 136.65), eta=SENT_AT),
            RouteStop(request="mr-ito", action="dropoff", position=(36.56, 136.65), eta=SENT_AT),
        ]
    )
    assert decode(TOPIC, encode(payload)).payload == payload


def test_an_empty_route_tells_the_shuttle_to_stand_by() -> None:
    payload = CmdPayload.model_validate(command(kind="route", route={"stops": []}))
    assert payload.route == Route(stops=[])


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"kind": "route"}, "a route command needs a route"),
        (
            {
                "kind": "route",
                "route": {"stops": []},
                "target": {"point": "charge_current_limit_a", "value": 6},
            },
            "a route command takes no target",
        ),
        (
            {
                "kind": "setpoint",
                "target": {"point": "charge_current_limit_a", "value": 6},
                "route": {"stops": []},
            },
            "a setpoint command takes no route",
        ),
        ({"kind": "heartbeat", "route": {"stops": []}}, "a heartbeat command takes no route"),
    ],
)
def test_the_body_must_match_the_kind(fields: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        CmdPayload.model_validate(command(**fields))


@pytest.mark.parametrize(
    "bad_stop",
    [
        {**stop(), "action": "wait"},
        {**stop(), "position": [91.0, 136.65]},
        {**stop(), "position": [36.56]},
        {**stop(), "eta": 1_795_420_800},  # seconds, not milliseconds
        {**stop(), "request": "mr ito"},
        {**stop(), "note": "ring twice"},
    ],
)
def test_a_malformed_stop_is_refused(bad_stop: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CmdPayload.model_validate(command(kind="route", route={"stops": [bad_stop]}))


def test_a_route_is_bounded() -> None:
    stops = [stop(request=f"r{i}") for i in range(MAX_ROUTE_STOPS + 1)]
    with pytest.raises(ValidationError):
        CmdPayload.model_validate(command(kind="route", route={"stops": stops}))


def test_setpoints_and_heartbeats_are_encoded_without_a_route_key() -> None:
    """Gateways that predate route commands forbid unknown keys: none may appear."""
    heartbeat = CmdPayload.model_validate(command(kind="heartbeat"))
    setpoint = CmdPayload.model_validate(
        command(target={"point": "charge_current_limit_a", "value": 16})
    )
    for payload in (heartbeat, setpoint):
        assert "route" not in json.loads(encode(payload))
