"""Encoding and decoding of payloads, with the topic checked against the payload."""

from dataclasses import dataclass

from pydantic import ValidationError

from messages.errors import ContractError
from messages.models import (
    CmdPayload,
    CmdResultPayload,
    EventsPayload,
    Payload,
    PositionPayload,
    StatePayload,
    TelemetryPayload,
    VitalsPayload,
)
from messages.topics import Topic, TopicKind, parse_topic

#: Upper bound of a payload we accept; the broker is configured with the same limit.
MAX_PAYLOAD_BYTES = 1_048_576

MODEL_OF_KIND: dict[TopicKind, type[Payload]] = {
    TopicKind.STATE: StatePayload,
    TopicKind.TELEMETRY: TelemetryPayload,
    TopicKind.VITALS: VitalsPayload,
    TopicKind.POSITION: PositionPayload,
    TopicKind.EVENTS: EventsPayload,
    TopicKind.CMD: CmdPayload,
    TopicKind.CMD_RESULT: CmdResultPayload,
}

SCHEMA_OF_KIND = {kind: f"hinode.{kind.value}/1" for kind in TopicKind}


@dataclass(frozen=True, slots=True)
class Message:
    """A validated message: where it came from and what it says."""

    topic: Topic
    payload: Payload


def encode(payload: Payload) -> bytes:
    """Serialise a payload to compact UTF-8 JSON."""
    return payload.model_dump_json(by_alias=True, exclude_none=False).encode()


def decode(topic: str, raw: bytes) -> Message:
    """Validate *raw* as the payload of *topic*; raise ContractError with a one-line reason."""
    parsed = parse_topic(topic)
    if len(raw) > MAX_PAYLOAD_BYTES:
        msg = f"payload of {len(raw)} bytes exceeds {MAX_PAYLOAD_BYTES}"
        raise ContractError(msg)
    model = MODEL_OF_KIND[parsed.kind]
    try:
        payload = model.model_validate_json(raw)
    except ValidationError as exc:
        raise ContractError(_reason(exc)) from None
    _check_consistent(parsed, payload)
    return Message(parsed, payload)


def _check_consistent(topic: Topic, payload: Payload) -> None:
    if payload.gateway != topic.gateway:
        msg = f"payload gateway {payload.gateway!r} differs from topic gateway {topic.gateway!r}"
        raise ContractError(msg)
    leaf = {
        TelemetryPayload: "device",
        VitalsPayload: "subject",
        PositionPayload: "vehicle",
        CmdResultPayload: "device",
    }.get(type(payload))
    if leaf is not None and getattr(payload, leaf) != topic.leaf:
        msg = f"payload {leaf} {getattr(payload, leaf)!r} differs from topic {leaf} {topic.leaf!r}"
        raise ContractError(msg)


def _reason(exc: ValidationError) -> str:
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "payload"
    more = exc.error_count() - 1
    suffix = f" (and {more} more)" if more else ""
    return f"{where}: {first['msg']}{suffix}"
