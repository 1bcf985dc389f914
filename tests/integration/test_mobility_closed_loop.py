"""Closed loop: a dispatched route driven by the shuttle simulator, tracked back over MQTT.

dispatch → the route handed to the simulated shuttle's own interface → it drives at walking
speed, writing NMEA at 1 Hz to a pty → the gateway's GNSS tracker for the ``kind: gnss`` device
of its config (pyserial, parser, fix assembler, position batches) → the gateway's durable outbox
and MQTT uplink → a real Mosquitto → the cloud decodes ``position/{vehicle}`` and follows the
route: stops reached, fresh ETAs, waits and ride times.

Simulated time, in lockstep: the simulator writes one epoch, the tracker consumes it, the clock
moves one second. The edge ``Agent`` class does not start GNSS trackers yet, so this test
composes the same parts it uses (config, outbox, uplink) around the tracker.
"""

import asyncio
import contextlib
import queue
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cloud.mobility import (
    DispatchProblem,
    RideRequest,
    RouteProgress,
    ShuttleState,
    TravelModel,
    dispatch,
)
from edge.agent import session_settings
from edge.config import parse_gateway_config
from edge.gnss import gnss_trackers, position_message
from edge.outbox import OutboxLimits, SqliteOutbox
from edge.uplink import Uplink
from messages import Fix, PositionPayload, StatePayload, VehicleState, decode, encode
from messages import topics as t
from simulators.vehicles import NmeaPty, city_roads, encode_epoch, shuttle_at
from tests.support.mosquitto import Mosquitto

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TRAVEL = TravelModel(speed_kmh=5.0, detour_factor=1.3, dwell_s=20.0)


class SimulatedClock:
    """The gateway's clock: the simulator's time, moved by the test one epoch at a time."""

    def __init__(self, start: datetime) -> None:
        self.instant = start

    def now(self) -> float:
        return self.instant.timestamp()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(min(seconds, 0.01))


def gateway_yaml(port: int, outbox: Path, serial: str) -> str:
    return f"""
site: midorigaoka
gateway: gw-depot
broker:
  url: mqtt://127.0.0.1:{port}
outbox:
  path: {outbox}
devices:
  - kind: gnss
    id: shuttle-1
    profile: nmea
    serial: {serial}
"""


