"""A bleak backend over bumble: the gateway's real bleak code runs against simulated devices.

``SimulatedAir.bleak_backends(adapter)`` hands out a scanner class and a client class bound to
one simulated adapter; pass them as bleak's ``backend=``. Bumble failures are raised as
``BleakError`` (or ``TimeoutError``), exactly what bleak's own backends raise.
"""

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar, Literal, TypeVar

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bumble import core, gatt
from bumble.core import AdvertisingData
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.hci import Address

_BUMBLE_ERRORS = (core.BaseBumbleError, ConnectionError)

_PROPERTY_NAMES: tuple[tuple[int, str], ...] = (
    (gatt.Characteristic.Properties.BROADCAST, "broadcast"),
    (gatt.Characteristic.Properties.READ, "read"),
    (gatt.Characteristic.Properties.WRITE_WITHOUT_RESPONSE, "write-without-response"),
    (gatt.Characteristic.Properties.WRITE, "write"),
    (gatt.Characteristic.Properties.NOTIFY, "notify"),
    (gatt.Characteristic.Properties.INDICATE, "indicate"),
    (gatt.Characteristic.Properties.AUTHENTICATED_SIGNED_WRITES, "authenticated-signed-writes"),
    (gatt.Characteristic.Properties.EXTENDED_PROPERTIES, "extended-properties"),
)


_T = TypeVar("_T")
#: HCI exchanges that were still running when their caller gave up; kept so they can finish.
_finishing: set[asyncio.Task[Any]] = set()


async def _to_the_end(exchange: Coroutine[Any, Any, _T]) -> _T:
    """Await an HCI command exchange that must not be cut short.

    bumble's host keeps one pending command response; a caller cancelled mid-command (by its
    own timeout) leaves that response unclaimed and the host refuses every later command. The
    exchange therefore runs in a task of its own that finishes even if the caller is cancelled.
    """
    task = asyncio.ensure_future(exchange)
    _finishing.add(task)
    task.add_done_callback(_finishing.discard)
    return await asyncio.shield(task)


def bleak_uuid(bumble_uuid: core.UUID) -> str:
    """bumble's UUID as bleak writes it: 128-bit, lower case, with dashes."""
    return str(uuid.UUID(bytes=bytes(reversed(bumble_uuid.to_bytes(force_128=True)))))


def _address_text(address: Address) -> str:
    return address.to_string(with_type_qualifier=False)


class BumbleScanner(BaseBleakScanner):
    """Scans on one simulated adapter; bound to it by :func:`bind_backends`."""

    adapter: ClassVar[Device]

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: Literal["active", "passive"] = "active",
        **_platform_args: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._active = scanning_mode == "active"

    async def start(self) -> None:
        self.seen_devices = {}
        self.adapter.on(self.adapter.EVENT_ADVERTISEMENT, self._on_advertisement)
        try:
            await _to_the_end(
                self.adapter.start_scanning(active=self._active, filter_duplicates=False)
            )
        except _BUMBLE_ERRORS as error:
            raise BleakError(f"scan failed: {error}") from error

    async def stop(self) -> None:
        self.adapter.remove_listener(self.adapter.EVENT_ADVERTISEMENT, self._on_advertisement)
        try:
            await _to_the_end(self.adapter.stop_scanning())
        except _BUMBLE_ERRORS as error:
            raise BleakError(f"stopping the scan failed: {error}") from error

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        data = advertisement.data
        name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(
            AdvertisingData.SHORTENED_LOCAL_NAME
        )
        uuids = [
            bleak_uuid(service_uuid)
            for kind in (
                AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
            )
            for service_uuid in (data.get(kind) or [])
        ]
        if not self.is_allowed_uuid(uuids):
            return
        local_name = name if isinstance(name, str) else None
        advertisement_data = AdvertisementData(
            local_name=local_name,
            manufacturer_data={},
            service_data={},
            service_uuids=uuids,
            tx_power=None,
            rssi=advertisement.rssi,
            platform_data=(advertisement,),
        )
        address = _address_text(advertisement.address)
        device = self.create_or_update_device(
            address, address, local_name, advertisement.address, advertisement_data
        )
        self.call_detection_callbacks(device, advertisement_data)


def _drop_late_connection(connecting: "asyncio.Future[Connection]") -> None:
    if connecting.cancelled() or connecting.exception() is not None:
        return
    task = asyncio.ensure_future(_to_the_end(connecting.result().disconnect()))
    _finishing.add(task)
    task.add_done_callback(_finishing.discard)


