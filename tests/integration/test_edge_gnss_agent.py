"""The edge agent drives a GNSS receiver: NMEA on a pty → ``position/{vehicle}`` on Mosquitto.

The real ``Agent`` opens the pty of a simulated shuttle as its ``kind: gnss`` device's serial
port; valid fixes go out, in seq order, through the durable outbox; epochs without a fix and
sentences with a bad checksum never become positions.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge import Agent
from edge.config import GnssDevice, parse_gateway_config
from messages import PositionPayload, VehicleState, WallClock
from simulators.vehicles import NmeaPty, ReceiverEpoch, city_roads, encode_epoch, shuttle_at
from tests.support.mosquitto import Mosquitto
from tests.support.recorder import Recorder

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)


class Cloud(Recorder):
    """What a collector receives, raw."""

    def positions(self) -> list[tuple[str, PositionPayload]]:
        return self.decoded("position", PositionPayload)


@pytest.fixture
def cloud(mosquitto: Mosquitto) -> Iterator[Cloud]:
    subscriber = Cloud(mosquitto.port, client_id="mobility-cloud")
    time.sleep(0.3)
    yield subscriber
    subscriber.close()


@asynccontextmanager
async def running(agent: Agent) -> AsyncIterator[Agent]:
    task = asyncio.create_task(agent.run())
    try:
        yield agent
    finally:
        agent.stop()
        async with asyncio.timeout(10):
            await task


async def wait_until(condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.02)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


async def test_valid_fixes_of_a_simulated_shuttle_are_published_and_invalid_ones_are_not(
    cloud: Cloud, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    roads = city_roads()
    shuttle = shuttle_at(roads, "shuttle-1", "estate-gate", capacity=4)
    shuttle.drive_to(roads, "estate-gate", "bus-stop")

    def shuttle_state(device: GnssDevice) -> Callable[[], VehicleState | None]:
        assert device.vehicle == "shuttle"
        return lambda: VehicleState(
            kind=device.vehicle or "shuttle", battery_pct=87.5, door_open=False, occupancy=2
        )

    with NmeaPty() as pty:
        config = parse_gateway_config(f"""
site: midorigaoka
gateway: gw-depot
broker:
  url: mqtt://127.0.0.1:{mosquitto.port}
outbox:
  path: {tmp_path / "outbox.sqlite"}
devices:
  - kind: gnss
    id: shuttle-1
    profile: nmea
    serial: {pty.port_name}
    vehicle: shuttle
    publish_interval_s: 1
""")
        agent = Agent(
            config, clock=WallClock(), vehicle_state=shuttle_state, outbox_synchronous="NORMAL"
        )
        valid: list[int] = []
        invalid: list[int] = []
        async with running(agent):
            # pyserial flushes the input when it opens the port: talk once it has.
            await wait_until(lambda: agent.stats.device_online.get("shuttle-1") is True)
            for second in range(15):
                utc = START + timedelta(seconds=second)
                if 6 <= second < 9:  # under a bridge: the receiver has no fix
                    epoch = ReceiverEpoch(utc, 0.0, 0.0, 0.0, 0.0, has_fix=False)
                    invalid.append(ms(utc))
                    pty.write(encode_epoch(epoch))
                elif second == 11:  # a corrupted line: a position, but a wrong checksum
                    lines = encode_epoch(shuttle.receiver_epoch(utc))
                    pty.write([line.replace("*", "*0") for line in lines])
                    invalid.append(ms(utc))
                else:
                    pty.write(encode_epoch(shuttle.receiver_epoch(utc)))
                    valid.append(ms(utc))
                shuttle.step(1.0)
                await asyncio.sleep(0.15)
            await wait_until(lambda: sum(len(p.fixes) for _, p in cloud.positions()) >= 11)
            await asyncio.sleep(0.3)
            last_fix = agent.stats.last_fix.get("shuttle-1")

    positions = cloud.positions()
    assert len(positions) >= 2  # batched by the second, not one message at the end
    assert {topic for topic, _ in positions} == {
        "hinode/v1/midorigaoka/gw-depot/position/shuttle-1"
    }
    fixes = [fix for _, payload in positions for fix in payload.fixes]
    assert [fix.ts for fix in fixes] == valid
    assert not {fix.ts for fix in fixes} & set(invalid)
    assert all(fix.fix_quality == "gps" and fix.speed_mps <= 6 / 3.6 for fix in fixes)
    assert all((fix.lat, fix.lon) != (0.0, 0.0) for fix in fixes)
    seqs = [payload.seq for _, payload in positions]
    assert seqs == sorted(set(seqs))
    for _, payload in positions:
        assert payload.boot_id == agent.boot_id
        assert payload.vehicle == "shuttle-1"
        assert payload.state == VehicleState(
            kind="shuttle", battery_pct=87.5, door_open=False, occupancy=2
        )
    assert last_fix == fixes[-1]
    assert agent.stats.fixes_received == len(valid)
    assert {"kind": "device_online", "device": "shuttle-1"}.items() <= cloud.events()[0].items()


async def test_a_missing_receiver_is_reported_offline_once(
    cloud: Cloud, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    config = parse_gateway_config(f"""
site: midorigaoka
gateway: gw-depot
broker:
  url: mqtt://127.0.0.1:{mosquitto.port}
outbox:
  path: {tmp_path / "outbox.sqlite"}
devices:
  - {{kind: gnss, id: scooter-7, profile: nmea, serial: {tmp_path / "ttyACM9"}, vehicle: scooter}}
""")
    agent = Agent(config, clock=WallClock(), outbox_synchronous="NORMAL")
    async with running(agent):
        await wait_until(lambda: agent.stats.device_online.get("scooter-7") is False)
        await wait_until(lambda: bool(cloud.events()))
        await asyncio.sleep(2.5)  # more attempts to open it, with backoff, meanwhile
    events = cloud.events()
    assert [(e["kind"], e["device"]) for e in events] == [("device_offline", "scooter-7")]
    assert "ttyACM9" in str(events[0]["reason"])
    assert cloud.positions() == []
