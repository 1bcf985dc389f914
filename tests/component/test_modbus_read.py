"""Every profile read against its simulator over Modbus TCP, RTU over TCP and RTU on a pty pair."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from edge.modbus import Link, ModbusBus, RtuOverTcpLink, SerialLink, TcpLink, load_profile
from messages import Reading
from simulators.modbus import ModbusSimServer, NullModem, SimulatedDevice, create_device

NOW = 1_750_000_000.0  # a June weekday, 15:06 JST: the sun is up and the factory is running

# unit → (simulator model, profile)
FLEET = {
    1: ("sdm630", "sdm630"),
    2: ("sdm120", "sdm120"),
    3: ("em24", "em24"),
    4: ("sunspec_inverter", "sunspec"),
    5: ("sunspec_meter", "sunspec"),
    6: ("abb_terra_ac", "abb_terra_ac"),
    7: ("phoenix_charx", "phoenix_charx"),
    8: ("keba_p30", "keba_p30"),
}


class FixedClock:
    def now(self) -> float:
        return NOW

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _fleet() -> dict[int, SimulatedDevice]:
    return {
        unit: create_device(model, now=lambda: NOW, seed=unit) for unit, (model, _) in FLEET.items()
    }


@asynccontextmanager
async def served(transport: str) -> AsyncIterator[tuple[Link, dict[int, SimulatedDevice]]]:
    devices = _fleet()
    if transport == "serial":
        async with (
            NullModem() as cable,
            ModbusSimServer(
                devices, now=lambda: NOW, transport="serial", serial_port=cable.a, baudrate=38400
            ),
        ):
            yield SerialLink(cable.b, baudrate=38400), devices
        return
    async with ModbusSimServer(devices, now=lambda: NOW, transport=transport) as server:
        link: Link = (
            TcpLink("127.0.0.1", server.port)
            if transport == "tcp"
            else RtuOverTcpLink("127.0.0.1", server.port)
        )
        yield link, devices


def expected_of(model: str, device: SimulatedDevice) -> dict[tuple[str, str | None], float]:
    truth = device.truth()
    if model == "sunspec_inverter":
        # the simulator shows production as positive; the canonical sign is positive when
        # consuming (messages/quantities.py), so the engine reports producing as negative
        truth[("active_power_w", None)] = -truth[("active_power_w", None)]
    return truth


def check(readings: list[Reading], expected: dict[tuple[str, str | None], float]) -> None:
    got = {(r.quantity, r.phase): r.value for r in readings}
    missing = sorted(set(expected) - set(got), key=str)
    assert not missing, f"quantities the device shows but the profile does not read: {missing}"
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-6, abs=1e-6), key


@pytest.mark.parametrize("transport", ["tcp", "rtu_over_tcp", "serial"])
async def test_every_profile_reads_what_its_simulator_shows(transport: str) -> None:
    async with (
        served(transport) as (link, devices),
        ModbusBus(link, clock=FixedClock(), timeout_s=1.0) as bus,
    ):
        for unit, (model, profile_name) in FLEET.items():
            device = bus.device(unit, load_profile(profile_name), name=f"{model}-{unit}")
            readings = await device.poll()
            assert all(r.ts == int(NOW * 1000) for r in readings)
            check(readings, expected_of(model, devices[unit]))
        assert bus.is_online(1)


async def test_sunspec_discovery_walks_the_chain_into_a_read_plan() -> None:
    async with served("tcp") as (link, _), ModbusBus(link, clock=FixedClock()) as bus:
        inverter = bus.device(4, load_profile("sunspec"))
        profile = await inverter.discover()
        plan = inverter.plan()
        assert {r.quantity for r in profile.registers} >= {
            "active_power_w",
            "energy_export_wh",
            "dc_power_w",
            "frequency_hz",
        }
        # the inverter model's points and their scale factors fit in one block read
        assert len(plan) == 1
        assert plan[0].address == 40072  # model 103 starts at 40070; its A point at +2
        info = await inverter.read_info()
        assert info["m1_40002_mn"] == "Hinode"
