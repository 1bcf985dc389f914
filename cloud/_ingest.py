"""The ingest pipeline, pure: validate a message, drop duplicates, turn it into rows and updates.

No I/O and no clock: the caller passes the receive time and later writes the batch.
"""

import json
from dataclasses import dataclass, field
from enum import Enum

from cloud._model import (
    DeadLetter,
    DeviceActivity,
    EventRecord,
    GatewayState,
    StateUpdate,
    StoredReading,
)
from cloud._sequence import RecentKeys
from messages import (
    CmdResultPayload,
    ContractError,
    EventsPayload,
    PositionPayload,
    StatePayload,
    TelemetryPayload,
    TopicKind,
    VitalsPayload,
    decode,
)
from messages.topics import Topic

#: Kinds whose messages consume a sequence number and carry data. Command results are kept as
#: events (kind ``cmd_<status>``): they number in the gateway's sequence like the rest, so a
#: collector that left them out would see gaps that are not there.
DATA_KINDS = frozenset(
    {
        TopicKind.TELEMETRY,
        TopicKind.VITALS,
        TopicKind.POSITION,
        TopicKind.EVENTS,
        TopicKind.CMD_RESULT,
    }
)
#: Everything the collector subscribes to.
COLLECTED_KINDS = DATA_KINDS | {TopicKind.STATE}

#: Bytes of a refused payload kept in the dead-letter table (its full size is kept too).
DEAD_LETTER_PAYLOAD_LIMIT = 64 * 1024
#: The largest sequence number the stores hold (signed 64-bit integers).
MAX_SEQ = 2**63 - 1
#: Characters of a refused topic or reason kept.
DEAD_LETTER_TEXT_LIMIT = 1000


