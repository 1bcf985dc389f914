"""Payload models of the wire contract, validated by pydantic on both sides.

Every payload is an envelope (schema, gateway, boot_id, seq, sent_at) plus its body. Timestamps
are epoch milliseconds UTC. ``seq`` is per gateway and strictly increasing across restarts on the
data kinds (telemetry, vitals, position, events, cmd-result); a state message carries the last
``seq`` used when it was sent and consumes none, so a lost last will does not look like a gap.
"""

from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from messages.ids import Identifier
from messages.quantities import QUANTITIES, VITAL_QUANTITIES

#: 2000-01-01 .. 2100-01-01 in epoch milliseconds: anything outside is a unit mistake.
MIN_TS_MS = 946_684_800_000
MAX_TS_MS = 4_102_444_800_000

EpochMs = Annotated[int, Field(ge=MIN_TS_MS, lt=MAX_TS_MS, strict=True)]
Phase = Literal["l1", "l2", "l3"]
ShortText = Annotated[str, StringConstraints(max_length=1000)]
BootId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8,64}$")]
Detail = str | int | float | bool | None
FlagName = Annotated[str, StringConstraints(max_length=64)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def _check_quantity(name: str) -> str:
    if name not in QUANTITIES:
        msg = f"unknown quantity {name!r}: not a canonical quantity name"
        raise ValueError(msg)
    return name


class Reading(_Model):
    """One measured value of one quantity (and phase) at one instant."""

    quantity: str
    phase: Phase | None = None
    value: float
    ts: EpochMs

    _quantity = field_validator("quantity")(_check_quantity)


class Envelope(_Model):
    """Fields every payload carries."""

    schema_: str = Field(alias="schema")
    gateway: Identifier
    boot_id: BootId
    seq: int = Field(ge=0, strict=True)
    sent_at: EpochMs

    model_config = ConfigDict(populate_by_name=True)


class DeviceInfo(_Model):
    """A device as announced in a gateway's birth message."""

    id: Identifier
    kind: Literal["modbus_tcp", "modbus_rtu", "ble", "gnss"]
    model: Annotated[str, StringConstraints(max_length=100)]


class StatePayload(Envelope):
    """Birth (online, retained) or last will (offline) of a gateway."""

    schema_: Literal["hinode.state/1"] = Field(default="hinode.state/1", alias="schema")
    online: bool
    version: Annotated[str, StringConstraints(max_length=50)] | None = None
    devices: Annotated[list[DeviceInfo], Field(max_length=1000)] = []


class TelemetryPayload(Envelope):
    """A batch of readings of one device."""

    schema_: Literal["hinode.telemetry/1"] = Field(default="hinode.telemetry/1", alias="schema")
    device: Identifier
    readings: Annotated[list[Reading], Field(min_length=1, max_length=10_000)]


class Observation(_Model):
    """One vital-sign value; ``status`` holds the device's named flags (e.g. irregular pulse)."""

    quantity: str
    value: float
    ts: EpochMs
    device: Identifier
    status: Annotated[
        list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=32)
    ] = []

    @field_validator("quantity")
    @classmethod
    def _vital(cls, name: str) -> str:
        if name not in VITAL_QUANTITIES:
            msg = f"{name!r} is not a vital-sign quantity"
            raise ValueError(msg)
        return name


class VitalsPayload(Envelope):
    """Observations of one pseudonymous care recipient."""

    schema_: Literal["hinode.vitals/1"] = Field(default="hinode.vitals/1", alias="schema")
    subject: Identifier
    observations: Annotated[list[Observation], Field(min_length=1, max_length=1000)]


FixQuality = Literal["none", "gps", "dgps", "rtk_fixed", "rtk_float", "estimated"]


class Fix(_Model):
    """A GNSS position fix."""

    ts: EpochMs
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    speed_mps: float = Field(ge=0, le=100)
    heading_deg: float | None = Field(default=None, ge=0, lt=360)
    fix_quality: FixQuality
    hdop: float | None = Field(default=None, ge=0)
    satellites: int | None = Field(default=None, ge=0, le=128)


