"""Silent, failing and garbling units on a shared bus: marked offline once, others still served."""

import asyncio
import time

import pytest

from edge.modbus import (
    Backoff,
    DeviceEvent,
    Link,
    ModbusBus,
    ModbusDevice,
    RtuOverTcpLink,
    TcpLink,
    load_profile,
)
from messages import HinodeError, Reading
from simulators.modbus import ModbusSimServer, create_device
from tests.support.ports import free_port

NOW = 1_750_000_000.0
TIMEOUT_S = 0.25
HEALTHY = (1, 2, 3)
FAULTY = 9


class FixedClock:
    def now(self) -> float:
        return NOW

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _devices() -> dict[int, object]:
    devices = {unit: create_device("sdm630", now=lambda: NOW, seed=unit) for unit in HEALTHY}
    devices[FAULTY] = create_device("em24", now=lambda: NOW, seed=FAULTY)
    return devices


async def _cycle(devices: list[ModbusDevice]) -> tuple[float, list[list[Reading] | BaseException]]:
    """One poll of every device, as the agent runs it (concurrently); its duration in s."""
    started = time.perf_counter()
    results = await asyncio.gather(*(d.poll() for d in devices), return_exceptions=True)
    return time.perf_counter() - started, list(results)


def _bus(link: Link, events: list[DeviceEvent]) -> ModbusBus:
    return ModbusBus(
        link,
        clock=FixedClock(),
        timeout_s=TIMEOUT_S,
        backoff=Backoff(initial_s=30.0, maximum_s=120.0),
        on_event=events.append,
    )


async def test_a_silent_unit_delays_the_cycle_by_one_timeout_once_then_is_backed_off() -> None:
    events: list[DeviceEvent] = []
    async with (
        ModbusSimServer(_devices(), now=lambda: NOW) as server,
        _bus(TcpLink("127.0.0.1", server.port), events) as bus,
    ):
        meters = [bus.device(u, load_profile("sdm630"), name=f"meter-{u}") for u in HEALTHY]
        silent = bus.device(FAULTY, load_profile("em24"), name="meter-9")
        fleet = [*meters, silent]
        await _cycle(fleet)
        baseline = min([(await _cycle(fleet))[0] for _ in range(3)])

        server.silence(FAULTY)
        first, results = await _cycle(fleet)
        second, results_after = await _cycle(fleet)
        third, _ = await _cycle(fleet)

        assert first <= baseline + TIMEOUT_S + 0.2, (first, baseline)
        assert first >= TIMEOUT_S * 0.9  # it did wait for the silent unit, once
        # backed off: the next cycles do not wait for it at all (well under one timeout)
        assert max(second, third) <= baseline + TIMEOUT_S / 2, (second, third, baseline)
        for outcome in (results, results_after):
            assert all(isinstance(r, list) and r for r in outcome[:3])  # the others were served
            assert isinstance(outcome[3], HinodeError)
    assert [(e.kind, e.device) for e in events] == [("device_offline", "meter-9")]
    assert "response within" in events[0].reason


@pytest.mark.parametrize(
    ("transport", "fault", "reason"),
    [
        ("tcp", "exception", "exception response 4"),
        ("tcp", "garbage", "response"),
        ("rtu_over_tcp", "garbage", "response"),
    ],
)
async def test_a_misbehaving_unit_goes_offline_with_its_reason_and_comes_back(
    transport: str, fault: str, reason: str
) -> None:
    events: list[DeviceEvent] = []
    async with ModbusSimServer(_devices(), now=lambda: NOW, transport=transport) as server:
        link: Link = (
            TcpLink("127.0.0.1", server.port)
            if transport == "tcp"
            else RtuOverTcpLink("127.0.0.1", server.port)
        )
        bus = ModbusBus(
            link,
            clock=FixedClock(),
            timeout_s=TIMEOUT_S,
            backoff=Backoff(initial_s=0.3, maximum_s=1.0, jitter=0.0),
            on_event=events.append,
        )
        async with bus:
            meters = [bus.device(u, load_profile("sdm630")) for u in HEALTHY]
            faulty = bus.device(FAULTY, load_profile("em24"), name="meter-9")
            server.inject(FAULTY, fault)
            for _ in range(3):
                _, results = await _cycle([*meters, faulty])
                assert all(isinstance(r, list) and r for r in results[:3])
                assert isinstance(results[3], HinodeError)
            assert bus.is_online(FAULTY) is False
            assert reason in bus.offline_reason(FAULTY)

            server.inject(FAULTY, None)
            await asyncio.sleep(0.4)  # the backoff expires
            assert await faulty.poll()
            assert bus.is_online(FAULTY) is True
    kinds = [(e.kind, e.device) for e in events]
    assert kinds == [("device_offline", "meter-9"), ("device_online", "meter-9")]
    assert reason in events[0].reason


async def test_a_lost_connection_marks_the_device_offline_and_it_comes_back() -> None:
    events: list[DeviceEvent] = []
    meter = create_device("sdm120", now=lambda: NOW, seed=1)
    port = free_port()
    bus = ModbusBus(
        TcpLink("127.0.0.1", port),
        clock=FixedClock(),
        timeout_s=TIMEOUT_S,
        backoff=Backoff(initial_s=0.2, maximum_s=0.4, jitter=0.0),
        on_event=events.append,
    )
    async with bus:
        device = bus.device(1, load_profile("sdm120"), name="meter-1")
        async with ModbusSimServer({1: meter}, now=lambda: NOW, port=port):
            assert await device.poll()
        for _ in range(3):  # the server is gone: refused, then backed off; nothing crashes
            with pytest.raises(HinodeError):
                await device.poll()
            await asyncio.sleep(0.1)
        async with ModbusSimServer({1: meter}, now=lambda: NOW, port=port):
            await asyncio.sleep(0.5)
            assert await device.poll()
    assert [e.kind for e in events] == ["device_offline", "device_online"]
