"""Keep one vital-sign device connected and hand on each of its measurements exactly once.

A session connects (the adapter retries quickly), subscribes to the device's measurement
characteristics, fetches stored glucose records through the Record Access Control Point, and
after a lost link reconnects with exponential backoff and jitter. Devices resend stored
records after a reconnect (an unconfirmed indication, a repeated RACP transfer): records are
recognised by sequence number or by their timestamped frame and passed on only once.
"""

import asyncio
import logging
import random
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from edge.ble import _racp
from edge.ble._characteristics import Characteristic, find_characteristic
from edge.ble._errors import BleDecodeError, BleLinkError
from edge.ble._measurement import Measurement
from edge.ble._port import Advertisement, BleConnection, BleTransport
from messages import Clock, HinodeError, now_ms

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeviceKind:
    """What to subscribe to on one kind of device (a GATT service)."""

    name: str
    service_short_uuid: int
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    stored_records_by_racp: bool = False

    @property
    def service_uuid(self) -> str:
        """The service's 128-bit UUID as bleak reports it in advertisements."""
        return f"0000{self.service_short_uuid:04x}-0000-1000-8000-00805f9b34fb"


DEVICE_KINDS = {
    kind.name: kind
    for kind in (
        DeviceKind("heart_rate", 0x180D, ("heart_rate_measurement",)),
        DeviceKind(
            "blood_pressure",
            0x1810,
            ("blood_pressure_measurement",),
            ("intermediate_cuff_pressure",),
        ),
        DeviceKind("health_thermometer", 0x1809, ("temperature_measurement",)),
        DeviceKind(
            "pulse_oximeter",
            0x1822,
            (),
            ("plx_spot_check_measurement", "plx_continuous_measurement"),
        ),
        DeviceKind(
            "glucose",
            0x1808,
            ("glucose_measurement",),
            ("glucose_measurement_context",),
            stored_records_by_racp=True,
        ),
        DeviceKind("weight_scale", 0x181D, ("weight_measurement",)),
    )
}


def kind_of(advertisement: Advertisement) -> DeviceKind | None:
    """The supported device kind an advertisement announces, if any."""
    for kind in DEVICE_KINDS.values():
        if kind.service_uuid in advertisement.service_uuids:
            return kind
    return None


@dataclass(frozen=True, slots=True)
class Received:
    """A decoded measurement as it arrived from one device."""

    address: str
    measurement: Measurement
    received_at_ms: int


class RecordCursor(Protocol):
    """Where each device's stored-record transfer stands; the agent may persist it."""

    def last_sequence(self, address: str) -> int | None: ...

    def advance(self, address: str, sequence_number: int) -> None: ...


class MemoryCursor:
    """A record cursor that lives as long as the process."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def last_sequence(self, address: str) -> int | None:
        return self._last.get(address)

    def advance(self, address: str, sequence_number: int) -> None:
        self._last[address] = sequence_number


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter between reconnects."""

    initial_s: float = 1.0
    maximum_s: float = 60.0

    def delay(self, failures: int, rng: random.Random) -> float:
        ceiling = min(self.maximum_s, self.initial_s * (1 << min(max(failures - 1, 0), 30)))
        # Half fixed, half random: devices that dropped together do not return together.
        return ceiling / 2 + rng.random() * ceiling / 2


_RECENT_FRAMES = 4096
_MAX_SEQUENCE = 0xFFFF