class BumbleClient(BaseBleakClient):
    """A GATT client on one simulated adapter; bound to it by :func:`bind_backends`."""

    adapter: ClassVar[Device]

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        **_platform_args: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        details = (
            address_or_ble_device.details if isinstance(address_or_ble_device, BLEDevice) else None
        )
        self._peer_address = details if isinstance(details, Address) else Address(self.address)
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._closing = False

    @property
    def name(self) -> str:
        return self.address

    @property
    def mtu_size(self) -> int:
        return self._connection.att_mtu if self._connection else 23

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        del pair  # pairing is not simulated: the health profiles here work unbonded
        # Like bleak's BlueZ backend: a timeout given to connect() wins over the client's.
        timeout = min(float(kwargs.get("timeout", self._timeout)), self._timeout)
        try:
            async with asyncio.timeout(timeout + 1):
                connection = await self._create_connection(timeout)
                self._connection = connection
                self._closing = False
                connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
                self._peer = Peer(connection)
                self.services = await self._discover(self._peer)
        except TimeoutError:
            await self._abandon()
            raise
        except _BUMBLE_ERRORS as error:
            await self._abandon()
            if isinstance(error, core.TimeoutError):
                raise TimeoutError(f"{self.address}: connect timed out") from error
            if "not found" in str(error).lower():
                raise BleakDeviceNotFoundError(self.address, str(error)) from error
            raise BleakError(f"{self.address}: connect failed: {error}") from error

    async def _create_connection(self, timeout_s: float) -> Connection:
        # Like BlueZ, connect only to a device seen advertising: bumble's simulated controller
        # never completes a cancelled LE connection, so a connect to a silent device would hang
        # the adapter for good instead of timing out.
        await self._wait_for_advertisement(timeout_s)
        connecting = asyncio.ensure_future(
            self.adapter.connect(self._peer_address, timeout=timeout_s)
        )
        try:
            return await asyncio.shield(connecting)
        except asyncio.CancelledError:
            # bumble finishes (or times out) on its own; a link made after we gave up is dropped.
            connecting.add_done_callback(_drop_late_connection)
            raise

    async def _wait_for_advertisement(self, timeout_s: float) -> None:
        seen: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        wanted = _address_text(self._peer_address)

        def on_advertisement(advertisement: Advertisement) -> None:
            if _address_text(advertisement.address) == wanted and not seen.done():
                seen.set_result(None)

        self.adapter.on(self.adapter.EVENT_ADVERTISEMENT, on_advertisement)
        started_here = False
        try:
            if not self.adapter.is_scanning:
                await _to_the_end(self.adapter.start_scanning(filter_duplicates=False))
                started_here = True
            async with asyncio.timeout(timeout_s):
                await seen
        except TimeoutError:
            raise BleakDeviceNotFoundError(self.address, "device is not advertising") from None
        finally:
            self.adapter.remove_listener(self.adapter.EVENT_ADVERTISEMENT, on_advertisement)
            if started_here:
                with contextlib.suppress(*_BUMBLE_ERRORS):
                    await _to_the_end(self.adapter.stop_scanning())

    async def _abandon(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            self._closing = True
            with contextlib.suppress(*_BUMBLE_ERRORS):
                await _to_the_end(connection.disconnect())

    def _on_disconnection(self, _reason: int) -> None:
        self._connection = None
        self._peer = None
        # bleak calls back only for disconnects it did not ask for.
        if not self._closing and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        max_write = lambda: self.mtu_size - 3  # noqa: E731 - bleak asks for a callable
        for service in await peer.discover_services():
            bleak_service = BleakGATTService(service, service.handle, bleak_uuid(service.uuid))
            collection.add_service(bleak_service)
            for characteristic in await service.discover_characteristics():
                properties = [
                    name for bit, name in _PROPERTY_NAMES if characteristic.properties & bit
                ]
                bleak_characteristic = BleakGATTCharacteristic(
                    characteristic,
                    characteristic.handle,
                    bleak_uuid(characteristic.uuid),
                    properties,  # type: ignore[arg-type]
                    max_write,
                    bleak_service,
                )
                collection.add_characteristic(bleak_characteristic)
                for descriptor in await characteristic.discover_descriptors():
                    collection.add_descriptor(
                        BleakGATTDescriptor(
                            descriptor,
                            descriptor.handle,
                            bleak_uuid(descriptor.type),
                            bleak_characteristic,
                        )
                    )
        return collection

    async def disconnect(self) -> None:
        connection = self._connection
        if connection is None:
            return
        self._closing = True
        try:
            await _to_the_end(connection.disconnect())
        except _BUMBLE_ERRORS as error:
            raise BleakError(f"{self.address}: disconnect failed: {error}") from error

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise BleakError("pairing is not simulated")

    async def unpair(self) -> None:
        raise BleakError("pairing is not simulated")

    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError(f"{self.address}: not connected")
        return self._peer

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **_: Any
    ) -> bytearray:
        self._require_peer()
        try:
            return bytearray(await characteristic.obj.read_value())
        except _BUMBLE_ERRORS as error:
            raise BleakError(f"{self.address}: read failed: {error}") from error

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **_: Any
    ) -> bytearray:
        self._require_peer()
        try:
            return bytearray(await descriptor.obj.read_value())
        except _BUMBLE_ERRORS as error:
            raise BleakError(f"{self.address}: read failed: {error}") from error

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        self._require_peer()
        try:
            await characteristic.obj.write_value(bytes(data), with_response=response)
        except _BUMBLE_ERRORS as error:
            raise BleakError(f"{self.address}: write failed: {error}") from error

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        self._require_peer()
        try:
            await descriptor.obj.write_value(bytes(data), with_response=True)
        except _BUMBLE_ERRORS as error:
            raise BleakError(f"{self.address}: write failed: {error}") from error

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **_: Any
    ) -> None:
        peer = self._require_peer()

        def on_value(value: bytes) -> None:
            callback(bytearray(value))

        # Like bleak's platform backends: notifications if offered, else indications.
        try:
            await peer.subscribe(characteristic.obj, on_value, prefer_notify=True)
        except _BUMBLE_ERRORS as error:
            raise BleakError(f"{self.address}: subscribe failed: {error}") from error

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        peer = self._require_peer()
        try:
            await peer.unsubscribe(characteristic.obj)
        except _BUMBLE_ERRORS as error:
            raise BleakError(f"{self.address}: unsubscribe failed: {error}") from error


def bind_backends(adapter: Device) -> tuple[type[BumbleScanner], type[BumbleClient]]:
    """Scanner and client classes that use *adapter*; give them to bleak as ``backend=``."""
    scanner = type("BumbleScannerOnAdapter", (BumbleScanner,), {"adapter": adapter})
    client = type("BumbleClientOnAdapter", (BumbleClient,), {"adapter": adapter})
    return scanner, client
