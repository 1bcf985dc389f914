"""The bus owner with an in-memory transport: priorities, timeouts, backoff, events once."""

import asyncio
import itertools
import random
from collections.abc import Sequence

import pytest

from edge.modbus import (
    Backoff,
    DeviceEvent,
    DeviceUnavailableError,
    ModbusBus,
    SerialLink,
    SetpointRejectedError,
    TcpLink,
    load_profile,
)
from edge.modbus._planner import Table
from messages import DeviceError, ScaledClock, TransportError

TIMEOUT_S = 0.05


class FakeTransport:
    """Units answer with zeros, stay silent, or answer with an exception response."""

    def __init__(self) -> None:
        self.behaviour: dict[int, str] = {}
        self.log: list[tuple[str, int, int]] = []
        self.registers: dict[tuple[int, int], int] = {}

    async def connect(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def read(self, unit: int, table: Table, address: int, count: int) -> list[int]:
        self.log.append(("read", unit, address))
        await self._behave(unit)
        return [self.registers.get((unit, address + i), 0) for i in range(count)]

    async def write(self, unit: int, address: int, words: Sequence[int], *, single: bool) -> None:
        self.log.append(("write", unit, address))
        await self._behave(unit)
        for offset, word in enumerate(words):
            self.registers[(unit, address + offset)] = word

    async def _behave(self, unit: int) -> None:
        match self.behaviour.get(unit, "ok"):
            case "silent":
                await asyncio.sleep(TIMEOUT_S)
                raise TransportError(f"unit {unit}: no response within {TIMEOUT_S} s")
            case "exception":
                raise DeviceError(f"unit {unit}: exception response 2 (illegal data address)")
            case _:
                await asyncio.sleep(0.001)


def _bus(transport: FakeTransport, events: list[DeviceEvent], initial_s: float = 10.0) -> ModbusBus:
    return ModbusBus(
        TcpLink("192.0.2.1"),
        clock=ScaledClock(start=1_700_000_000.0),
        timeout_s=TIMEOUT_S,
        backoff=Backoff(initial_s=initial_s, maximum_s=60.0, jitter=0.1),
        on_event=events.append,
        transport=transport,
        rng=random.Random(4),
    )


async def test_a_silent_unit_costs_one_timeout_then_is_skipped() -> None:
    transport, events = FakeTransport(), []
    transport.behaviour[2] = "silent"
    profile = load_profile("sdm630")
    async with _bus(transport, events) as bus:
        healthy, silent = bus.device(1, profile), bus.device(2, profile, name="meter-2")
        with pytest.raises(TransportError, match="no response"):
            await silent.poll()
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(DeviceUnavailableError, match="meter-2 offline"):
            await silent.poll()
        assert loop.time() - started < TIMEOUT_S / 2  # skipped without touching the wire
        readings = await healthy.poll()
        assert readings
    assert [e.kind for e in events] == ["device_offline"]
    assert events[0].device == "meter-2"
    assert "no response" in events[0].reason
    assert events[0].ts >= 1_700_000_000_000
    silent_reads = [entry for entry in transport.log if entry[1] == 2]
    assert len(silent_reads) == 1  # the first block failed; the rest of that poll was skipped


async def test_offline_and_online_are_each_reported_once() -> None:
    transport, events = FakeTransport(), []
    transport.behaviour[3] = "exception"
    async with _bus(transport, events, initial_s=0.01) as bus:
        meter = bus.device(3, load_profile("sdm120"), name="meter-3")
        for _ in range(3):
            with pytest.raises((DeviceError, DeviceUnavailableError)):
                await meter.poll()
            await asyncio.sleep(0.03)
        assert bus.is_online(3) is False
        assert "exception response 2" in bus.offline_reason(3)
        transport.behaviour[3] = "ok"
        await asyncio.sleep(0.2)  # let the backoff expire
        for _ in range(3):
            await meter.poll()
        assert bus.is_online(3) is True
    assert [e.kind for e in events] == ["device_offline", "device_online"]
    assert "illegal data address" in events[0].reason


async def test_writes_jump_ahead_of_queued_polls() -> None:
    transport, events = FakeTransport(), []
    async with _bus(transport, events) as bus:
        meters = [bus.device(unit, load_profile("sdm120")) for unit in range(10, 16)]
        charger = bus.device(1, load_profile("keba_p30"))
        polls = [asyncio.create_task(meter.poll()) for meter in meters]
        await asyncio.sleep(0)  # the polls are queued (one is in flight)
        await charger.write("charge_current_limit_a", 16, read_back=False)
        await asyncio.gather(*polls)
    first_write = transport.log.index(("write", 1, 5004))
    assert first_write <= 1, transport.log[: first_write + 1]


async def test_a_rejected_setpoint_never_reaches_the_wire() -> None:
    transport, events = FakeTransport(), []
    async with _bus(transport, events) as bus:
        charger = bus.device(1, load_profile("keba_p30"))
        with pytest.raises(SetpointRejectedError, match="accepts 0 or 6–32 A"):
            await charger.write("charge_current_limit_a", 3)
    assert not [entry for entry in transport.log if entry[0] == "write"]


async def test_a_write_is_read_back_through_the_profile() -> None:
    transport, events = FakeTransport(), []
    async with _bus(transport, events) as bus:
        charger = bus.device(1, load_profile("keba_p30"))
        # the wallbox reports its applied limit in 1100 (mA, u32)
        transport.registers[(1, 1101)] = 16_000
        assert await charger.write("charge_current_limit_a", 16) == pytest.approx(16.0)
    assert transport.registers[(1, 5004)] == 16_000


async def test_the_bus_refuses_requests_when_not_open() -> None:
    bus = ModbusBus(TcpLink("192.0.2.1"), transport=FakeTransport())
    with pytest.raises(TransportError, match="not open"):
        await bus.read(1, "holding", 0, 1)


def test_the_rtu_inter_frame_gap_is_three_and_a_half_characters() -> None:
    assert SerialLink("/dev/ttyUSB0", 9600).inter_frame_gap_s() == pytest.approx(3.5 * 10 / 9600)
    assert SerialLink("/dev/ttyUSB0", 19200, "E").inter_frame_gap_s() == pytest.approx(
        3.5 * 11 / 19200
    )
    assert SerialLink("/dev/ttyUSB0", 115200).inter_frame_gap_s() == pytest.approx(0.00175)


class TimedTransport(FakeTransport):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[tuple[float, float]] = []

    async def read(self, unit: int, table: Table, address: int, count: int) -> list[int]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        words = await super().read(unit, table, address, count)
        self.frames.append((started, loop.time()))
        return words


async def test_a_serial_bus_keeps_the_inter_frame_gap_between_requests() -> None:
    transport = TimedTransport()
    link = SerialLink("/dev/ttyUSB0", 1200)  # a slow line: the gap is 29 ms
    async with ModbusBus(link, transport=transport) as bus:
        meters = [bus.device(unit, load_profile("sdm120")) for unit in (1, 2, 3)]
        await asyncio.gather(*(meter.poll() for meter in meters))
    gaps = [nxt[0] - prev[1] for prev, nxt in itertools.pairwise(transport.frames)]
    assert len(gaps) == 5
    assert min(gaps) >= link.inter_frame_gap_s() * 0.95
