"""The storage ports: what the collector and the queries need of a time-series and a state store.

Adapters are synchronous (their libraries are); the collector calls them from one worker thread,
so an adapter needs no locking of its own. Every adapter bounds its I/O with its library's timeout.
"""

from collections.abc import Iterator, Sequence
from typing import Protocol

from cloud._model import (
    DeadLetterSummary,
    DeviceRecord,
    GapRecord,
    GatewayRecord,
    ReadingQuery,
    SequenceReport,
    StateUpdate,
    StoredReading,
)


class TimeSeriesStore(Protocol):
    """Readings by identity (site, gateway, device, quantity, phase, ts); writes are idempotent."""

    #: The store's URL with any secret removed, for logs and reports.
    url: str

    def write(self, readings: Sequence[StoredReading]) -> int:
        """Store *readings* durably; return how many were new (or written, if unknowable)."""
        ...

    def query(self, query: ReadingQuery) -> Iterator[StoredReading]:
        """Stored readings matching *query*, in time order."""
        ...

    def close(self) -> None: ...


class StateStore(Protocol):
    """Gateways, devices, sequence spans and gaps, events and dead letters."""

    url: str

    def record(self, update: StateUpdate) -> SequenceReport:
        """Apply *update* in one transaction; report duplicates and gaps of its sequences."""
        ...

    def gateways(self) -> list[GatewayRecord]: ...

    def devices(self) -> list[DeviceRecord]: ...

    def gaps(self) -> list[GapRecord]:
        """Open gaps, oldest first."""
        ...

    def dead_letters(self, latest: int = 10) -> DeadLetterSummary: ...

    def close(self) -> None: ...