async def test_shuttle_follows_its_dispatched_route_and_the_cloud_sees_it(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    roads = city_roads()
    place = {node: (roads.nodes[node].lat, roads.nodes[node].lon) for node in roads.nodes}
    now = T0.timestamp()
    riders = (
        RideRequest("mrs-sato", place["estate-2"], place["bus-stop"], 1, now + 120, now + 1800),
        RideRequest("mr-ito", place["estate-1"], place["bus-stop"], 2, now + 60, now + 1800),
    )
    problem = DispatchProblem(
        now, TRAVEL, (ShuttleState("shuttle-1", place["estate-gate"], 4),), riders
    )
    result = dispatch(problem)
    route = result.routes["shuttle-1"]
    assert len(route.stops) == 4
    assert not result.refusals
    progress = RouteProgress(route, {r.id: r for r in riders}, TRAVEL)

    received: queue.Queue[PositionPayload] = queue.Queue()
    cloud = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="cloud-mobility")
    cloud.on_message = lambda c, u, m: received.put(decode(m.topic, m.payload).payload)
    cloud.connect("127.0.0.1", mosquitto.port)
    cloud.loop_start()
    cloud.subscribe("hinode/v1/+/+/position/+", qos=1)

    shuttle = shuttle_at(roads, "shuttle-1", "estate-gate", capacity=4)
    clock = SimulatedClock(T0)
    boot_id = secrets.token_hex(8)
    appended = 0
    with NmeaPty() as pty:
        config = parse_gateway_config(
            gateway_yaml(mosquitto.port, tmp_path / "outbox.sqlite", pty.port_name)
        )
        (tracker,) = gnss_trackers(
            config,
            clock,
            vehicle_state=lambda _: (
                lambda: VehicleState(
                    kind="shuttle",
                    battery_pct=round(shuttle.battery_pct, 1),
                    door_open=not shuttle.moving,
                    occupancy=shuttle.occupancy,
                )
            ),
        )
        limits = OutboxLimits(max_rows=100_000, max_bytes=100_000_000, max_age_ms=86_400_000)
        async with SqliteOutbox.open(config.outbox.path, limits) as outbox:

            def state(*, online: bool) -> tuple[str, bytes]:
                payload = StatePayload(
                    gateway="gw-depot", boot_id=boot_id, seq=max(outbox.last_seq, 0),
                    sent_at=int(clock.now() * 1000), online=online,
                )  # fmt: skip
                return t.state_topic("midorigaoka", "gw-depot"), encode(payload)

            async def send(fixes: list[Fix], vehicle_state: VehicleState | None) -> None:
                nonlocal appended
                sent_at = int(clock.now() * 1000)
                build = position_message(
                    config, boot_id=boot_id, sent_at=sent_at, vehicle=tracker.vehicle,
                    fixes=fixes, state=vehicle_state,
                )  # fmt: skip
                await outbox.append(build, sent_at)
                appended += 1

            uplink = Uplink(
                session_settings(config),
                outbox=outbox,
                birth=lambda: state(online=True),
                will=lambda: state(online=False),
            )
            tasks = [asyncio.create_task(uplink.run()), asyncio.create_task(tracker.run(send))]
            async with asyncio.timeout(10):
                while not tracker.online:  # pyserial flushes input on open: talk after
                    await asyncio.sleep(0.01)

            async def epoch() -> None:
                """One simulated second: NMEA out of the vehicle, read by the gateway."""
                used = tracker.receiver.stats.sentences
                pty.write(encode_epoch(shuttle.receiver_epoch(clock.instant)))
                async with asyncio.timeout(5):
                    while tracker.receiver.stats.sentences < used + 4:
                        await asyncio.sleep(0.001)
                clock.instant += timedelta(seconds=1)
                shuttle.step(1.0)

            for stop in route.stops:  # the vehicle's own interface takes the route stop by stop
                shuttle.follow([stop.position])
                while shuttle.moving:
                    await epoch()
                while clock.now() < stop.earliest:  # early: wait for the rider
                    await epoch()
                shuttle.occupancy += stop.load
                for _ in range(int(TRAVEL.dwell_s)):  # doors open while they board or alight
                    await epoch()
            for _ in range(8):  # let the last batch go out
                await epoch()
            async with asyncio.timeout(15):
                while received.qsize() < appended:
                    await asyncio.sleep(0.05)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    cloud.loop_stop()

    payloads = [received.get_nowait() for _ in range(received.qsize())]
    assert len(payloads) == appended > 50
    seqs = [payload.seq for payload in payloads]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    for payload in payloads:
        assert payload.boot_id == boot_id
        assert payload.state is not None
        assert payload.state.kind == "shuttle"
        for fix in payload.fixes:
            assert fix.speed_mps <= 6 / 3.6 + 1e-6
            progress.observe((fix.lat, fix.lon), fix.ts / 1000)

    assert progress.finished
    for rider in riders:
        ride = progress.rides[rider.id]
        assert ride.pickup_at is not None
        assert ride.dropoff_at is not None
        assert ride.pickup_at >= rider.earliest_pickup
        assert ride.dropoff_at <= rider.latest_dropoff
        assert ride.wait_s is not None
        assert ride.wait_s >= 0
        assert ride.ride_s is not None
        assert ride.ride_s > 0
        # The simulator drives straight lines; promises assume streets (× 1.3): never late.
        assert ride.dropoff_at <= ride.promised_dropoff + 1
    assert progress.etas == ()