class DeviceSession:
    """Owns the link to one device for as long as :meth:`run` runs."""

    def __init__(
        self,
        transport: BleTransport,
        address: str,
        kind: DeviceKind,
        deliver: Callable[[Received], None],
        clock: Clock,
        *,
        cursor: RecordCursor | None = None,
        backoff: Backoff | None = None,
        racp_timeout_s: float = 30.0,
        rng: random.Random | None = None,
        on_status: Callable[[bool, str], None] | None = None,
    ) -> None:
        """*deliver* gets every new measurement; *on_status* (online, reason) each change."""
        self.address = address
        self.kind = kind
        self.connections = 0
        self.decode_errors = 0
        self.duplicates_dropped = 0
        self._transport = transport
        self._deliver = deliver
        self._clock = clock
        self._cursor = cursor or MemoryCursor()
        self._backoff = backoff or Backoff()
        self._racp_timeout_s = racp_timeout_s
        self._rng = rng or random.Random()
        self._recent: OrderedDict[bytes, None] = OrderedDict()
        self._last_context_sequence: int | None = None
        self._online: bool | None = None  # unknown until the first attempt: then reported
        self._on_status = on_status

    async def run(self) -> None:
        """Connect, serve, and reconnect after every loss, until cancelled."""
        failures = 0
        while True:
            reason = "link lost"
            try:
                async with self._transport.connect(self.address) as connection:
                    failures = 0
                    self.connections += 1
                    self._set_online(online=True, reason="connected")
                    await self._serve(connection)
            except HinodeError as error:
                failures += 1
                reason = str(error)
                log.debug("ble %s: %s", self.address, error)
            self._set_online(online=False, reason=reason)
            await self._clock.sleep(self._backoff.delay(max(failures, 1), self._rng))

    def _set_online(self, *, online: bool, reason: str) -> None:
        # A state change is logged and reported once, never once per attempt.
        if online == self._online:
            return
        self._online = online
        log.info("ble device %s %s: %s", self.address, "online" if online else "offline", reason)
        if self._on_status is not None:
            self._on_status(online, reason)

    async def _serve(self, connection: BleConnection) -> None:
        for name in self.kind.required:
            await self._subscribe(connection, name, required=True)
        for name in self.kind.optional:
            await self._subscribe(connection, name, required=False)
        if self.kind.stored_records_by_racp:
            await self._fetch_stored_records(connection)
        await connection.wait_disconnected()

    async def _subscribe(self, connection: BleConnection, name: str, *, required: bool) -> None:
        characteristic = find_characteristic(name)
        assert characteristic is not None  # the kinds name only known characteristics
        if not required and not connection.has(characteristic.uuid):
            return
        await connection.subscribe(characteristic.uuid, self._handler(characteristic))

    def _handler(self, characteristic: Characteristic) -> Callable[[bytes], None]:
        def on_value(data: bytes) -> None:
            try:
                measurement = characteristic.decode(data)
            except BleDecodeError as error:
                self.decode_errors += 1
                log.warning("ble %s: dropped a bad frame: %s", self.address, error)
                return
            if self._is_repeat(measurement, data):
                self.duplicates_dropped += 1
                return
            self._deliver(Received(self.address, measurement, now_ms(self._clock)))

        return on_value

    def _is_repeat(self, measurement: Measurement, data: bytes) -> bool:
        values = measurement.values
        sequence = values.get("sequence_number")
        if isinstance(sequence, int) and not isinstance(sequence, bool):
            if measurement.characteristic == "glucose_measurement":
                last = self._cursor.last_sequence(self.address)
                if last is not None and sequence <= last:
                    return True
                self._cursor.advance(self.address, sequence)
                return False
            last_context = self._last_context_sequence
            if last_context is not None and sequence <= last_context:
                return True
            self._last_context_sequence = sequence
            return False
        if values.get("timestamp") is None:
            return False  # live values without a time stamp may repeat for real
        if data in self._recent:
            return True
        self._recent[data] = None
        if len(self._recent) > _RECENT_FRAMES:
            self._recent.popitem(last=False)
        return False

    async def _fetch_stored_records(self, connection: BleConnection) -> None:
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[_racp.RacpResponse] = loop.create_future()

        def on_response(data: bytes) -> None:
            try:
                response = _racp.parse_response(data)
            except BleDecodeError as error:
                log.warning("ble %s: bad RACP response: %s", self.address, error)
                return
            if not finished.done():
                finished.set_result(response)

        await connection.subscribe(_racp.UUID, on_response)
        last = self._cursor.last_sequence(self.address)
        if last is None:
            request = _racp.report_all_records()
        else:
            request = _racp.report_records_from(min(last + 1, _MAX_SEQUENCE))
        await connection.write(_racp.UUID, request)
        # The transfer ends with the control point's answer, or with a lost link.
        link_lost = asyncio.ensure_future(connection.wait_disconnected())
        try:
            await asyncio.wait(
                (finished, link_lost),
                timeout=self._racp_timeout_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            link_lost.cancel()
        if not finished.done():
            finished.cancel()
            raise BleLinkError(f"{self.address}: stored-record transfer did not finish")
        response = finished.result()
        if not response.finished_normally:
            log.warning("ble %s: stored-record transfer ended: %s", self.address, response.code)
