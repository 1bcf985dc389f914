"""The transport port: the two or three operations the bus owner needs from a Modbus client."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from edge.modbus._planner import Table


class ModbusTransport(Protocol):
    """One connection to a bus. Raises only TransportError and DeviceError from messages.

    TransportError: nothing (usable) came back — no connection, no response in time.
    DeviceError: the device answered, but with an exception response or a malformed frame.
    """

    async def connect(self) -> None:
        """Open the connection (a no-op when already open)."""
        ...

    async def close(self) -> None:
        """Close the connection; safe to call twice."""
        ...

    async def read(self, unit: int, table: Table, address: int, count: int) -> list[int]:
        """Read *count* registers of *table* from *address* of device *unit*."""
        ...

    async def write(self, unit: int, address: int, words: Sequence[int], *, single: bool) -> None:
        """Write *words* to holding registers from *address* (FC06 when *single*, else FC16)."""
        ...
