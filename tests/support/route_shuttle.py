"""A simulated shuttle that drives the routes its depot's real gateway agent hands it."""

from datetime import UTC, datetime
from pathlib import Path

from edge import Agent
from edge.commands import RouteTaker
from edge.config import GnssDevice, parse_gateway_config
from messages import ScaledClock, VehicleState
from messages.models import Route
from simulators.vehicles import (
    NmeaPty,
    ShuttleController,
    ShuttleStop,
    city_roads,
    encode_epoch,
    shuttle_at,
)

#: The simulated morning starts at 08:00 UTC (epoch seconds); a stop takes the shuttle this long.
MORNING = datetime(2026, 11, 23, 8, 0, tzinfo=UTC).timestamp()
DWELL_S = 20.0


def road_positions() -> dict[str, tuple[float, float]]:
    """Where each node of the quarter's roads is, by name."""
    roads = city_roads()
    return {node: (roads.nodes[node].lat, roads.nodes[node].lon) for node in roads.nodes}


class RouteFollowingShuttle:
    """A simulated shuttle whose own controller drives whatever route it was last handed."""

    def __init__(self, clock: ScaledClock, *, dwell_s: float = DWELL_S) -> None:
        vehicle = shuttle_at(city_roads(), "shuttle-1", "slope-1", capacity=4)
        self.controller = ShuttleController(vehicle, dwell_s=dwell_s)
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


def depot_agent(
    shuttle: RouteFollowingShuttle, clock: ScaledClock, broker_url: str, outbox: Path, serial: str
) -> Agent:
    """The depot's gateway agent: reads the shuttle's GNSS on *serial*, hands it its routes."""
    gateway = parse_gateway_config(f"""
site: midorigaoka
gateway: gw-depot
broker:
  url: {broker_url}
outbox:
  path: {outbox}
devices:
  - {{kind: gnss, id: shuttle-1, profile: nmea, serial: {serial}, vehicle: shuttle,
      publish_interval_s: 1}}
""")

    def routes(device: GnssDevice) -> RouteTaker | None:
        return shuttle.take if device.vehicle == "shuttle" else None

    return Agent(
        gateway,
        clock=clock,
        vehicle_state=lambda _: shuttle.state,
        vehicle_routes=routes,
        outbox_synchronous="NORMAL",
    )
