"""Payload validation: what the contract refuses, and that the reason says why."""

import json
from typing import Any

import pytest

from messages import ContractError, TelemetryPayload, decode, encode
from messages.clock import ScaledClock, now_ms

TOPIC = "hinode/v1/site-a/gw-1/telemetry/meter-1"


def telemetry(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "schema": "hinode.telemetry/1",
        "gateway": "gw-1",
        "boot_id": "0123456789abcdef",
        "seq": 1,
        "sent_at": 1_795_000_000_000,
        "device": "meter-1",
        "readings": [
            {"quantity": "active_power_w", "phase": None, "value": 1.5, "ts": 1_795_000_000_000}
        ],
    }
    payload.update(overrides)
    return payload


def raw(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def test_a_valid_telemetry_payload_decodes() -> None:
    message = decode(TOPIC, raw(telemetry()))
    assert isinstance(message.payload, TelemetryPayload)
    assert message.payload.readings[0].value == 1.5
    assert message.topic.leaf == "meter-1"


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"seq": -1}, "seq"),
        ({"seq": "7"}, "seq"),
        ({"gateway": "gw-2"}, "differs from topic gateway"),
        ({"device": "meter-2"}, "differs from topic device"),
        ({"readings": []}, "readings"),
        ({"schema": "hinode.telemetry/2"}, "schema"),
        ({"sent_at": 1_795_000_000}, "sent_at"),  # seconds instead of milliseconds
        ({"boot_id": "not hex"}, "boot_id"),
        ({"extra": 1}, "extra"),
        (
            {"readings": [{"quantity": "power", "value": 1.0, "ts": 1_795_000_000_000}]},
            "unknown quantity 'power'",
        ),
        (
            {"readings": [{"quantity": "voltage_v", "phase": "l4", "value": 1, "ts": 1}]},
            "readings.0",
        ),
    ],
)
def test_invalid_payloads_are_refused_with_a_reason(
    overrides: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ContractError, match=complaint):
        decode(TOPIC, raw(telemetry(**overrides)))


def test_nan_and_infinity_are_refused() -> None:
    text = raw(telemetry()).replace(b"1.5", b"NaN")
    with pytest.raises(ContractError, match="value"):
        decode(TOPIC, text)


@pytest.mark.parametrize("blob", [b"", b"{", b"\xff\xfe", b"[]", b"null"])
def test_garbage_is_refused(blob: bytes) -> None:
    with pytest.raises(ContractError):
        decode(TOPIC, blob)


def test_oversized_payload_is_refused_before_parsing() -> None:
    with pytest.raises(ContractError, match="exceeds"):
        decode(TOPIC, b" " * 2_000_000)


def test_encoding_uses_the_wire_names() -> None:
    payload = TelemetryPayload.model_validate(telemetry())
    assert json.loads(encode(payload))["schema"] == "hinode.telemetry/1"


def test_heartbeat_and_setpoint_shapes() -> None:
    base = {
        "schema": "hinode.cmd/1",
        "gateway": "gw-1",
        "boot_id": "0123456789abcdef",
        "seq": 1,
        "sent_at": 1_795_000_000_000,
        "id": "c-1",
        "expires_at": 1_795_000_030_000,
    }
    topic = "hinode/v1/site-a/gw-1/cmd/charger-1"
    with pytest.raises(ContractError, match="needs a target"):
        decode(topic, raw(base))
    assert decode(topic, raw({**base, "kind": "heartbeat"})).payload.schema_ == "hinode.cmd/1"


def test_scaled_clock_runs_faster_than_real_time() -> None:
    clock = ScaledClock(speed=3600.0, start=1_795_000_000.0)
    assert now_ms(clock) >= 1_795_000_000_000
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(speed=0)