class VehicleState(_Model):
    """State reported by a vehicle's own interface."""

    kind: Literal["shuttle", "scooter", "bike"]
    battery_pct: float = Field(ge=0, le=100)
    door_open: bool | None = None
    occupancy: int | None = Field(default=None, ge=0)
    locked: bool | None = None


class PositionPayload(Envelope):
    """Fixes and state of one vehicle."""

    schema_: Literal["hinode.position/1"] = Field(default="hinode.position/1", alias="schema")
    vehicle: Identifier
    fixes: Annotated[list[Fix], Field(min_length=1, max_length=1000)]
    state: VehicleState | None = None


EventKind = Literal[
    "device_online",
    "device_offline",
    "fault",
    "alarm",
    "outbox_dropped",
    "failsafe",
    "failsafe_cleared",
    "gap",
    "info",
]


class Event(_Model):
    """Something that happened on the gateway or one of its devices."""

    ts: EpochMs
    kind: EventKind
    device: Identifier | None = None
    reason: ShortText = ""
    details: Annotated[
        dict[Annotated[str, StringConstraints(max_length=64)], Detail], Field(max_length=64)
    ] = {}


class EventsPayload(Envelope):
    schema_: Literal["hinode.events/1"] = Field(default="hinode.events/1", alias="schema")
    events: Annotated[list[Event], Field(min_length=1, max_length=1000)]


class Setpoint(_Model):
    """Write *value* (in the point's canonical unit) to the writable point *point*."""

    point: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")]
    value: float


CommandId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]

Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
#: Stops one route command may carry: a shuttle's plan for the next hour or two, not a timetable.
MAX_ROUTE_STOPS = 200


class RouteStop(_Model):
    """One stop of a shuttle's route: pick up or drop off the rider of *request* at *position*."""

    request: CommandId
    action: Literal["pickup", "dropoff"]
    position: tuple[
        Annotated[float, Field(ge=-90, le=90)], Annotated[float, Field(ge=-180, le=180)]
    ]
    eta: EpochMs


class Route(_Model):
    """The stops still ahead of a shuttle, in the order to serve them (empty: stand by)."""

    stops: Annotated[list[RouteStop], Field(max_length=MAX_ROUTE_STOPS)]


class CmdPayload(Envelope):
    """A command from the cloud.

    ``gateway`` names the target gateway; ``boot_id`` and ``seq`` belong to the sender.

    A heartbeat carries no target: it only proves that the cloud is alive. A route command
    hands a shuttle the stops ahead of it (it replaces the route the shuttle had).
    """

    schema_: Literal["hinode.cmd/1"] = Field(default="hinode.cmd/1", alias="schema")
    id: CommandId
    kind: Literal["setpoint", "heartbeat", "route"] = "setpoint"
    expires_at: EpochMs
    target: Setpoint | None = None
    #: Left out of the JSON when absent: gateways that predate route commands forbid the key.
    route: Route | None = Field(default=None, exclude_if=lambda route: route is None)

    @model_validator(mode="after")
    def _body_matches_kind(self) -> Self:
        if self.kind == "setpoint" and self.target is None:
            msg = "a setpoint command needs a target"
            raise ValueError(msg)
        if self.kind != "setpoint" and self.target is not None:
            msg = f"a {self.kind} command takes no target"
            raise ValueError(msg)
        if self.kind == "route" and self.route is None:
            msg = "a route command needs a route"
            raise ValueError(msg)
        if self.kind != "route" and self.route is not None:
            msg = f"a {self.kind} command takes no route"
            raise ValueError(msg)
        return self


class CmdResultPayload(Envelope):
    """What the gateway did with a command."""

    schema_: Literal["hinode.cmd-result/1"] = Field(default="hinode.cmd-result/1", alias="schema")
    command_id: CommandId
    device: Identifier
    status: Literal["accepted", "rejected", "applied", "failed"]
    reason: ShortText | None = None
    value: float | None = None
    ts: EpochMs


Payload = (
    StatePayload
    | TelemetryPayload
    | VitalsPayload
    | PositionPayload
    | EventsPayload
    | CmdPayload
    | CmdResultPayload
)