class Outcome(Enum):
    """What became of one message."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    INVALID = "invalid"


@dataclass(slots=True)
class Batch:
    """Rows and state updates of the messages received since the last write."""

    readings: list[StoredReading] = field(default_factory=list)
    state: StateUpdate = field(default_factory=StateUpdate)
    messages: int = 0
    duplicates: int = 0
    invalid: int = 0

    def __len__(self) -> int:
        return self.messages


def clean_text(text: str, limit: int = DEAD_LETTER_TEXT_LIMIT) -> str:
    """*text* made storable in any SQL database and shown on one line.

    Valid UTF-8, no NUL and no line breaks, at most *limit* characters.
    """
    cleaned = text.encode("utf-8", "replace").decode("utf-8").translate(_UNPRINTABLE)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


_UNPRINTABLE = {0: "\N{REPLACEMENT CHARACTER}", 10: " ", 13: " "}


class Ingest:
    """Turns raw messages into a :class:`Batch`; remembers recent (gateway, boot_id, seq) keys."""

    def __init__(self, *, recent_capacity: int = 100_000) -> None:
        self._recent = RecentKeys(recent_capacity)

    def accept(self, topic: str, payload: bytes, received_at: int, batch: Batch) -> Outcome:
        """Validate one message and add what it says to *batch*; never raises for bad input."""
        batch.messages += 1
        try:
            message = decode(topic, payload)
            if message.topic.kind not in COLLECTED_KINDS:
                msg = f"the collector does not take {message.topic.kind} messages"
                raise ContractError(msg)  # noqa: TRY301 - one refusal path for every reason
        except ContractError as exc:
            return self._refuse(topic, payload, received_at, str(exc), batch)
        except Exception as exc:  # noqa: BLE001 - a message must never stop the loop
            reason = f"internal error while validating: {type(exc).__name__}: {exc}"
            return self._refuse(topic, payload, received_at, reason, batch)

        where = message.topic
        body = message.payload
        if body.seq > MAX_SEQ:
            # Valid JSON and contract, but no store holds it (64-bit integers): refusing it
            # here keeps it from failing every write of its batch for ever.
            reason = f"seq: {body.seq} is beyond the largest storable sequence number {MAX_SEQ}"
            return self._refuse(topic, payload, received_at, reason, batch)
        batch.state.gateways_seen[(where.site, where.gateway)] = received_at
        if isinstance(body, StatePayload):
            batch.state.gateway_states.append(_gateway_state(where, body, received_at))
            return Outcome.STORED
        if self._recent.seen((body.gateway, body.boot_id, body.seq)):
            batch.duplicates += 1
            return Outcome.DUPLICATE
        try:
            # Each _add_* computes everything before it changes the batch, so a failure
            # leaves the batch as it was.
            if isinstance(body, TelemetryPayload):
                _add_telemetry(where, body, received_at, batch)
            elif isinstance(body, VitalsPayload):
                _add_vitals(where, body, received_at, batch)
            elif isinstance(body, PositionPayload):
                _add_position(where, body, received_at, batch)
            elif isinstance(body, EventsPayload):
                _add_events(where, body, received_at, batch)
            elif isinstance(body, CmdResultPayload):
                _add_cmd_result(where, body, batch)
        except Exception as exc:  # noqa: BLE001 - a message must never stop the loop
            reason = f"cannot store: {type(exc).__name__}: {exc}"
            return self._refuse(topic, payload, received_at, reason, batch)
        batch.state.sequences.setdefault((where.site, body.gateway, body.boot_id), []).append(
            body.seq
        )
        return Outcome.STORED

    @staticmethod
    def _refuse(topic: str, payload: bytes, received_at: int, reason: str, batch: Batch) -> Outcome:
        batch.invalid += 1
        batch.state.dead_letters.append(
            DeadLetter(
                received_at=received_at,
                topic=clean_text(topic),
                payload=bytes(payload[:DEAD_LETTER_PAYLOAD_LIMIT]),
                payload_size=len(payload),
                reason=clean_text(reason),
            )
        )
        return Outcome.INVALID


def _gateway_state(where: Topic, body: StatePayload, received_at: int) -> GatewayState:
    return GatewayState(
        site=where.site,
        gateway=body.gateway,
        online=body.online,
        boot_id=body.boot_id,
        seq=body.seq,
        sent_at=body.sent_at,
        version=None if body.version is None else clean_text(body.version, 50),
        devices=tuple(device.id for device in body.devices),
        received_at=received_at,
    )


def _activity(
    batch: Batch,
    where: Topic,
    device: str,
    *,
    kind: str | None,
    last_ts: int | None,
    received_at: int,
) -> DeviceActivity:
    key = (where.site, where.gateway, device)
    activity = batch.state.devices.get(key)
    if activity is None:
        activity = DeviceActivity(kind=kind, last_ts=last_ts, last_seen=received_at)
        batch.state.devices[key] = activity
        return activity
    activity.kind = activity.kind or kind
    if last_ts is not None:
        activity.last_ts = last_ts if activity.last_ts is None else max(activity.last_ts, last_ts)
    activity.last_seen = max(activity.last_seen, received_at)
    return activity


def _count(activity: DeviceActivity, boot_id: str, seq: int, readings: int) -> None:
    activity.messages += 1
    activity.readings += readings
    activity.counted.append((boot_id, seq, readings))


def _add_telemetry(where: Topic, body: TelemetryPayload, received_at: int, batch: Batch) -> None:
    site, gateway, device, seq = where.site, body.gateway, body.device, body.seq
    # tuple.__new__ skips the NamedTuple's keyword handling: this is the hot loop of ingest.
    make, kind = tuple.__new__, StoredReading
    rows: list[StoredReading] = [
        make(kind, (site, gateway, device, r.quantity, r.phase, r.ts, r.value, seq, "telemetry"))
        for r in body.readings
    ]
    batch.readings.extend(rows)
    activity = _activity(
        batch,
        where,
        device,
        kind="telemetry",
        last_ts=max(r.ts for r in rows),
        received_at=received_at,
    )
    _count(activity, body.boot_id, body.seq, len(rows))


def _add_vitals(where: Topic, body: VitalsPayload, received_at: int, batch: Batch) -> None:
    site, gateway, subject, seq = where.site, body.gateway, body.subject, body.seq
    rows = [
        StoredReading(site, gateway, subject, o.quantity, None, o.ts, o.value, seq, "vitals")
        for o in body.observations
    ]
    batch.readings.extend(rows)
    activity = _activity(
        batch,
        where,
        subject,
        kind="vitals",
        last_ts=max(r.ts for r in rows),
        received_at=received_at,
    )
    _count(activity, body.boot_id, body.seq, len(rows))


#: Fix fields stored as readings of a vehicle, with the quantity name each is stored under.
_FIX_FIELDS = (
    ("lat", "lat_deg"),
    ("lon", "lon_deg"),
    ("speed_mps", "speed_mps"),
    ("heading_deg", "heading_deg"),
    ("hdop", "hdop"),
    ("satellites", "satellites"),
)


def _add_position(where: Topic, body: PositionPayload, received_at: int, batch: Batch) -> None:
    site, gateway, vehicle, seq = where.site, body.gateway, body.vehicle, body.seq
    rows: list[StoredReading] = []
    for fix in body.fixes:
        for attribute, quantity in _FIX_FIELDS:
            value = getattr(fix, attribute)
            if value is not None:
                rows.append(
                    StoredReading(
                        site,
                        gateway,
                        vehicle,
                        quantity,
                        None,
                        fix.ts,
                        float(value),
                        seq,
                        "position",
                    )
                )
    last_ts = max(fix.ts for fix in body.fixes)
    if body.state is not None:
        vehicle_values = {
            "soc_pct": body.state.battery_pct,
            "occupancy": body.state.occupancy,
            "door_open": body.state.door_open,
            "locked": body.state.locked,
        }
        rows.extend(
            StoredReading(
                site, gateway, vehicle, quantity, None, last_ts, float(value), seq, "position"
            )
            for quantity, value in vehicle_values.items()
            if value is not None
        )
    batch.readings.extend(rows)
    activity = _activity(
        batch, where, vehicle, kind="position", last_ts=last_ts, received_at=received_at
    )
    _count(activity, body.boot_id, body.seq, len(rows))


def _add_cmd_result(where: Topic, body: CmdResultPayload, batch: Batch) -> None:
    details: dict[str, str | float | None] = {"command_id": body.command_id, "value": body.value}
    batch.state.events.append(
        EventRecord(
            site=where.site,
            gateway=body.gateway,
            boot_id=body.boot_id,
            seq=body.seq,
            index=0,
            ts=body.ts,
            kind=f"cmd_{body.status}",
            device=body.device,
            reason=clean_text(body.reason or ""),
            details=json.dumps(details, sort_keys=True),
        )
    )


def _add_events(where: Topic, body: EventsPayload, received_at: int, batch: Batch) -> None:
    records = [
        EventRecord(
            site=where.site,
            gateway=body.gateway,
            boot_id=body.boot_id,
            seq=body.seq,
            index=index,
            ts=event.ts,
            kind=event.kind,
            device=event.device,
            reason=clean_text(event.reason),
            details=json.dumps(event.details, sort_keys=True),
        )
        for index, event in enumerate(body.events)
    ]
    batch.state.events.extend(records)
    for event in body.events:
        if event.device is not None and event.kind in {"device_online", "device_offline"}:
            activity = _activity(
                batch, where, event.device, kind=None, last_ts=None, received_at=received_at
            )
            activity.online = event.kind == "device_online"
