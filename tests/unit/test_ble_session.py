"""Device sessions over an in-memory transport: backoff, RACP, duplicates, bad frames."""

import asyncio
import random
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from edge.ble import (
    DEVICE_KINDS,
    Backoff,
    BleDecodeError,
    BleLinkError,
    DeviceSession,
    MemoryCursor,
    Received,
    find_characteristic,
)
from edge.ble._racp import UUID as RACP_UUID
from edge.ble._racp import parse_response, report_all_records, report_records_from

GLUCOSE = find_characteristic("glucose_measurement")
BP = find_characteristic("blood_pressure_measurement")
CUFF = find_characteristic("intermediate_cuff_pressure")
assert GLUCOSE is not None
assert BP is not None
assert CUFF is not None
STAMP = bytes.fromhex("ea070b17080f1e")


class FakeClock:
    """Epoch 1,800,000,000 s; sleeps are recorded and pass at once."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def now(self) -> float:
        return 1_800_000_000.0

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)


class FakeConnection:
    def __init__(self, address: str, characteristics: set[str]) -> None:
        self.address = address
        self.characteristics = characteristics
        self.handlers: dict[str, Callable[[bytes], None]] = {}
        self.writes: list[bytes] = []
        self.lost = asyncio.Event()
        self.on_write: Callable[[FakeConnection, bytes], None] = lambda _c, _d: None

    def has(self, characteristic_uuid: str) -> bool:
        return characteristic_uuid in self.characteristics

    async def subscribe(self, characteristic_uuid: str, handler: Callable[[bytes], None]) -> None:
        self.handlers[characteristic_uuid] = handler

    async def read(self, characteristic_uuid: str) -> bytes:
        return b""

    async def write(self, characteristic_uuid: str, data: bytes) -> None:
        self.writes.append(data)
        self.on_write(self, data)

    async def wait_disconnected(self) -> None:
        await self.lost.wait()

    def send(self, characteristic_uuid: str, data: bytes) -> None:
        self.handlers[characteristic_uuid](data)


class FakeTransport:
    """Refuses the first *failures* connects, then hands out scripted connections."""

    def __init__(self, characteristics: set[str], failures: int = 0) -> None:
        self.characteristics = characteristics
        self.failures = failures
        self.attempts = 0
        self.connections: list[FakeConnection] = []
        self.on_write: Callable[[FakeConnection, bytes], None] = lambda _c, _d: None
        self.connected = asyncio.Event()

    async def scan(self, *, timeout_s: float, service_uuids: object = ()) -> list[object]:
        return []

    @asynccontextmanager
    async def connect(self, address: str) -> AsyncIterator[FakeConnection]:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise BleLinkError(f"{address}: connect failed")
        connection = FakeConnection(address, self.characteristics)
        connection.on_write = self.on_write
        self.connections.append(connection)
        self.connected.set()
        yield connection


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


@asynccontextmanager
async def running(session: DeviceSession) -> AsyncIterator[None]:
    task = asyncio.create_task(session.run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def bp_frame(systolic: int, hour: int) -> bytes:
    stamp = bytes.fromhex("ea070b17") + bytes([hour, 0, 0])
    return bytes([0x02]) + struct.pack("<HHH", systolic, 80, 95) + stamp


def test_backoff_grows_exponentially_with_jitter_up_to_its_cap() -> None:
    backoff = Backoff(initial_s=1.0, maximum_s=60.0)
    rng = random.Random(7)
    for failures, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0), (50, 60.0)]:
        delays = [backoff.delay(failures, rng) for _ in range(200)]
        assert min(delays) >= ceiling / 2
        assert max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 10  # there is jitter


async def test_failed_connects_back_off_then_the_session_serves() -> None:
    transport = FakeTransport({BP.uuid}, failures=3)
    clock = FakeClock()
    received: list[Received] = []
    changes: list[tuple[bool, str]] = []
    session = DeviceSession(
        transport, "AA:BB", DEVICE_KINDS["blood_pressure"], received.append, clock,
        backoff=Backoff(1.0, 60.0), rng=random.Random(1),
        on_status=lambda online, reason: changes.append((online, reason)),
    )  # fmt: skip
    async with running(session):
        await asyncio.wait_for(transport.connected.wait(), 5)
        await settle()
        transport.connections[0].send(BP.uuid, bp_frame(121, 7))
        transport.connections[0].lost.set()
        await settle()
    assert transport.attempts >= 4
    # Reported once per change, not once per failed attempt.
    assert changes[0] == (False, "AA:BB: connect failed")  # once, not after each attempt
    assert changes[1:4] == [(True, "connected"), (False, "link lost"), (True, "connected")]
    assert 0.5 <= clock.sleeps[0] <= 1.0
    assert 1.0 <= clock.sleeps[1] <= 2.0
    assert 2.0 <= clock.sleeps[2] <= 4.0
    assert [r.measurement.values["systolic_mmhg"] for r in received] == [121]
    assert received[0].received_at_ms == 1_800_000_000_000


async def test_optional_characteristics_are_subscribed_only_when_offered() -> None:
    transport = FakeTransport({BP.uuid})
    session = DeviceSession(
        transport, "AA:BB", DEVICE_KINDS["blood_pressure"], lambda _r: None, FakeClock()
    )
    async with running(session):
        await asyncio.wait_for(transport.connected.wait(), 5)
        await settle()
    assert set(transport.connections[0].handlers) == {BP.uuid}


async def test_repeated_stored_records_are_dropped_but_live_values_are_not() -> None:
    transport = FakeTransport({BP.uuid, CUFF.uuid})
    received: list[Received] = []
    session = DeviceSession(
        transport, "AA:BB", DEVICE_KINDS["blood_pressure"], received.append, FakeClock()
    )
    async with running(session):
        await asyncio.wait_for(transport.connected.wait(), 5)
        await settle()
        connection = transport.connections[0]
        for frame in (bp_frame(120, 7), bp_frame(120, 7), bp_frame(130, 8)):
            connection.send(BP.uuid, frame)
        for _ in range(2):  # the same live cuff pressure twice is two real samples
            connection.send(CUFF.uuid, b"\x00\x90\x00\xff\x07\xff\x07")
    names = [r.measurement.characteristic for r in received]
    assert names.count("blood_pressure_measurement") == 2
    assert names.count("intermediate_cuff_pressure") == 2
    assert session.duplicates_dropped == 1


async def test_bad_frames_are_counted_and_the_session_goes_on() -> None:
    transport = FakeTransport({BP.uuid})
    received: list[Received] = []
    session = DeviceSession(
        transport, "AA:BB", DEVICE_KINDS["blood_pressure"], received.append, FakeClock()
    )
    async with running(session):
        await asyncio.wait_for(transport.connected.wait(), 5)
        await settle()
        transport.connections[0].send(BP.uuid, b"\x02\x78")
        transport.connections[0].send(BP.uuid, bp_frame(118, 9))
    assert session.decode_errors == 1
    assert len(received) == 1


def glucose_frame(sequence: int) -> bytes:
    return b"\x02" + struct.pack("<H", sequence) + STAMP + b"\x5f\xb0\x11"


async def test_glucose_asks_for_all_records_first_and_then_only_newer_ones() -> None:
    transport = FakeTransport({GLUCOSE.uuid, RACP_UUID})
    stored = [1, 2, 3]

    def meter(connection: FakeConnection, request: bytes) -> None:
        first = 1 if request == report_all_records() else struct.unpack_from("<H", request, 3)[0]
        for sequence in stored:
            if sequence >= first:
                connection.send(GLUCOSE.uuid, glucose_frame(sequence))
        connection.send(RACP_UUID, bytes([0x06, 0x00, 0x01, 0x01]))

    transport.on_write = meter
    received: list[Received] = []
    cursor = MemoryCursor()
    session = DeviceSession(
        transport, "AA:BB", DEVICE_KINDS["glucose"], received.append, FakeClock(), cursor=cursor
    )
    async with running(session):
        await asyncio.wait_for(transport.connected.wait(), 5)
        await settle()
        stored.append(4)
        transport.connections[0].lost.set()  # the link drops; the session reconnects
        for _ in range(100):
            await settle()
            if len(transport.connections) == 2 and transport.connections[1].writes:
                break
    assert transport.connections[0].writes == [report_all_records()]
    assert transport.connections[1].writes == [report_records_from(4)]
    assert [r.measurement.values["sequence_number"] for r in received] == [1, 2, 3, 4]
    assert cursor.last_sequence("AA:BB") == 4


async def test_a_transfer_that_never_finishes_ends_the_connection() -> None:
    transport = FakeTransport({GLUCOSE.uuid, RACP_UUID})
    clock = FakeClock()
    session = DeviceSession(
        transport, "AA:BB", DEVICE_KINDS["glucose"], lambda _r: None, clock, racp_timeout_s=0.01
    )
    async with running(session):
        for _ in range(200):
            await asyncio.sleep(0.005)
            if len(transport.connections) >= 2:
                break
    assert len(transport.connections) >= 2  # it gave up and connected again


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("06000101", "success"),
        ("06000106", "no_records_found"),
        ("06000102", "op_code_not_supported"),
        ("06000108", "procedure_not_completed"),
        ("060001ff", "reserved_255"),
    ],
)
def test_racp_response_codes(frame: str, code: str) -> None:
    response = parse_response(bytes.fromhex(frame))
    assert (response.request_op_code, response.code) == (1, code)
    assert response.finished_normally is (code in {"success", "no_records_found"})


def test_racp_number_of_records_and_bad_responses() -> None:
    assert parse_response(bytes.fromhex("05000700")).number_of_records == 7
    for bad in ("", "06", "060001", "0100"):
        with pytest.raises(BleDecodeError):
            parse_response(bytes.fromhex(bad))


def test_racp_requests_follow_the_glucose_service_layout() -> None:
    # op code 1 (report stored records), operator 3 (≥), filter type 1 (sequence number)
    assert report_records_from(0x1234) == bytes.fromhex("0103013412")
    assert report_all_records() == bytes.fromhex("0101")
