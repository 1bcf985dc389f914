"""Route commands on the gateway: a shuttle's own interface takes the route, every command is
answered (accepted then applied, or rejected with the reason, or failed)."""

import asyncio

import pytest

from edge.commands import CommandHandler, Result, Vehicles, decide_route
from edge.config import parse_gateway_config
from messages import CmdPayload, DeviceError, Event, encode
from messages.models import Route, RouteStop

NOW_MS = 1_795_420_800_000
TOPIC = "hinode/v1/midorigaoka/gw-depot/cmd/{device}"
ROUTE = Route(
    stops=[
        RouteStop(request="mr-ito", action="pickup", position=(36.56, 136.65), eta=NOW_MS + 1),
        RouteStop(request="mr-ito", action="dropoff", position=(36.57, 136.66), eta=NOW_MS + 2),
    ]
)
CONFIG = parse_gateway_config("""
site: midorigaoka
gateway: gw-depot
broker: {url: "mqtt://127.0.0.1:1883"}
outbox: {path: /tmp/unused.sqlite}
devices:
  - {kind: gnss, id: shuttle-1, profile: nmea, serial: /dev/ttyUSB0, vehicle: shuttle}
  - {kind: gnss, id: shuttle-2, profile: nmea, serial: /dev/ttyUSB1, vehicle: shuttle}
  - {kind: gnss, id: scooter-7, profile: nmea, serial: /dev/ttyUSB2, vehicle: scooter}
""")


class FixedClock:
    def now(self) -> float:
        return NOW_MS / 1000

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)


def route_command(command_id: str = "route-1", *, expires_at: int = NOW_MS + 60_000) -> CmdPayload:
    return CmdPayload(
        gateway="gw-depot",
        boot_id="c0ffee00c0ffee00",
        seq=1,
        sent_at=NOW_MS,
        id=command_id,
        kind="route",
        expires_at=expires_at,
        route=ROUTE,
    )


class Shuttle:
    """The vehicle's own controller: keeps the route it was handed."""

    def __init__(self, *, refuses: bool = False) -> None:
        self.routes: list[Route] = []
        self.refuses = refuses

    async def take(self, route: Route) -> None:
        if self.refuses:
            raise DeviceError("manual mode: the operator has the controls")
        self.routes.append(route)


def handler_for(shuttle: Shuttle) -> tuple[CommandHandler, list[Result]]:
    results: list[Result] = []

    async def on_result(result: Result) -> None:
        results.append(result)

    async def on_event(event: Event) -> None:
        pass

    vehicles = Vehicles.of(
        CONFIG, lambda device: shuttle.take if device.id == "shuttle-1" else None
    )
    handler = CommandHandler(
        gateway="gw-depot",
        drivers={},
        clock=FixedClock(),
        heartbeat_timeout_s=60,
        on_result=on_result,
        on_event=on_event,
        vehicles=vehicles,
    )
    return handler, results


async def test_a_shuttle_takes_its_route_and_the_cloud_hears_so() -> None:
    shuttle = Shuttle()
    handler, results = handler_for(shuttle)
    await handler.handle(TOPIC.format(device="shuttle-1"), encode(route_command()))
    assert shuttle.routes == [ROUTE]
    assert [(r.device, r.command_id, r.status) for r in results] == [
        ("shuttle-1", "route-1", "accepted"),
        ("shuttle-1", "route-1", "applied"),
    ]
    assert handler.counters.applied == 1


@pytest.mark.parametrize(
    ("device", "expires_at", "reason"),
    [
        ("shuttle-9", NOW_MS + 60_000, "unknown vehicle 'shuttle-9'"),
        ("scooter-7", NOW_MS + 60_000, "'scooter-7' is not a shuttle (a scooter)"),
        ("shuttle-1", NOW_MS - 5, "expired 5 ms ago"),
        ("shuttle-2", NOW_MS + 60_000, "no interface to hand 'shuttle-2' a route"),
    ],
)
async def test_a_route_the_gateway_cannot_hand_over_is_rejected_with_the_reason(
    device: str, expires_at: int, reason: str
) -> None:
    shuttle = Shuttle()
    handler, results = handler_for(shuttle)
    await handler.handle(TOPIC.format(device=device), encode(route_command(expires_at=expires_at)))
    assert shuttle.routes == []
    assert [(r.device, r.status, r.reason) for r in results] == [(device, "rejected", reason)]
    assert handler.counters.rejected == 1


async def test_a_vehicle_that_refuses_the_route_is_a_failed_command() -> None:
    handler, results = handler_for(Shuttle(refuses=True))
    await handler.handle(TOPIC.format(device="shuttle-1"), encode(route_command()))
    assert [(r.status, r.reason) for r in results] == [
        ("accepted", None),
        ("failed", "manual mode: the operator has the controls"),
    ]


async def test_a_redelivered_route_is_handed_over_once() -> None:
    shuttle = Shuttle()
    handler, results = handler_for(shuttle)
    for _ in range(2):
        await handler.handle(TOPIC.format(device="shuttle-1"), encode(route_command()))
    assert len(shuttle.routes) == 1
    assert len(results) == 2


def test_the_decision_is_pure_and_checks_expiry_first() -> None:
    decision = decide_route(
        route_command(expires_at=NOW_MS),
        device="shuttle-9",
        now_ms=NOW_MS,
        vehicles={},
        interfaces=(),
    )
    assert (decision.accepted, decision.reason) == (False, "expired 0 ms ago")
    accepted = decide_route(
        route_command(),
        device="shuttle-1",
        now_ms=NOW_MS,
        vehicles={"shuttle-1": "shuttle"},
        interfaces={"shuttle-1"},
    )
    assert accepted.accepted
