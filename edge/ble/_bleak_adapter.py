"""The BLE transport over bleak: the only module that imports bleak.

Connections go through bleak-retry-connector (quick retries for the transient failures BlueZ
is known for). The bleak backend is injectable (bleak's ``backend=``): the platform's by
default, a bumble-backed one in tests and in the simulated city.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from bleak import BleakClient, BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakError
from bleak_retry_connector import establish_connection

from edge.ble._errors import BleLinkError
from edge.ble._port import Advertisement, ValueHandler

#: What bleak and its backends raise for a failed operation; mapped to BleLinkError here.
_LINK_ERRORS = (BleakError, TimeoutError, OSError, EOFError)

_T = TypeVar("_T")


async def _guarded(operation: Awaitable[_T], timeout_s: float, what: str) -> _T:
    try:
        async with asyncio.timeout(timeout_s):
            return await operation
    except _LINK_ERRORS as error:
        raise BleLinkError(f"{what} failed: {error or type(error).__name__}") from error
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # we are being cancelled: let it through
        # A stack may cancel its own pending requests when a link drops (bumble does): that is
        # a failed operation, not a request to stop the caller.
        raise BleLinkError(f"{what} failed: aborted by the Bluetooth stack") from None


class BleakConnection:
    """One connected bleak client, seen through the port."""

    def __init__(
        self, client: BleakClient, lost: asyncio.Event, operation_timeout_s: float
    ) -> None:
        self._client = client
        self._lost = lost
        self._timeout_s = operation_timeout_s

    @property
    def address(self) -> str:
        return self._client.address

    def has(self, characteristic_uuid: str) -> bool:
        return self._client.services.get_characteristic(characteristic_uuid) is not None

    async def subscribe(self, characteristic_uuid: str, handler: ValueHandler) -> None:
        def on_value(_sender: object, data: bytearray) -> None:
            handler(bytes(data))

        await self._while_linked(
            self._client.start_notify(characteristic_uuid, on_value),
            f"subscribe to {characteristic_uuid}",
        )

    async def read(self, characteristic_uuid: str) -> bytes:
        data = await self._while_linked(
            self._client.read_gatt_char(characteristic_uuid), f"read {characteristic_uuid}"
        )
        return bytes(data)

    async def write(self, characteristic_uuid: str, data: bytes) -> None:
        await self._while_linked(
            self._client.write_gatt_char(characteristic_uuid, data, response=True),
            f"write {characteristic_uuid}",
        )

    async def _while_linked(self, operation: Awaitable[_T], what: str) -> _T:
        """Run a GATT operation, giving up at once if the link drops meanwhile.

        A request in flight when the link goes gets no answer; waiting for the operation
        timeout would only delay the reconnect.
        """
        work = asyncio.ensure_future(
            _guarded(operation, self._timeout_s, f"{self.address}: {what}")
        )
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait((work, lost), return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
        if not work.done():
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
            raise BleLinkError(f"{self.address}: {what}: link lost")
        return work.result()

    async def wait_disconnected(self) -> None:
        await self._lost.wait()


class BleakTransport:
    """Scanning and connecting on one adapter through bleak.

    *concurrent_connects* bounds how many connections are being set up at once: BlueZ and
    most controllers handle one pending LE connection at a time, so the default is 1.
    """

    def __init__(
        self,
        *,
        scanner_backend: type[BaseBleakScanner] | None = None,
        client_backend: type[BaseBleakClient] | None = None,
        connect_timeout_s: float = 60.0,
        operation_timeout_s: float = 15.0,
        connect_attempts: int = 3,
        concurrent_connects: int = 1,
    ) -> None:
        self._scanner_backend = scanner_backend
        self._client_backend = client_backend
        self._connect_timeout_s = connect_timeout_s
        self._operation_timeout_s = operation_timeout_s
        self._connect_attempts = connect_attempts
        self._connecting = asyncio.Semaphore(concurrent_connects)
        self._seen: dict[str, BLEDevice] = {}

    async def scan(
        self, *, timeout_s: float, service_uuids: Sequence[str] = ()
    ) -> list[Advertisement]:
        options = self._scanner_options()
        if service_uuids:
            options["service_uuids"] = list(service_uuids)
        found = await _guarded(
            BleakScanner.discover(timeout=timeout_s, return_adv=True, **options),
            timeout_s + self._operation_timeout_s,
            "scan",
        )
        advertisements = []
        for device, advertisement in found.values():
            self._seen[device.address.upper()] = device
            advertisements.append(
                Advertisement(
                    address=device.address,
                    name=advertisement.local_name or device.name,
                    rssi=advertisement.rssi,
                    service_uuids=tuple(advertisement.service_uuids),
                )
            )
        return advertisements

    def _scanner_options(self) -> dict[str, Any]:
        # bleak picks the platform backend only when no backend argument is given at all.
        return {} if self._scanner_backend is None else {"backend": self._scanner_backend}

    async def _device(self, address: str) -> BLEDevice:
        device = self._seen.get(address.upper())
        if device is not None:
            return device
        scan_s = self._operation_timeout_s
        device = await _guarded(
            BleakScanner.find_device_by_address(address, timeout=scan_s, **self._scanner_options()),
            scan_s + self._operation_timeout_s,
            f"{address}: find",
        )
        if device is None:
            raise BleLinkError(f"{address}: not advertising")
        self._seen[address.upper()] = device
        return device

    @asynccontextmanager
    async def connect(self, address: str) -> AsyncIterator[BleakConnection]:
        lost = asyncio.Event()
        async with self._connecting:
            device = await self._device(address)
            client = await _guarded(
                establish_connection(
                    BleakClient,
                    device,
                    address,
                    disconnected_callback=lambda _client: lost.set(),
                    max_attempts=self._connect_attempts,
                    backend=self._client_backend,
                    timeout=self._connect_timeout_s / self._connect_attempts,
                ),
                self._connect_timeout_s,
                f"{address}: connect",
            )
        try:
            yield BleakConnection(client, lost, self._operation_timeout_s)
        finally:
            with contextlib.suppress(*_LINK_ERRORS):
                async with asyncio.timeout(self._operation_timeout_s):
                    await client.disconnect()
