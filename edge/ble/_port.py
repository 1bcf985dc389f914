"""The BLE transport port: what the device sessions need from a Bluetooth stack.

One adapter per library implements it (bleak in production and in tests, over a bumble-backed
bleak backend); the sessions never see a library type or exception.
"""

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

#: Called with each notified or indicated value, in order, before the indication is confirmed.
ValueHandler = Callable[[bytes], None]


@dataclass(frozen=True, slots=True)
class Advertisement:
    """A device seen while scanning."""

    address: str
    name: str | None
    rssi: int
    service_uuids: tuple[str, ...]


class BleConnection(Protocol):
    """One open GATT connection."""

    @property
    def address(self) -> str: ...

    def has(self, characteristic_uuid: str) -> bool:
        """Whether the device offers this characteristic."""
        ...

    async def subscribe(self, characteristic_uuid: str, handler: ValueHandler) -> None:
        """Enable notifications or indications (whichever the characteristic offers)."""
        ...

    async def read(self, characteristic_uuid: str) -> bytes: ...

    async def write(self, characteristic_uuid: str, data: bytes) -> None:
        """Write with response (control points need the response)."""
        ...

    async def wait_disconnected(self) -> None:
        """Return once the link is gone, whoever dropped it."""
        ...


class BleTransport(Protocol):
    """Scanning and connecting on one Bluetooth adapter."""

    async def scan(
        self, *, timeout_s: float, service_uuids: Sequence[str] = ()
    ) -> list[Advertisement]: ...

    def connect(self, address: str) -> AbstractAsyncContextManager[BleConnection]:
        """Connect (with the adapter's own retries); closing the context disconnects."""
        ...
