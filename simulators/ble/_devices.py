"""Simulated medical devices as bumble GATT servers: BP monitor, pulse oximeter, glucose meter.

Each device keeps its measurements until the gateway has them: stored blood-pressure and
spot-check records leave the device only when the gateway confirmed their indication, and
glucose records stay in the meter and are fetched by sequence number through the Record
Access Control Point — as real devices of these profiles do.
"""

import asyncio
import contextlib
import struct
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from bumble import gatt
from bumble.core import BaseBumbleError
from bumble.device import Connection, Device

from simulators.ble._encoding import (
    BloodPressureReading,
    GlucoseRecord,
    SpotCheckReading,
    TemperatureReading,
    WeightReading,
    heart_rate_measurement,
    intermediate_cuff_pressure,
    plx_continuous,
)

_NOTIFY = gatt.Characteristic.Properties.NOTIFY
_INDICATE = gatt.Characteristic.Properties.INDICATE
_READ = gatt.Characteristic.Properties.READ
_WRITE = gatt.Characteristic.Properties.WRITE
_INDICATIONS_ENABLED = 0x02
_LINK_ERRORS = (BaseBumbleError, TimeoutError, ConnectionError)


class SimulatedDevice:
    """A GATT server that the simulated air hosts on its own bumble device."""

    name = "device"
    service_uuid = 0x0000

    def __init__(self) -> None:
        self.device: Device | None = None
        self._tasks: dict[Connection, set[asyncio.Task[None]]] = {}

    def services(self) -> list[gatt.Service]:
        raise NotImplementedError

    def attach(self, device: Device) -> None:
        """Called once the bumble device exists; keeps it for notifications."""
        self.device = device
        device.on(device.EVENT_CONNECTION, self._on_connection)

    def _on_connection(self, connection: Connection) -> None:
        self._tasks[connection] = set()
        connection.on(connection.EVENT_DISCONNECTION, lambda _reason: self._forget(connection))

    def _forget(self, connection: Connection) -> None:
        # A lost link ends whatever was being sent on it; unconfirmed records stay stored.
        for task in self._tasks.pop(connection, set()):
            task.cancel()

    def _spawn(self, connection: Connection, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        tasks = self._tasks.get(connection)
        if tasks is None:
            return
        task = asyncio.get_running_loop().create_task(work())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def stop(self) -> None:
        """Cancel whatever is still being sent (the air is closing)."""
        for connection in list(self._tasks):
            self._forget(connection)

    def connections(self) -> list[Connection]:
        return list(self._tasks)

    async def disconnect_all(self) -> None:
        """Drop every link, as when the device walks out of range."""
        for connection in list(self._tasks):
            with contextlib.suppress(*_LINK_ERRORS):
                await connection.disconnect()


class _StoredIndications:
    """Records sent as indications, each removed only once the gateway confirmed it."""

    def __init__(self, owner: SimulatedDevice, characteristic: gatt.Characteristic[bytes]) -> None:
        self.pending: deque[bytes] = deque()
        self._owner = owner
        self._characteristic = characteristic
        self._wake = asyncio.Event()
        characteristic.on(characteristic.EVENT_SUBSCRIPTION, self._on_subscription)

    def add(self, frame: bytes) -> None:
        self.pending.append(frame)
        self._wake.set()

    def _on_subscription(self, bearer: object, _notify: bool, indicate: bool) -> None:
        if indicate and isinstance(bearer, Connection):
            self._owner._spawn(bearer, lambda: self._deliver(bearer))

    def _subscribed(self, connection: Connection) -> bool:
        device = self._owner.device
        assert device is not None
        cccd = device.gatt_server.subscribers.get(connection, {}).get(self._characteristic.handle)
        return cccd is not None and len(cccd) > 0 and bool(cccd[0] & _INDICATIONS_ENABLED)

    async def _deliver(self, connection: Connection) -> None:
        device = self._owner.device
        assert device is not None
        while self._subscribed(connection):
            if not self.pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            frame = self.pending[0]
            try:
                await device.indicate_subscriber(connection, self._characteristic, frame)
            except _LINK_ERRORS:
                return
            if self.pending and self.pending[0] == frame:
                self.pending.popleft()  # confirmed: the gateway has it


class SimulatedBloodPressureMonitor(SimulatedDevice):
    """Blood Pressure Service (0x1810) with stored measurements and a live cuff pressure."""

    name = "Hinode-BP"
    service_uuid = 0x1810

    def __init__(self) -> None:
        super().__init__()
        self._measurement = gatt.Characteristic(
            "2A35", _INDICATE, gatt.Characteristic.READABLE, b""
        )
        self._cuff = gatt.Characteristic("2A36", _NOTIFY, gatt.Characteristic.READABLE, b"")
        # Blood Pressure Feature: irregular pulse and body movement detection, multiple bonds
        self._feature = gatt.Characteristic(
            "2A49", _READ, gatt.Characteristic.READABLE, struct.pack("<H", 0x0001 | 0x0004 | 0x0020)
        )
        self.stored = _StoredIndications(self, self._measurement)

    def services(self) -> list[gatt.Service]:
        return [gatt.Service("1810", [self._measurement, self._cuff, self._feature])]

    def measure(self, reading: BloodPressureReading) -> None:
        """A measurement finished: store it; it is sent as soon as a gateway listens."""
        self.stored.add(reading.encode())

    async def inflate(self, pressure_mmhg: int) -> None:
        assert self.device is not None
        await self.device.notify_subscribers(self._cuff, intermediate_cuff_pressure(pressure_mmhg))


class SimulatedPulseOximeter(SimulatedDevice):
    """Pulse Oximeter Service (0x1822): stored spot checks and a continuous stream."""

    name = "Hinode-PLX"
    service_uuid = 0x1822

    def __init__(self) -> None:
        super().__init__()
        self._spot = gatt.Characteristic("2A5E", _INDICATE, gatt.Characteristic.READABLE, b"")
        self._continuous = gatt.Characteristic("2A5F", _NOTIFY, gatt.Characteristic.READABLE, b"")
        # PLX Features: measurement storage for spot-check supported (bit 2)
        self._features = gatt.Characteristic(
            "2A60", _READ, gatt.Characteristic.READABLE, struct.pack("<H", 0x0004)
        )
        self.stored = _StoredIndications(self, self._spot)

    def services(self) -> list[gatt.Service]:
        return [gatt.Service("1822", [self._spot, self._continuous, self._features])]

    def spot_check(self, reading: SpotCheckReading) -> None:
        self.stored.add(reading.encode())

    async def stream(self, spo2: int, pulse_rate: int) -> None:
        assert self.device is not None
        await self.device.notify_subscribers(self._continuous, plx_continuous(spo2, pulse_rate))


class SimulatedThermometer(SimulatedDevice):
    """Health Thermometer Service (0x1809) with stored, indicated readings."""

    name = "Hinode-THERMO"
    service_uuid = 0x1809

    def __init__(self) -> None:
        super().__init__()
        self._measurement = gatt.Characteristic(
            "2A1C", _INDICATE, gatt.Characteristic.READABLE, b""
        )
        self._type = gatt.Characteristic("2A1D", _READ, gatt.Characteristic.READABLE, b"\x06")
        self.stored = _StoredIndications(self, self._measurement)

    def services(self) -> list[gatt.Service]:
        return [gatt.Service("1809", [self._measurement, self._type])]

    def measure(self, reading: TemperatureReading) -> None:
        self.stored.add(reading.encode())


class SimulatedWeightScale(SimulatedDevice):
    """Weight Scale Service (0x181D) with stored, indicated weighings."""

    name = "Hinode-SCALE"
    service_uuid = 0x181D

    def __init__(self) -> None:
        super().__init__()
        self._measurement = gatt.Characteristic(
            "2A9D", _INDICATE, gatt.Characteristic.READABLE, b""
        )
        # Weight Scale Feature: time stamp, multiple users, BMI; 0.005 kg and 1 mm resolution
        feature = 0x01 | 0x02 | 0x04 | (1 << 3) | (1 << 7)
        self._feature = gatt.Characteristic(
            "2A9E", _READ, gatt.Characteristic.READABLE, struct.pack("<I", feature)
        )
        self.stored = _StoredIndications(self, self._measurement)

    def services(self) -> list[gatt.Service]:
        return [gatt.Service("181D", [self._measurement, self._feature])]

    def weigh(self, reading: WeightReading) -> None:
        self.stored.add(reading.encode())


class SimulatedHeartRateSensor(SimulatedDevice):
    """Heart Rate Service (0x180D): live notifications, nothing stored."""

    name = "Hinode-HR"
    service_uuid = 0x180D

    def __init__(self) -> None:
        super().__init__()
        self._measurement = gatt.Characteristic("2A37", _NOTIFY, gatt.Characteristic.READABLE, b"")
        self._location = gatt.Characteristic(
            "2A38",
            _READ,
            gatt.Characteristic.READABLE,
            b"\x02",  # wrist
        )

    def services(self) -> list[gatt.Service]:
        return [gatt.Service("180D", [self._measurement, self._location])]

    async def beat(self, bpm: int, rr_intervals_s: tuple[float, ...] = ()) -> None:
        assert self.device is not None
        frame = heart_rate_measurement(bpm, rr_intervals_s)
        await self.device.notify_subscribers(self._measurement, frame)


# Record Access Control Point op codes, operators and response codes (Glucose Service §3.9)
_REPORT_STORED_RECORDS = 0x01
_RESPONSE_CODE = 0x06
_ALL_RECORDS = 0x01
_GREATER_OR_EQUAL = 0x03
_SEQUENCE_FILTER = 0x01
_SUCCESS = 0x01
_OP_CODE_NOT_SUPPORTED = 0x02
_OPERATOR_NOT_SUPPORTED = 0x04
_INVALID_OPERAND = 0x05
_NO_RECORDS_FOUND = 0x06


class SimulatedGlucoseMeter(SimulatedDevice):
    """Glucose Service (0x1808): records stay in the meter; the gateway asks through the RACP."""

    name = "Hinode-GLU"
    service_uuid = 0x1808

    def __init__(self) -> None:
        super().__init__()
        self.records: list[GlucoseRecord] = []
        #: Fault injection: drop the link after sending this many records of one transfer.
        self.drop_link_after_records: int | None = None
        self._measurement = gatt.Characteristic("2A18", _NOTIFY, gatt.Characteristic.READABLE, b"")
        self._context = gatt.Characteristic("2A34", _NOTIFY, gatt.Characteristic.READABLE, b"")
        # Glucose Feature: low battery, sensor malfunction detection
        self._feature = gatt.Characteristic(
            "2A51", _READ, gatt.Characteristic.READABLE, struct.pack("<H", 0x0003)
        )
        self._racp: gatt.Characteristic[bytes] = gatt.Characteristic(
            "2A52",
            _WRITE | _INDICATE,
            gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue[bytes](write=self._on_racp_write),
        )

    def services(self) -> list[gatt.Service]:
        chars = [self._measurement, self._context, self._feature, self._racp]
        return [gatt.Service("1808", chars)]

    def record(self, mg_per_dl: int, taken_at: datetime, meal: int | None = None) -> GlucoseRecord:
        """A test finished: keep it under the next sequence number."""
        sequence = self.records[-1].sequence_number + 1 if self.records else 1
        stored = GlucoseRecord(sequence, mg_per_dl, taken_at, meal)
        self.records.append(stored)
        return stored

    def _on_racp_write(self, connection: Connection, value: bytes) -> None:
        self._spawn(connection, lambda: self._answer(connection, bytes(value)))

    async def _answer(self, connection: Connection, request: bytes) -> None:
        device = self.device
        assert device is not None
        op_code = request[0] if request else 0
        if op_code != _REPORT_STORED_RECORDS:
            await self._respond(connection, op_code, _OP_CODE_NOT_SUPPORTED)
            return
        operator = request[1] if len(request) > 1 else 0
        if operator == _ALL_RECORDS:
            selected = list(self.records)
        elif operator == _GREATER_OR_EQUAL:
            if len(request) != 5 or request[2] != _SEQUENCE_FILTER:
                await self._respond(connection, op_code, _INVALID_OPERAND)
                return
            (first,) = struct.unpack_from("<H", request, 3)
            selected = [r for r in self.records if r.sequence_number >= first]
        else:
            await self._respond(connection, op_code, _OPERATOR_NOT_SUPPORTED)
            return
        if not selected:
            await self._respond(connection, op_code, _NO_RECORDS_FOUND)
            return
        for sent, stored in enumerate(selected):
            if self.drop_link_after_records is not None and sent == self.drop_link_after_records:
                self.drop_link_after_records = None
                await connection.disconnect()
                return
            await device.notify_subscriber(connection, self._measurement, stored.encode())
            if stored.meal is not None:
                await device.notify_subscriber(connection, self._context, stored.encode_context())
        await self._respond(connection, op_code, _SUCCESS)

    async def _respond(self, connection: Connection, request_op_code: int, code: int) -> None:
        assert self.device is not None
        response = bytes([_RESPONSE_CODE, 0x00, request_op_code, code])
        with contextlib.suppress(*_LINK_ERRORS):
            await self.device.indicate_subscriber(connection, self._racp, response)
