"""Closed loop: a dispatched route driven by the shuttle simulator, tracked back over MQTT.

dispatch → route handed to the simulated shuttle's own interface → it drives at walking speed
and writes NMEA at 1 Hz to a pty → the gateway's pyserial port, parser and fix assembler →
position batches on ``position/{vehicle}`` through a real Mosquitto → the cloud decodes them
and follows the route: stops reached, fresh ETAs, waits and ride times.

Simulated time: each epoch is one simulated second, written without sleeping. The edge agent
does not publish positions yet, so a plain paho client stands in for its uplink here.
"""

import asyncio
import queue
import secrets
from datetime import UTC, datetime, timedelta

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
from edge.gnss import GnssReceiver, PositionBatcher, SerialNmeaPort, position_payload
from messages import Fix, PositionPayload, Topic, TopicKind, VehicleState, decode, encode
from simulators.vehicles import NmeaPty, city_roads, encode_epoch, shuttle_at
from tests.support.mosquitto import Mosquitto

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TRAVEL = TravelModel(speed_kmh=5.0, detour_factor=1.3)


def client(port: int, name: str) -> mqtt.Client:
    connection = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name)
    connection.connect("127.0.0.1", port)
    connection.loop_start()
    return connection


async def test_shuttle_follows_its_dispatched_route_and_the_cloud_sees_it(
    mosquitto: Mosquitto,
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
    cloud = client(mosquitto.port, "cloud-mobility")
    cloud.on_message = lambda c, u, m: received.put(decode(m.topic, m.payload).payload)
    cloud.subscribe("hinode/v1/+/+/position/+", qos=1)
    edge = client(mosquitto.port, "gw-depot")
    topic = str(Topic("midorigaoka", "gw-depot", TopicKind.POSITION, "shuttle-1"))
    boot_id, seq = secrets.token_hex(8), 0

    shuttle = shuttle_at(roads, "shuttle-1", "estate-gate", capacity=4)
    batcher = PositionBatcher("shuttle-1", interval_ms=5_000)
    clock = T0
    published = 0
    with NmeaPty() as pty:
        async with SerialNmeaPort(pty.port_name, read_timeout_s=1.0) as port:
            receiver = GnssReceiver(port)

            async def epoch() -> None:
                """One simulated second: NMEA out of the vehicle, positions up to the broker."""
                nonlocal clock, seq, published
                pty.write(encode_epoch(shuttle.receiver_epoch(clock)))
                readings = []
                while not readings:
                    line = await port.read_line()
                    assert line is not None
                    readings = receiver.accept(line.decode("latin-1"))
                batcher.add(readings[0], int(clock.timestamp() * 1000))
                if batcher.due(int(clock.timestamp() * 1000)):
                    seq += 1
                    state = VehicleState(
                        kind="shuttle",
                        battery_pct=shuttle.battery_pct,
                        door_open=not shuttle.moving,
                        occupancy=shuttle.occupancy,
                    )
                    payload = position_payload(
                        gateway="gw-depot", boot_id=boot_id, seq=seq,
                        sent_at=int(clock.timestamp() * 1000), vehicle="shuttle-1",
                        fixes=batcher.take(), state=state,
                    )  # fmt: skip
                    edge.publish(topic, encode(payload), qos=1).wait_for_publish(5)
                    published += 1
                clock += timedelta(seconds=1)
                shuttle.step(1.0)

            for stop in route.stops:  # the vehicle's own interface takes the route stop by stop
                shuttle.follow([stop.position])
                while shuttle.moving:
                    await epoch()
                while clock.timestamp() < stop.earliest:  # early: wait for the rider
                    await epoch()
                shuttle.occupancy += stop.load
                await epoch()
            for _ in range(6):  # let the last batch go out
                await epoch()

    fixes: list[Fix] = []
    async with asyncio.timeout(10):
        while received.qsize() < published:
            await asyncio.sleep(0.05)
    payloads = [received.get_nowait() for _ in range(received.qsize())]
    edge.loop_stop()
    cloud.loop_stop()
    assert len(payloads) == published
    assert [p.seq for p in payloads] == list(range(1, published + 1))
    for payload in payloads:
        assert payload.state is not None
        assert payload.state.kind == "shuttle"
        for fix in payload.fixes:
            assert fix.speed_mps <= 6 / 3.6 + 1e-6
            progress.observe((fix.lat, fix.lon), fix.ts / 1000)
            fixes.append(fix)

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
