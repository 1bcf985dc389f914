"""The outbox port and the plain values that cross it."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from messages import HinodeError


class OutboxError(HinodeError):
    """The outbox file cannot be opened or written (a path, permission or disk problem)."""


@dataclass(frozen=True, slots=True)
class OutboxLimits:
    """Most the outbox may hold; beyond, the oldest messages are dropped and counted."""

    max_rows: int
    max_bytes: int
    max_age_ms: int


@dataclass(frozen=True, slots=True)
class Sealed:
    """A message ready to publish: its topic, encoded payload and how many readings it carries."""

    topic: str
    payload: bytes
    readings: int = 0


#: Builds the message that gets *seq*; called inside the transaction that stores it.
MessageBuilder = Callable[[int], Sealed]
#: Builds the message that gets *seq* from the staged readings (JSON texts) of one device.
BatchBuilder = Callable[[int, list[str]], Sealed]


@dataclass(frozen=True, slots=True)
class OutboxRow:
    seq: int
    topic: str
    payload: bytes
    readings: int = 0


@dataclass(frozen=True, slots=True)
class StagedBatch:
    """Readings of one device that are durable but not yet sealed into a message."""

    device: str
    through_id: int
    readings: list[str]


@dataclass(frozen=True, slots=True)
class DropReport:
    """Messages the drop policy removed since the last report, and why."""

    messages: int
    readings: int
    reasons: tuple[str, ...]
    first_seq: int
    last_seq: int

    def merge(self, later: "DropReport") -> "DropReport":
        """This report and a later one as one."""
        return DropReport(
            messages=self.messages + later.messages,
            readings=self.readings + later.readings,
            reasons=tuple(dict.fromkeys(self.reasons + later.reasons)),
            first_seq=min(self.first_seq, later.first_seq),
            last_seq=max(self.last_seq, later.last_seq),
        )


class Outbox(Protocol):
    """Durable, ordered store of outgoing messages."""

    @property
    def depth(self) -> int:
        """Messages waiting (published or not) for their PUBACK."""
        ...

    @property
    def depth_readings(self) -> int: ...

    @property
    def depth_bytes(self) -> int: ...

    @property
    def last_seq(self) -> int:
        """The highest seq ever assigned (-1 before the first)."""
        ...

    async def stage(self, device: str, readings: Sequence[str], now_ms: int) -> int:
        """Store readings of *device* durably before they are batched; return the last row id."""
        ...

    async def seal(self, device: str, through_id: int, build: BatchBuilder, now_ms: int) -> int:
        """Turn the staged readings of *device* up to *through_id* into one message; its seq."""
        ...

    async def append(self, build: MessageBuilder, now_ms: int) -> int:
        """Store one message (an event, a command result) under the next seq."""
        ...

    async def staged(self) -> list[StagedBatch]:
        """Readings staged before a restart, per device."""
        ...

    async def read_after(self, seq: int, limit: int) -> list[OutboxRow]:
        """Up to *limit* messages with seq above *seq*, in seq order."""
        ...

    async def delete(self, seqs: Iterable[int]) -> None:
        """Remove acknowledged messages."""
        ...

    async def expire(self, now_ms: int) -> None:
        """Drop messages older than the age limit."""
        ...

    def take_drops(self) -> DropReport | None:
        """What was dropped since the last call, or None."""
        ...

    async def wait_for_rows(self, after_seq: int) -> None:
        """Return once a message with seq above *after_seq* exists."""
        ...
