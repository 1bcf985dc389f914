"""The shuttle service over MQTT: a ride request becomes a route command, the shuttle drives it.

ride request → ``ShuttleServiceLoop`` → ``cmd/{vehicle}`` (kind route) on a real Mosquitto →
the real edge ``Agent`` hands it to the simulated shuttle's own interface (``vehicle_routes=``)
and answers accepted, applied → the shuttle drives the route at walking speed, writing NMEA at
1 Hz to a pty that the agent reads as its ``kind: gnss`` device → ``position/{vehicle}`` → the
service serves the pickup and the drop-off and reports the wait and the ride time.

Simulated time runs 20 times faster than real time, for the gateway, the shuttle and the cloud.
"""

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cloud.mobility import (
    Insertion,
    MobilityServiceConfig,
    RideRequest,
    ServiceShuttle,
    ShuttleServiceLoop,
)
from edge import Agent
from edge.commands import RouteTaker
from edge.config import GnssDevice, parse_gateway_config
from hinode.energy.charging import PahoCommands
from messages import CmdResultPayload, ScaledClock, VehicleState, decode
from messages.models import Route
from simulators.vehicles import (
    NmeaPty,
    ShuttleController,
    ShuttleStop,
    city_roads,
    encode_epoch,
    shuttle_at,
)
from tests.support.mosquitto import Mosquitto

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC).timestamp()
SPEED = 20.0
DWELL_S = 20.0


class RouteFollowingShuttle:
    """A simulated shuttle whose own controller drives whatever route it was last handed."""

    def __init__(self, clock: ScaledClock) -> None:
        vehicle = shuttle_at(city_roads(), "shuttle-1", "slope-1", capacity=4)
        self.controller = ShuttleController(vehicle, dwell_s=DWELL_S)
        self.clock = clock
        self.routes: list[Route] = []

    async def take(self, route: Route) -> None:
        self.routes.append(route)
        self.controller.take(
            [
                ShuttleStop(stop.position, stop.eta / 1000, stop.request,
                            1 if stop.action == "pickup" else -1)
                for stop in route.stops
            ]
        )  # fmt: skip

    def state(self) -> VehicleState:
        return VehicleState.model_validate(self.controller.vehicle.interface_state())

    async def drive(self, pty: NmeaPty) -> None:
        """One NMEA epoch per simulated second, on the second."""
        vehicle = self.controller.vehicle
        tick = float(int(self.clock.now()) + 1)
        while True:
            await self.clock.sleep(tick - self.clock.now())
            utc = datetime.fromtimestamp(tick, UTC)
            pty.write(encode_epoch(vehicle.receiver_epoch(utc)))
            tick += 1
            self.controller.step(1.0, tick)


class CmdResults:
    """Every cmd-result the gateway publishes."""

    def __init__(self, port: int) -> None:
        self.results: list[CmdResultPayload] = []
        self._lock = threading.Lock()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="cmd-results")
        self._client.on_message = self._on_message
        self._client.on_connect = lambda c, u, f, rc, p: c.subscribe("hinode/+/+/+/cmd-result/+", 1)
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        payload = decode(message.topic, bytes(message.payload)).payload
        assert isinstance(payload, CmdResultPayload)
        with self._lock:
            self.results.append(payload)

    def of(self, command_id: str) -> list[str]:
        with self._lock:
            return [r.status for r in self.results if r.command_id == command_id]

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


async def wait_until(condition: Callable[[], bool], timeout_s: float) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.02)


@asynccontextmanager
async def running(*tasks: "asyncio.Task[None]") -> AsyncIterator[None]:
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_a_ride_request_is_driven_by_the_shuttle_it_was_sent_to(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    roads = city_roads()
    place = {node: (roads.nodes[node].lat, roads.nodes[node].lon) for node in roads.nodes}
    clock = ScaledClock(speed=SPEED, start=T0)
    shuttle = RouteFollowingShuttle(clock)
    config = MobilityServiceConfig(
        site="midorigaoka",
        speed_kmh=5.0,
        dwell_s=DWELL_S,
        command_ttl_s=60,
        shuttles=[ServiceShuttle(id="shuttle-1", gateway="gw-depot", position=place["slope-1"],
                                 capacity=4)],
    )  # fmt: skip
    commands = PahoCommands(mosquitto.url, client_id="mobility-service-cmd")
    results = CmdResults(mosquitto.port)
    mobility = ShuttleServiceLoop(config, commands, now=clock.now())

    def routes(device: GnssDevice) -> RouteTaker | None:
        return shuttle.take if device.vehicle == "shuttle" else None

    try:
        with NmeaPty() as pty:
            gateway = parse_gateway_config(f"""
site: midorigaoka
gateway: gw-depot
broker:
  url: {mosquitto.url}
outbox:
  path: {tmp_path / "outbox.sqlite"}
devices:
  - {{kind: gnss, id: shuttle-1, profile: nmea, serial: {pty.port_name}, vehicle: shuttle,
      publish_interval_s: 1}}
""")
            agent = Agent(
                gateway,
                clock=clock,
                vehicle_state=lambda _: shuttle.state,
                vehicle_routes=routes,
                outbox_synchronous="NORMAL",
            )
            edge = asyncio.create_task(agent.run())
            cloud = asyncio.create_task(mobility.serve(mosquitto.url, clock))
            async with running(edge, cloud):
                # pyserial flushes the input when it opens the port: talk once it has.
                await wait_until(lambda: agent.stats.device_online.get("shuttle-1") is True, 10)
                async with running(asyncio.create_task(shuttle.drive(pty))):
                    await wait_until(lambda: mobility.positions_received > 0, 10)
                    now = clock.now()
                    ride = RideRequest(
                        "mrs-sato", place["slope-2"], place["bus-stop"], 1, now + 30, now + 1200
                    )
                    outcome = mobility.request(ride, now)
                    assert isinstance(outcome, Insertion)
                    assert outcome.shuttle == "shuttle-1"
                    await wait_until(lambda: bool(mobility.report().completed), 30)
                await wait_until(lambda: len(results.of(route_id(results))) >= 2, 5)
            agent.stop()
    finally:
        commands.close()
        results.close()

    # The route went out once as a command, was accepted and taken by the vehicle.
    assert mobility.commands_sent == 1
    assert [[(s.request, s.action) for s in r.stops] for r in shuttle.routes] == [
        [("mrs-sato", "pickup"), ("mrs-sato", "dropoff")]
    ]
    assert results.of(route_id(results)) == ["accepted", "applied"]
    # The service saw the ride through from the positions alone.
    (record,) = mobility.report().completed
    assert record.pickup_at is not None
    assert record.dropoff_at is not None
    assert record.pickup_at >= ride.earliest_pickup
    assert record.wait_s is not None
    assert record.wait_s > 0  # the shuttle came from the next street
    assert record.ride_s is not None
    assert record.ride_s >= DWELL_S
    assert record.dropoff_at <= ride.latest_dropoff
    # Straight lines are shorter than streets (× 1.3): the promise holds.
    assert record.dropoff_at <= record.promised_dropoff + 2
    assert mobility.service.routes["shuttle-1"].stops == ()


def route_id(results: CmdResults) -> str:
    with results._lock:
        ids = [r.command_id for r in results.results if r.command_id.startswith("route-")]
    return ids[0] if ids else ""
