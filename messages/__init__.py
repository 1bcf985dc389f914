"""The wire contract shared by edge and cloud: topics, envelope, payload models. No I/O."""

from messages.clock import Clock, ScaledClock, WallClock, now_ms
from messages.codec import MODEL_OF_KIND, Message, decode, encode
from messages.errors import ConfigError, ContractError, DeviceError, HinodeError, TransportError
from messages.ids import ID_PATTERN, is_valid_id
from messages.models import (
    CmdPayload,
    CmdResultPayload,
    DeviceInfo,
    Envelope,
    Event,
    EventsPayload,
    Fix,
    Observation,
    Payload,
    PositionPayload,
    Reading,
    Setpoint,
    StatePayload,
    TelemetryPayload,
    VehicleState,
    VitalsPayload,
)
from messages.quantities import QUANTITIES, Quantity, unit_of
from messages.topics import Topic, TopicKind, parse_topic

__all__ = [
    "ID_PATTERN",
    "MODEL_OF_KIND",
    "QUANTITIES",
    "Clock",
    "CmdPayload",
    "CmdResultPayload",
    "ConfigError",
    "ContractError",
    "DeviceError",
    "DeviceInfo",
    "Envelope",
    "Event",
    "EventsPayload",
    "Fix",
    "HinodeError",
    "Message",
    "Observation",
    "Payload",
    "PositionPayload",
    "Quantity",
    "Reading",
    "ScaledClock",
    "Setpoint",
    "StatePayload",
    "TelemetryPayload",
    "Topic",
    "TopicKind",
    "TransportError",
    "VehicleState",
    "VitalsPayload",
    "WallClock",
    "decode",
    "encode",
    "is_valid_id",
    "now_ms",
    "parse_topic",
    "unit_of",
]
