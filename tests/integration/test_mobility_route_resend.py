"""A route lost on its way to a gateway that was down is sent again, and the shuttle drives it.

The ride is booked while the gateway agent is not running: its route command reaches no one (the
agent starts clean sessions). The service follows the site's ``cmd-result`` answers on a real
Mosquitto and, with none for ``resend_after_s``, resends the route timed afresh under a new id.
Once the agent is up, one resend arrives, is accepted and applied, and the shuttle drives the
ride to its end; after that the service is quiet.

Simulated time runs 40 times faster than real time, for the gateway, the shuttle and the cloud.
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
from messages import ScaledClock
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
from tests.support.shuttle_service import RecordedLog
from tests.support.tasks import running, wait_until

pytestmark = pytest.mark.integration

RESEND_AFTER_S = 15.0
#: Faster than the route-loop test's 20: the ride takes about five simulated minutes.
SPEED = 40.0


async def test_a_route_lost_while_the_gateway_was_down_is_resent_and_driven(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    place = road_positions()
    clock = ScaledClock(speed=SPEED, start=MORNING)
    shuttle = RouteFollowingShuttle(clock)
    config = MobilityServiceConfig(
        site="midorigaoka",
        dwell_s=DWELL_S,
        command_ttl_s=60,
        resend_after_s=RESEND_AFTER_S,
        shuttles=[ServiceShuttle(id="shuttle-1", gateway="gw-depot", position=place["slope-1"],
                                 capacity=4)],
    )  # fmt: skip
    commands = PahoCommands(mosquitto.url, client_id="mobility-service-cmd")
    results = Recorder(mosquitto.port, client_id="cmd-results")
    log = RecordedLog()
    mobility = ShuttleServiceLoop(config, commands, now=clock.now(), service_log=log)

    try:
        cloud = asyncio.create_task(mobility.serve(mosquitto.url, clock))
        async with running(cloud):
            now = clock.now()
            ride = RideRequest(
                "mrs-sato", place["slope-2"], place["bus-stop"], 1, now + 30, now + 1200
            )
            assert isinstance(mobility.request(ride, now), Insertion)
            (first,) = log.of("route_sent")
            # Nobody listens for the gateway: the first send and its first resend are lost.
            await wait_until(lambda: mobility.commands_resent >= 1, 5)
            with NmeaPty() as pty:
                agent = depot_agent(
                    shuttle, clock, mosquitto.url, tmp_path / "outbox.sqlite", pty.port_name
                )
                edge = asyncio.create_task(agent.run())
                async with running(edge):
                    await wait_until(lambda: agent.stats.device_online.get("shuttle-1") is True, 5)
                    async with running(asyncio.create_task(shuttle.drive(pty))):
                        await wait_until(lambda: bool(mobility.report().completed), 12)
                    resent_before = mobility.commands_resent
                    # Delivered: no resend for several times resend_after_s.
                    await clock.sleep(4 * RESEND_AFTER_S)
                    assert mobility.commands_resent == resent_before
                agent.stop()
    finally:
        commands.close()
        results.close()

    # The first command never reached the gateway; a resend did, and the vehicle took it.
    assert results.statuses(first["command"]) == []
    taken = [
        entry["command"]
        for entry in log.of("route_resent")
        if results.statuses(entry["command"]) == ["accepted", "applied"]
    ]
    assert taken  # (two, if the next resend fell due before the answer came back)
    assert taken[-1] == resent_last(log)
    resent = log.of("route_resent")
    assert [entry["attempt"] for entry in resent] == list(range(2, len(resent) + 2))
    assert all(entry["because"] == "no answer" for entry in resent)
    assert mobility.commands_resent == len(resent)
    assert mobility.commands_sent == 1 + len(resent)
    assert shuttle.routes
    for route in shuttle.routes[: len(taken)]:
        assert [(s.request, s.action) for s in route.stops] == [
            ("mrs-sato", "pickup"),
            ("mrs-sato", "dropoff"),
        ]
    (record,) = mobility.report().completed
    # Timed afresh when resent: no earlier than the promise made with the first send.
    assert record.promised_pickup is not None
    assert shuttle.routes[0].stops[0].eta >= int(record.promised_pickup * 1000)
    assert record.pickup_at is not None
    assert record.pickup_at >= ride.earliest_pickup
    assert record.dropoff_at is not None
    assert record.dropoff_at <= ride.latest_dropoff


def resent_last(log: RecordedLog) -> str:
    command: str = log.of("route_resent")[-1]["command"]
    return command
