"""The durable outbox: readings and events wait here, in seq order, until the broker acknowledges.

The port is :class:`Outbox`; :class:`SqliteOutbox` (SQLite in WAL mode) is the adapter.
"""

from edge.outbox._port import (
    BatchBuilder,
    DropReport,
    MessageBuilder,
    Outbox,
    OutboxError,
    OutboxLimits,
    OutboxRow,
    Sealed,
    StagedBatch,
)
from edge.outbox._sqlite import SqliteOutbox

__all__ = [
    "BatchBuilder",
    "DropReport",
    "MessageBuilder",
    "Outbox",
    "OutboxError",
    "OutboxLimits",
    "OutboxRow",
    "Sealed",
    "SqliteOutbox",
    "StagedBatch",
]
