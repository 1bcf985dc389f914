"""Plain values the collector and the stores exchange: readings, state updates, records."""

from dataclasses import dataclass, field
from typing import NamedTuple


class StoredReading(NamedTuple):
    """One reading as stored; its identity is (site, gateway, device, quantity, phase, ts).

    ``kind`` is the topic kind the reading came from (telemetry, vitals, position). For vitals the
    ``device`` is the pseudonymous subject; for position it is the vehicle.
    """

    site: str
    gateway: str
    device: str
    quantity: str
    phase: str | None
    ts: int
    value: float
    seq: int
    kind: str = "telemetry"


#: The fields of an exported reading, in order (the jsonl keys and the csv header).
EXPORT_FIELDS = ("site", "gateway", "device", "quantity", "phase", "ts", "value", "seq")


@dataclass(frozen=True, slots=True)
class ReadingQuery:
    """Which stored readings to return: ``since`` inclusive, ``until`` exclusive (epoch ms)."""

    since: int | None = None
    until: int | None = None
    device: str | None = None
    quantity: str | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that broke the wire contract, kept with the reason it was refused."""

    received_at: int
    topic: str
    payload: bytes
    payload_size: int
    reason: str


@dataclass(frozen=True, slots=True)
class GatewayState:
    """A birth (online) or last will (offline) message of a gateway."""

    site: str
    gateway: str
    online: bool
    boot_id: str
    seq: int
    sent_at: int
    version: str | None
    devices: tuple[str, ...]
    received_at: int


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event of an events message; (gateway, boot_id, seq, index) is its identity."""

    site: str
    gateway: str
    boot_id: str
    seq: int
    index: int
    ts: int
    kind: str
    device: str | None
    reason: str
    details: str


@dataclass(slots=True)
class DeviceActivity:
    """What one batch saw of one device (or subject, or vehicle)."""

    #: telemetry, vitals or position; None when only an event mentioned the device.
    kind: str | None
    #: Newest reading timestamp; None when only an event mentioned the device.
    last_ts: int | None
    last_seen: int
    messages: int = 0
    readings: int = 0
    online: bool | None = None
    #: (boot_id, seq, readings) of each message counted, so that a message the stores already
    #: hold (delivered again after a collector died) is not counted twice.
    counted: list[tuple[str, int, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SeqRange:
    """An inclusive range of sequence numbers."""

    first: int
    last: int

    def __len__(self) -> int:
        return self.last - self.first + 1


@dataclass(slots=True)
class StateUpdate:
    """Everything a batch changes in the state store, written in one transaction."""

    #: When the batch was written (epoch ms, from the collector's clock).
    recorded_at: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)
    gateway_states: list[GatewayState] = field(default_factory=list)
    #: (site, gateway) → received_at of the newest message of any kind.
    gateways_seen: dict[tuple[str, str], int] = field(default_factory=dict)
    #: (site, gateway, device) → activity in this batch.
    devices: dict[tuple[str, str, str], DeviceActivity] = field(default_factory=dict)
    #: (site, gateway, boot_id) → sequence numbers of the data messages in this batch.
    sequences: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)
    events: list[EventRecord] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (
            self.dead_letters
            or self.gateway_states
            or self.gateways_seen
            or self.devices
            or self.sequences
            or self.events
        )


@dataclass(frozen=True, slots=True)
class SequenceReport:
    """What merging a batch's sequence numbers into the stored ones found."""

    duplicates: int = 0
    filled: int = 0
    opened: tuple[tuple[str, str, SeqRange], ...] = ()
    #: Open gaps of the touched (gateway, boot_id) keys after the merge.
    open_gaps: dict[tuple[str, str], tuple[SeqRange, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GatewayRecord:
    site: str
    gateway: str
    online: bool | None
    boot_id: str | None
    version: str | None
    last_seen: int | None
    state_changed_at: int | None


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    site: str
    gateway: str
    device: str
    kind: str
    last_ts: int | None
    last_seen: int | None
    messages: int
    readings: int
    online: bool | None


@dataclass(frozen=True, slots=True)
class GapRecord:
    gateway: str
    boot_id: str
    first: int
    last: int
    opened_at: int


@dataclass(frozen=True, slots=True)
class DeadLetterSummary:
    count: int
    latest: tuple[DeadLetter, ...]
