"""The shuttle service over MQTT: a ride request becomes a route command, the shuttle drives it.

ride request → ``ShuttleServiceLoop`` → ``cmd/{vehicle}`` (kind route) on a real Mosquitto →
the real edge ``Agent`` hands it to the simulated shuttle's own interface (``vehicle_routes=``)
and answers accepted, applied → the shuttle drives the route at walking speed, writing NMEA at
1 Hz to a pty that the agent reads as its ``kind: gnss`` device → ``position/{vehicle}`` → the
service serves the pickup and the drop-off and reports the wait and the ride time.

Simulated time runs 20 times faster than real time, for the gateway, the shuttle and the cloud.
"""

import asyncio
from pathlib import Path

import pytest

from cloud.mobility import (
    Insertion,
    MobilityServiceConfig,
    RideRequest,
    ServiceShuttle,
    ShuttleServiceLoop,
)
from hinode.mqtt_commands import PahoCommands
from messages import CmdResultPayload, ScaledClock
from simulators.vehicles import NmeaPty
from tests.support.mosquitto import Mosquitto
from tests.support.recorder import Recorder
from tests.support.route_shuttle import (
    DWELL_S,
    MORNING,
    RouteFollowingShuttle,
    depot_agent,
    road_positions,
)
from tests.support.tasks import running, wait_until

pytestmark = pytest.mark.integration

SPEED = 20.0


async def test_a_ride_request_is_driven_by_the_shuttle_it_was_sent_to(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    place = road_positions()
    clock = ScaledClock(speed=SPEED, start=MORNING)
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
    results = Recorder(mosquitto.port, client_id="cmd-results")
    mobility = ShuttleServiceLoop(config, commands, now=clock.now())

    try:
        with NmeaPty() as pty:
            agent = depot_agent(
                shuttle, clock, mosquitto.url, tmp_path / "outbox.sqlite", pty.port_name
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
                await wait_until(lambda: len(results.statuses(route_id(results))) >= 2, 5)
            agent.stop()
    finally:
        commands.close()
        results.close()

    # The route went out once as a command, was accepted and taken by the vehicle.
    assert mobility.commands_sent == 1
    assert [[(s.request, s.action) for s in r.stops] for r in shuttle.routes] == [
        [("mrs-sato", "pickup"), ("mrs-sato", "dropoff")]
    ]
    assert results.statuses(route_id(results)) == ["accepted", "applied"]
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


def route_id(results: Recorder) -> str:
    ids = [
        result.command_id
        for _, result in results.decoded("cmd-result", CmdResultPayload)
        if result.command_id.startswith("route-")
    ]
    return ids[0] if ids else ""
