"""The BLE vital-sign devices of a gateway config: one session each, measurements to vitals.

Each ``kind: ble`` device gets a :class:`edge.ble.DeviceSession` on the gateway's one transport
(the transport lets one connection be set up at a time per adapter). Sessions hand their
measurements to a queue; :meth:`BleDevices.run` turns each into the observations of one
pseudonymous subject and passes them on with the device's stored-record cursor, so the caller
can store both in one transaction.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from edge.ble import (
    DEVICE_KINDS,
    Backoff,
    BleTransport,
    DeviceKind,
    DeviceSession,
    MemoryCursor,
    Received,
    observations,
    subject_pseudonym,
)
from edge.config import BleDevice, BleDeviceType, GatewayConfig
from edge.devices._port import DeviceStatus, StatusSink
from edge.outbox import MessageBuilder, Sealed
from messages import Clock, ContractError, DeviceInfo, Observation, VitalsPayload, encode, now_ms
from messages import topics as t

log = logging.getLogger(__name__)

#: Config device types → the session's device kinds (GATT services).
_KINDS: Mapping[BleDeviceType, DeviceKind] = {
    "blood_pressure": DEVICE_KINDS["blood_pressure"],
    "pulse_oximeter": DEVICE_KINDS["pulse_oximeter"],
    "glucose": DEVICE_KINDS["glucose"],
    "thermometer": DEVICE_KINDS["health_thermometer"],
    "weight_scale": DEVICE_KINDS["weight_scale"],
    "heart_rate": DEVICE_KINDS["heart_rate"],
}
_CURSOR_PREFIX = "ble-racp/"


def cursor_name(address: str) -> str:
    """The outbox cursor of one device's stored glucose records (a new device starts afresh)."""
    return _CURSOR_PREFIX + address.upper()


@dataclass(frozen=True, slots=True)
class Vitals:
    """What one measurement gives: observations of a subject, and the cursor to save with them.

    *observations* may be empty (a control-solution test, a cuff pressure): the cursor still
    moves, nothing is published.
    """

    device: str
    subject: str
    observations: list[Observation]
    cursor: tuple[str, int] | None = None


def vitals_message(
    *, site: str, gateway: str, boot_id: str, sent_at: int, vitals: Vitals
) -> MessageBuilder:
    """The outbox builder of one ``vitals/{subject}`` message."""
    topic = t.vitals_topic(site, gateway, vitals.subject)

    def build(seq: int) -> Sealed:
        payload = VitalsPayload(
            gateway=gateway,
            boot_id=boot_id,
            seq=seq,
            sent_at=sent_at,
            subject=vitals.subject,
            observations=vitals.observations,
        )
        return Sealed(topic, encode(payload), len(vitals.observations))

    return build


class BleDevices:
    """The sessions of a config's BLE devices and the queue their measurements arrive on."""

    def __init__(
        self,
        config: GatewayConfig,
        transport: BleTransport | None,
        *,
        site_key: bytes,
        clock: Clock,
        on_status: StatusSink,
        cursors: Mapping[str, int],
        backoff: Backoff | None = None,
    ) -> None:
        """*transport*: the adapter (bleak's platform backend if None and there are devices);
        *cursors*: the saved outbox cursors, so a glucose meter resumes after its own."""
        self.devices = [d for d in config.devices if isinstance(d, BleDevice)]
        if transport is None and self.devices:
            transport = default_ble_transport()
        self._site = config.site
        self._site_key = site_key
        self._clock = clock
        self._on_status = on_status
        self._zone: ZoneInfo = config.vitals.timezone if config.vitals else ZoneInfo("UTC")
        self._received: asyncio.Queue[tuple[BleDevice, Received]] = asyncio.Queue()
        self._subjects: dict[tuple[str, int | None], str] = {}
        self.sessions: dict[str, DeviceSession] = {}
        self.measurements_refused = 0
        for device in self.devices:
            assert transport is not None  # set above whenever there are devices
            cursor = MemoryCursor()
            saved = cursors.get(cursor_name(device.address))
            if saved is not None:
                cursor.advance(device.address, saved)
            self.sessions[device.id] = DeviceSession(
                transport,
                device.address,
                _KINDS[device.ble_type],
                self._deliver_to_queue(device),
                clock,
                cursor=cursor,
                backoff=backoff,
                on_status=self._status_of(device.id),
            )

    def _deliver_to_queue(self, device: BleDevice) -> Callable[[Received], None]:
        def deliver(received: Received) -> None:
            self._received.put_nowait((device, received))

        return deliver

    def device_infos(self) -> list[DeviceInfo]:
        """The devices as the gateway's birth message lists them."""
        return [DeviceInfo(id=d.id, kind=d.kind, model=d.profile) for d in self.devices]

    def _status_of(self, device_id: str) -> Callable[[bool, str], None]:
        def status(online: bool, reason: str) -> None:
            self._on_status(DeviceStatus(device_id, online, reason, now_ms(self._clock)))

        return status

    async def run(self, publish: Callable[[Vitals], Awaitable[None]]) -> None:
        """Hand on every measurement the sessions deliver, in order, until cancelled."""
        while True:
            device, received = await self._received.get()
            await self._hand_on(device, received, publish)

    async def flush(self, publish: Callable[[Vitals], Awaitable[None]]) -> None:
        """Hand on what is still queued (the sessions have stopped)."""
        while not self._received.empty():
            device, received = self._received.get_nowait()
            await self._hand_on(device, received, publish)

    async def _hand_on(
        self, device: BleDevice, received: Received, publish: Callable[[Vitals], Awaitable[None]]
    ) -> None:
        try:
            await publish(self.vitals_of(device, received))
        except (ContractError, ValueError) as exc:
            # One measurement the contract refuses never stops the others. The error text may
            # quote the values (personal data): only its type is logged.
            self.measurements_refused += 1
            log.error(  # noqa: TRY400 - the reason is the message
                "vital signs refused", extra={"device": device.id, "error": type(exc).__name__}
            )

    def vitals_of(self, device: BleDevice, received: Received) -> Vitals:
        measurement = received.measurement
        user = measurement.values.get("user_id")
        user_id = user if isinstance(user, int) and not isinstance(user, bool) else None
        sequence = measurement.values.get("sequence_number")
        cursor = None
        if measurement.characteristic == "glucose_measurement" and isinstance(sequence, int):
            cursor = (cursor_name(device.address), sequence)
        return Vitals(
            device=device.id,
            subject=self._subject(device.address, user_id),
            observations=observations(
                measurement,
                device=device.id,
                received_at_ms=received.received_at_ms,
                device_tz=self._zone,
            ),
            cursor=cursor,
        )

    def _subject(self, address: str, user_id: int | None) -> str:
        key = (address.upper(), user_id)
        subject = self._subjects.get(key)
        if subject is None:
            subject = subject_pseudonym(
                self._site_key, site=self._site, device_address=address, user_id=user_id
            )
            self._subjects[key] = subject
        return subject


def default_ble_transport() -> BleTransport:
    """The platform's Bluetooth adapter through bleak (loaded only when BLE devices exist)."""
    from edge.ble import BleakTransport  # noqa: PLC0415 - bleak is loaded only when needed

    transport: BleTransport = BleakTransport()
    return transport
