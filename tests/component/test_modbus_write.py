"""Charger current control against the simulators: applied and read back, or refused unsent."""

import asyncio

import pytest

from edge.modbus import ModbusBus, SetpointRejectedError, TcpLink, load_profile
from simulators.modbus import ModbusSimServer, create_device

NOW = 1_750_000_000.0
CHARGERS = ["abb_terra_ac", "phoenix_charx", "keba_p30"]


class FixedClock:
    def now(self) -> float:
        return NOW

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@pytest.mark.parametrize("model", CHARGERS)
async def test_sixteen_amperes_are_applied_and_read_back(model: str) -> None:
    device = create_device(model, now=lambda: NOW, seed=7)
    async with (
        ModbusSimServer({1: device}, now=lambda: NOW) as server,
        ModbusBus(TcpLink("127.0.0.1", server.port), clock=FixedClock()) as bus,
    ):
        charger = bus.device(1, load_profile(model), name="charger-1")
        assert await charger.write("charge_current_limit_a", 16) == pytest.approx(16.0)
        assert device.charge_point.commanded_limit_a == pytest.approx(16.0)
        readings = {(r.quantity, r.phase): r.value for r in await charger.poll()}
        assert readings[("charge_current_limit_a", None)] == pytest.approx(16.0)
        assert await charger.write("charge_current_limit_a", 0) == pytest.approx(0.0)


@pytest.mark.parametrize("model", CHARGERS)
async def test_three_amperes_are_refused_before_the_wire(model: str) -> None:
    device = create_device(model, now=lambda: NOW, seed=7)
    async with (
        ModbusSimServer({1: device}, now=lambda: NOW) as server,
        ModbusBus(TcpLink("127.0.0.1", server.port), clock=FixedClock()) as bus,
    ):
        charger = bus.device(1, load_profile(model), name="charger-1")
        before = device.charge_point.commanded_limit_a
        sent = bus.requests_sent
        with pytest.raises(SetpointRejectedError, match=r"3 A rejected.*accepts 0 or 6–32 A"):
            await charger.write("charge_current_limit_a", 3)
        with pytest.raises(SetpointRejectedError, match="accepts 0 or 6–32 A"):
            await charger.write("charge_current_limit_a", 40)
        assert bus.requests_sent == sent  # nothing reached the wire
        assert device.charge_point.commanded_limit_a == before


async def test_keba_fail_safe_current_and_timeout_are_programmed() -> None:
    device = create_device("keba_p30", now=lambda: NOW, seed=3)
    async with (
        ModbusSimServer({255 - 8: device}, now=lambda: NOW) as server,
        ModbusBus(TcpLink("127.0.0.1", server.port), clock=FixedClock()) as bus,
    ):
        charger = bus.device(247, load_profile("keba_p30"))
        await charger.configure_fail_safe(timeout_s=30)
        point = device.charge_point
        assert point.failsafe_current_a == pytest.approx(6.0)
        assert point.failsafe_timeout_s == pytest.approx(30.0)
        assert await charger.read_point("fail_safe_timeout_s") == pytest.approx(30.0)


async def test_abb_communication_timeout_is_programmed() -> None:
    device = create_device("abb_terra_ac", now=lambda: NOW, seed=3)
    async with (
        ModbusSimServer({1: device}, now=lambda: NOW) as server,
        ModbusBus(TcpLink("127.0.0.1", server.port), clock=FixedClock()) as bus,
    ):
        await bus.device(1, load_profile("abb_terra_ac")).configure_fail_safe()
        assert device.charge_point.failsafe_timeout_s == pytest.approx(120.0)
