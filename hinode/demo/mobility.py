"""The demo's vehicles: two estate shuttles and a station scooter fleet, tracked through GNSS.

A depot gateway reads one GNSS receiver per vehicle: ``simulators.vehicles`` moves each vehicle
and writes its NMEA to a pty pair whose slave side the real edge agent opens as a serial port.
Positions go out as ``position/{vehicle}``. The shuttle dispatch runs as it does in production,
as a ``ShuttleServiceLoop`` beside the gateway: it answers the estate's ride requests to the bus
stop, sends each shuttle its route as a ``cmd`` of kind ``route`` over the demo's broker, and
follows the shuttles' positions over MQTT (its own persistent session). The depot agent hands
a route to the shuttle's own controller (``vehicle_routes=``), which drives it and opens its
doors at the stops, and answers with cmd-results. The collector stores the positions; a
``ScooterFleet`` learns trips from the scooters' stored fixes and lock state, served as GBFS 3.0
and MDS 2.0 feeds on a free port.
"""

import asyncio
import logging
import os
import secrets
import threading
import uuid
import zlib
from collections import deque
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from random import Random
from typing import Literal
from zoneinfo import ZoneInfo

from cloud import ReadingQuery, StoredReading, TimeSeriesStore
from cloud.mobility import (
    FeedServer,
    FeedService,
    Hub,
    Insertion,
    MobilityServiceConfig,
    RideRequest,
    ScooterFleet,
    ScooterTracker,
    ScooterType,
    ServiceShuttle,
    ShuttleServiceLoop,
    SystemInfo,
    TokenStore,
    TrackedScooter,
    new_bearer_token,
    token_file_line,
)
from edge import Agent, GatewayConfig
from edge.commands import RouteTaker
from edge.config import BatchingConfig, BrokerConfig, CommandsConfig, GnssDevice, OutboxConfig
from hinode.demo.quarter import NO_CHARGERS_TIMEOUT_S
from hinode.demo.view import MobilityView, ScooterView, ShuttleView
from hinode.mobility import JsonlServiceLog
from hinode.mqtt_commands import PahoCommands
from messages import Clock, HinodeError, VehicleState, now_ms
from messages.models import Route
from simulators.vehicles import (
    NmeaPty,
    RoadGraph,
    ShuttleController,
    ShuttleStop,
    SimulatedVehicle,
    city_roads,
    encode_epoch,
    scooter_at,
    shuttle_at,
)

logger = logging.getLogger(__name__)

_JST = ZoneInfo("Asia/Tokyo")
DEPOT_SITE = "midorigaoka"
DEPOT_GATEWAY = "gw-depot"
#: Shuttles and the road node each starts from.
SHUTTLES = (("shuttle-1", "estate-gate"), ("shuttle-2", "bus-stop"))
SHUTTLE_SEATS = 4
SCOOTERS = (
    ("scooter-1", "station"),
    ("scooter-2", "station-north"),
    ("scooter-3", "station-south"),
)
#: Where the commuters take the scooters, in turn.
SCOOTER_GOALS = ("office-1", "university", "city-hall", "station", "east-1", "station-north")
#: Where the estate's riders are picked up, in turn, and how many travel together.
RIDERS = (
    ("estate-2", 1),
    ("estate-5", 2),
    ("estate-1", 1),
    ("estate-clinic", 1),
    ("estate-4", 2),
    ("estate-6", 1),
)
#: The dispatcher plans at walking speed along streets 30 % longer than the straight line,
#: with this long at each stop; the shuttles keep their doors open as long.
SPEED_KMH = 5.0
DETOUR_FACTOR = 1.3
DWELL_S = 20.0
#: A rider asks a little ahead, and wants to be at the bus stop within this long.
BOOKING_AHEAD_S = 120.0
RIDE_WINDOW_S = 45 * 60.0
#: Real seconds between two of the first handful of ride requests (less on a short demo, so
#: that all of them are asked), and between two scooter trips.
REQUEST_REAL_S = 3.0
SCOOTER_TRIP_REAL_S = 4.0
#: Simulated seconds between two ride requests once the first handful was asked.
SUSTAINED_REQUEST_GAP_S = 10 * 60.0
#: How long one look at the store (for the scooters' fixes) may take.
STORE_TIMEOUT_S = 10.0
#: Real seconds between two looks at the store, and between two rounds of the shuttle service.
REFRESH_REAL_S = 0.5
#: Real seconds a route command stays valid (at least the service's default minute): at high
#: speeds a minute of simulated time is less than a trip through the broker.
COMMAND_TTL_REAL_S = 5.0
#: Real seconds the service waits for a gateway to accept a route before it sends it again.
RESEND_REAL_S = 2.0
#: How long one batch re-optimisation of the few demo rides may search.
BATCH_BUDGET_S = 0.5
DECISIONS_SHOWN = 4
SCOOTER_TYPE = ScooterType("kickboard-s1", "Hinode kickboard", max_range_m=40_000)
SYSTEM = SystemInfo(
    system_id="hinode-demo-scooters",
    name="Hinode demo scooters",
    operator="Hinode City Mobility (demo)",
    feed_contact_email="mobility@hinode.example",
)
#: The agency the demo's MDS feed is served to, and the file its bearer token is written to.
DEMO_AGENCY = "demo-agency"
MDS_TOKEN_FILE = "mds-token"  # noqa: S105 - a file name
HUB_NODES = (("station", 12), ("station-north", 8), ("station-south", 8), ("office-1", 8))


def epoch_period_s(speed: float) -> float:
    """Simulated seconds between two receiver epochs: 1 Hz, at most ten a real second (at 600×
    a fix every minute: a shuttle that stops for a rider is seen there before it drives on)."""
    return max(1.0, speed / 10)


@dataclass
class _Vehicle:
    """A simulated vehicle, its receiver's pty and (a scooter) what the store told the cloud."""

    sim: SimulatedVehicle
    pty: NmeaPty
    node: str
    #: The newest stored fix read so far (epoch ms).
    last_ts: int
    position: tuple[float, float] | None = None
    values: dict[str, float] = field(default_factory=dict)
    #: A scooter's trip goal while ridden.
    goal: str | None = None


def service_config(speed: float) -> MobilityServiceConfig:
    """The depot's shuttle service, timed for a demo running *speed* times faster than life."""
    roads = city_roads()
    return MobilityServiceConfig(
        site=DEPOT_SITE,
        speed_kmh=SPEED_KMH,
        detour_factor=DETOUR_FACTOR,
        dwell_s=DWELL_S,
        command_ttl_s=min(3600.0, max(60.0, COMMAND_TTL_REAL_S * speed)),
        resend_after_s=min(3600.0, max(15.0, RESEND_REAL_S * speed)),
        interval_s=min(60.0, max(1.0, REFRESH_REAL_S * speed)),
        reoptimise_every_s=max(300.0, 10 * speed),
        shuttles=[
            ServiceShuttle(
                id=vehicle,
                gateway=DEPOT_GATEWAY,
                position=(roads.nodes[node].lat, roads.nodes[node].lon),
                capacity=SHUTTLE_SEATS,
            )
            for vehicle, node in SHUTTLES
        ],
    )


class DemoMobility:
    """The depot gateway's vehicles, the shuttle service, the scooter fleet and its feeds."""

    def __init__(self, clock: Clock, speed: float, duration_s: float | None) -> None:
        self.clock = clock
        self.speed = speed
        self.period_s = epoch_period_s(speed)
        # A handful of rides spread over a short demo; one every few seconds on a long one.
        spread = None if duration_s is None else duration_s / (len(RIDERS) + 1)
        self.request_every_s = max(1.0, min(REQUEST_REAL_S, spread or REQUEST_REAL_S)) * speed
        self.roads: RoadGraph = city_roads()
        self.agent: Agent | None = None
        self.shuttles: dict[str, _Vehicle] = {}
        #: Each shuttle's own controller: it drives the route its gateway hands it.
        self.controllers: dict[str, ShuttleController] = {}
        self.scooters: dict[str, _Vehicle] = {}
        self.config = service_config(speed)
        self.service_loop: ShuttleServiceLoop | None = None
        self._broker: tuple[str, Literal["auto", "v5", "v311"]] | None = None
        self.requests: dict[str, RideRequest] = {}
        self.decisions: deque[str] = deque(maxlen=DECISIONS_SHOWN)
        self.refusals: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self.fleet = ScooterFleet(
            provider_id=str(uuid.uuid5(uuid.NAMESPACE_DNS, "scooters.demo.hinode.example")),
            id_secret=secrets.token_bytes(16),
            types=(SCOOTER_TYPE,),
            hubs=tuple(
                Hub(f"hub-{node}", self.roads.nodes[node].name, self._place(node), capacity)
                for node, capacity in HUB_NODES
            ),
        )
        self.fleet_ids = {
            vehicle: str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{vehicle}.demo.hinode.example"))
            for vehicle, _ in SCOOTERS
        }
        self.tracker = ScooterTracker(
            self.fleet,
            {
                vehicle: TrackedScooter(
                    self.fleet_ids[vehicle], f"HN-{index + 1:04d}", SCOOTER_TYPE.vehicle_type_id
                )
                for index, (vehicle, _) in enumerate(SCOOTERS)
            },
        )
        self.feeds = FeedService(self.fleet, SYSTEM, "", ())
        self.feed_urls: dict[str, str] = {}
        self.mds_token_file: Path | None = None

    def _agency_token(self, path: Path) -> TokenStore:
        """A fresh bearer token for the demo's agency, written owner-only to *path*."""
        token = new_bearer_token()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(token + "\n")
        self.mds_token_file = path
        return TokenStore.parse(token_file_line(DEMO_AGENCY, token), source="the demo")

    def _place(self, node: str) -> tuple[float, float]:
        return (self.roads.nodes[node].lat, self.roads.nodes[node].lon)

    async def open(
        self,
        stack: AsyncExitStack,
        *,
        broker_url: str,
        protocol: Literal["auto", "v5", "v311"],
        data_dir: Path,
    ) -> Agent:
        """The vehicles' ptys, the depot agent, the shuttle service's command publisher and
        the feed server; *stack* closes them."""
        # Fixes stored before this start (an earlier run on the same data dir) are not this
        # run's: the cloud reads from here on.
        at = now_ms(self.clock)
        for vehicle, node in SHUTTLES:
            sim = shuttle_at(self.roads, vehicle, node, capacity=SHUTTLE_SEATS)
            self.shuttles[vehicle] = _Vehicle(sim, stack.enter_context(NmeaPty()), node, at)
            self.controllers[vehicle] = ShuttleController(sim, dwell_s=DWELL_S)
        for index, (vehicle, node) in enumerate(SCOOTERS):
            sim = scooter_at(self.roads, vehicle, node)
            sim.battery_pct = 90.0 - 10 * index
            self.scooters[vehicle] = _Vehicle(sim, stack.enter_context(NmeaPty()), node, at)
            tracked = self.tracker.scooters[vehicle]
            self.fleet.deploy(
                tracked.device_id,
                tracked.vehicle_id,
                tracked.vehicle_type_id,
                self._place(node),
                sim.battery_pct,
                at,
            )
        # MDS as a city would serve it: for an agency's bearer token (GBFS stays public).
        self.feeds.tokens = self._agency_token(data_dir / MDS_TOKEN_FILE)
        server = FeedServer(self.feeds, lambda: now_ms(self.clock), lock=self._lock)
        self.feeds.base_url = server.url
        stack.enter_context(server)
        self.feed_urls = self.feeds.urls()
        commands = PahoCommands(broker_url, client_id=f"hinode-demo-mobility-{DEPOT_SITE}")
        stack.callback(commands.close)
        service_log = JsonlServiceLog(data_dir / "mobility-service.jsonl")
        stack.callback(service_log.close)
        self.service_loop = ShuttleServiceLoop(
            self.config, commands, now=self.clock.now(), service_log=service_log
        )
        # The few demo rides need no long search.
        self.service_loop.service.batch_budget_s = BATCH_BUDGET_S
        self._broker = (broker_url, protocol)
        vehicles = {**self.shuttles, **self.scooters}

        def interface(device: GnssDevice) -> "_StateReader":
            return _StateReader(vehicles[device.id].sim)

        def routes(device: GnssDevice) -> RouteTaker | None:
            controller = self.controllers.get(device.id)
            return None if controller is None else _RouteTaker(controller, self.requests)

        self.agent = Agent(
            depot_gateway_config(
                {v: entry.pty.port_name for v, entry in vehicles.items()},
                broker_url=broker_url,
                protocol=protocol,
                data_dir=data_dir,
                publish_interval_s=self.period_s,
            ),
            clock=self.clock,
            vehicle_state=interface,
            vehicle_routes=routes,
        )
        return self.agent

    def _loop(self) -> ShuttleServiceLoop:
        if self.service_loop is None:
            msg = "the depot is not open"
            raise RuntimeError(msg)
        return self.service_loop

    async def serve(self) -> None:
        """The shuttle service: rounds of the loop, positions followed over MQTT, until
        cancelled."""
        if self._broker is None:
            msg = "the depot is not open"
            raise RuntimeError(msg)
        broker_url, protocol = self._broker
        await self._loop().serve(broker_url, self.clock, protocol=protocol)

    async def drive(self) -> None:
        """Move every vehicle and write its receiver's NMEA, one epoch a period, until cancelled."""
        rng = Random(zlib.crc32(DEPOT_GATEWAY.encode()))
        next_trip = self.clock.now()
        turn = 0
        now = self.clock.now()
        while True:
            if now >= next_trip:
                self._start_scooter_trip(turn)
                turn += 1
                next_trip = now + SCOOTER_TRIP_REAL_S * self.speed
            self._park_scooters()
            online = self.agent.stats.device_online if self.agent is not None else {}
            utc = datetime.fromtimestamp(now, UTC)
            for vehicle, entry in {**self.shuttles, **self.scooters}.items():
                # Written once the gateway reads the port: a pty nobody reads fills and blocks.
                if online.get(vehicle):
                    entry.pty.write(encode_epoch(entry.sim.receiver_epoch(utc, rng)))
            await self.clock.sleep(self.period_s)
            # As long as it really took: the shuttles keep to the service's clock.
            before, now = now, self.clock.now()
            for controller in self.controllers.values():
                controller.step(now - before, now)
            for entry in self.scooters.values():
                entry.sim.step(now - before)

    def _start_scooter_trip(self, turn: int) -> None:
        """A commuter unlocks a parked scooter and rides it to the next goal."""
        parked = [e for e in self.scooters.values() if e.goal is None]
        if not parked:
            return
        entry = parked[turn % len(parked)]
        goal = SCOOTER_GOALS[turn % len(SCOOTER_GOALS)]
        if goal == entry.node:
            goal = SCOOTER_GOALS[(turn + 1) % len(SCOOTER_GOALS)]
        entry.goal = goal
        entry.sim.locked = False
        entry.sim.drive_to(self.roads, entry.node, goal)

    def _park_scooters(self) -> None:
        for entry in self.scooters.values():
            if entry.goal is not None and not entry.sim.moving:
                entry.node, entry.goal = entry.goal, None
                entry.sim.locked = True

    def ready(self) -> bool:
        """Whether a ride can be served: the depot gateway is on the broker (its session is
        clean: a route sent before it subscribed would be lost) and the service follows the
        shuttles' positions."""
        loop = self.service_loop
        return (
            self.agent is not None
            and self.agent.stats.connected
            and loop is not None
            and loop.positions_received > 0
        )

    async def dispatch(self, store: TimeSeriesStore) -> None:
        """Ride requests in (once the service follows the shuttles), the scooters' stored
        fixes in, until cancelled."""
        next_request: float | None = None
        count = 0
        failing = False
        while True:
            now = self.clock.now()
            if next_request is None and self.ready():
                next_request = now
            if next_request is not None and now >= next_request:
                self._request(count, now)
                count += 1
                # A handful spread over the demo, then as often as an estate would ask.
                gap = self.request_every_s if count < len(RIDERS) else SUSTAINED_REQUEST_GAP_S
                next_request = now + max(gap, self.request_every_s)
            try:
                async with asyncio.timeout(STORE_TIMEOUT_S):
                    fresh = await asyncio.to_thread(self._read_positions, store)
            except (HinodeError, OSError, TimeoutError) as exc:
                # The scooter feeds wait for the store; its trouble is logged once.
                if not failing:
                    logger.warning("mobility: store not readable", extra={"error": str(exc)})
                failing = True
            else:
                failing = False
                with self._lock:
                    self._apply(fresh)
            await self.clock.sleep(REFRESH_REAL_S * self.speed)

    def _request(self, count: int, now: float) -> None:
        node, passengers = RIDERS[count % len(RIDERS)]
        ride = RideRequest(
            f"ride-{count + 1:03d}",
            self._place(node),
            self._place("bus-stop"),
            passengers,
            now + BOOKING_AHEAD_S,
            now + BOOKING_AHEAD_S + RIDE_WINDOW_S,
        )
        self.requests[ride.id] = ride
        outcome = self._loop().request(ride, now)
        when = datetime.fromtimestamp(now, UTC).astimezone(_JST)
        if isinstance(outcome, Insertion):
            self.decisions.append(
                f"{when:%H:%M:%S} {ride.id} {node}→bus-stop ×{passengers}: {outcome.shuttle}, "
                f"pickup {_clock_time(outcome.pickup_eta)}, "
                f"at the stop {_clock_time(outcome.dropoff_eta)}"
            )
        else:
            self.refusals.append({"request": ride.id, "reason": outcome.reason})
            self.decisions.append(f"{when:%H:%M:%S} {ride.id} refused: {outcome.reason}")

    def _read_positions(
        self, store: TimeSeriesStore
    ) -> dict[str, list[tuple[int, dict[str, float]]]]:
        """Per scooter, the stored fixes newer than the last one seen, oldest first."""
        fresh: dict[str, list[tuple[int, dict[str, float]]]] = {}
        for vehicle, entry in self.scooters.items():
            by_ts: dict[int, dict[str, float]] = {}
            rows: list[StoredReading] = list(
                store.query(ReadingQuery(since=entry.last_ts + 1, device=vehicle))
            )
            for row in rows:
                if row.site == DEPOT_SITE and row.kind == "position":
                    by_ts.setdefault(row.ts, {})[row.quantity] = row.value
            fresh[vehicle] = sorted(by_ts.items())
        return fresh

    def _apply(self, fresh: dict[str, list[tuple[int, dict[str, float]]]]) -> None:
        for vehicle, fixes in fresh.items():
            entry = self.scooters[vehicle]
            for ts, values in fixes:
                entry.last_ts = ts
                entry.values.update(values)
                if "lat_deg" not in values or "lon_deg" not in values:
                    continue
                position = (values["lat_deg"], values["lon_deg"])
                entry.position = position
                # The fleet follows the scooter's lock: unlocked starts a trip, locked ends it.
                self.tracker.fix(
                    vehicle,
                    ts,
                    position,
                    locked=_flag(entry.values.get("locked")),
                    battery_pct=entry.values.get("soc_pct"),
                    speed_mps=entry.values.get("speed_mps"),
                    heading_deg=entry.values.get("heading_deg"),
                )

    def route_commands(self) -> dict[str, int]:
        """Route commands the service sent (resends included), those the depot gateway
        answered as applied, and how many routes the shuttles' controllers were handed."""
        loop = self._loop()
        return {
            "sent": loop.commands_sent,
            "resent": loop.commands_resent,
            "acknowledged": loop.commands_applied,
            "taken_by_shuttles": sum(c.routes_taken for c in self.controllers.values()),
        }

    def view(self) -> MobilityView:
        """Vehicles, assignments and waits, as the live view shows them."""
        online = self.agent.stats.device_online if self.agent is not None else {}
        loop = self._loop()
        report = loop.report()
        shuttles = []
        for vehicle in self.shuttles:
            route = loop.service.routes[vehicle]
            next_stop = route.stops[0] if route.stops else None
            shuttles.append(
                ShuttleView(
                    vehicle=vehicle,
                    online=bool(online.get(vehicle)),
                    position=route.shuttle.position,
                    onboard=route.shuttle.load,
                    seats=SHUTTLE_SEATS,
                    stops_ahead=len(route.stops),
                    next_stop=(
                        None if next_stop is None else f"{next_stop.action} {next_stop.request}"
                    ),
                    next_eta=route.timing.service[0] if next_stop is not None else None,
                )
            )
        with self._lock:
            scooters = [
                ScooterView(
                    vehicle=vehicle,
                    online=bool(online.get(vehicle)),
                    position=self.scooters[vehicle].position,
                    state=self.fleet.scooters[self.fleet_ids[vehicle]].state,
                    battery_pct=self.fleet.scooters[self.fleet_ids[vehicle]].battery_pct,
                    trips=self.fleet.scooters[self.fleet_ids[vehicle]].trips_completed,
                )
                for vehicle in self.scooters
            ]
        commands = self.route_commands()
        return MobilityView(
            shuttles=shuttles,
            scooters=scooters,
            requests=len(self.requests),
            refused=report.refused,
            picked_up=sum(1 for r in report.rides if r.pickup_at is not None),
            completed=len(report.completed),
            mean_wait_s=report.mean_wait_s(),
            mean_ride_s=report.mean_ride_s(),
            route_commands_sent=commands["sent"],
            route_commands_acknowledged=commands["acknowledged"],
            route_commands_resent=commands["resent"],
            decisions=list(self.decisions),
            feed_urls=dict(self.feed_urls),
            mds_token_file=None if self.mds_token_file is None else str(self.mds_token_file),
        )

    def summary(self) -> dict[str, object]:
        """The report's ``mobility`` section."""
        loop = self._loop()
        report = loop.report()
        routes = loop.service.routes
        wait, ride = report.mean_wait_s(), report.mean_ride_s()
        with self._lock:
            trips = len(self.fleet.trips)
            scooter_states = {
                vehicle: self.fleet.scooters[device].state
                for vehicle, device in self.fleet_ids.items()
            }
        return {
            "site": DEPOT_SITE,
            "gateway": DEPOT_GATEWAY,
            "requests": len(self.requests),
            "served": len(report.rides),
            "refused": report.refused,
            "refusals": self.refusals,
            "picked_up": sum(1 for r in report.rides if r.pickup_at is not None),
            "completed": len(report.completed),
            "mean_wait_s": None if wait is None else round(wait, 1),
            "mean_ride_s": None if ride is None else round(ride, 1),
            "late": list(report.late(self.requests)),
            "rides": [
                {
                    "request": r.request,
                    "promised_pickup": _iso(r.promised_pickup),
                    "promised_dropoff": _iso(r.promised_dropoff),
                    "picked_up_at": _iso(r.pickup_at),
                    "dropped_off_at": _iso(r.dropoff_at),
                }
                for r in report.rides
            ],
            "route_commands": self.route_commands(),
            "positions_received": loop.positions_received,
            "shuttles": {
                vehicle: {
                    "last_position": routes[vehicle].shuttle.position,
                    "stops_ahead": len(routes[vehicle].stops),
                    "next_eta": _iso(
                        routes[vehicle].timing.service[0] if routes[vehicle].stops else None
                    ),
                }
                for vehicle in self.shuttles
            },
            "scooters": scooter_states,
            "scooter_trips": trips,
            "feed_urls": self.feed_urls,
            "mds_token_file": None if self.mds_token_file is None else str(self.mds_token_file),
        }


class _RouteTaker:
    """Hands a route command's stops to the shuttle's own controller, with the riders the
    simulated estate has waiting at each (the booking's passengers get on, later off)."""

    def __init__(self, controller: ShuttleController, requests: dict[str, RideRequest]) -> None:
        self._controller = controller
        self._requests = requests

    async def __call__(self, route: Route) -> None:
        stops = []
        for stop in route.stops:
            ride = self._requests.get(stop.request)
            riders = ride.passengers if ride is not None else 0
            boarding = riders if stop.action == "pickup" else -riders
            stops.append(ShuttleStop(stop.position, stop.eta / 1000, stop.request, boarding))
        self._controller.take(stops)


class _StateReader:
    """The vehicle's own controller, as the gateway reads it beside the receiver."""

    def __init__(self, vehicle: SimulatedVehicle) -> None:
        self._vehicle = vehicle

    def __call__(self) -> VehicleState | None:
        return VehicleState.model_validate(self._vehicle.interface_state())


def _flag(value: float | None) -> bool | None:
    """A stored yes/no reading (1.0 or 0.0) as a flag; None if never reported."""
    return None if value is None else value >= 0.5


def _clock_time(epoch_s: float) -> str:
    return f"{datetime.fromtimestamp(epoch_s, UTC).astimezone(_JST):%H:%M}"


def _iso(epoch_s: float | None) -> str | None:
    if epoch_s is None:
        return None
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="seconds")


def depot_gateway_config(
    serial_ports: dict[str, str],
    *,
    broker_url: str,
    protocol: Literal["auto", "v5", "v311"],
    data_dir: Path,
    publish_interval_s: float,
) -> GatewayConfig:
    """The depot gateway's config: one GNSS receiver per vehicle, on its serial port."""
    return GatewayConfig(
        site=DEPOT_SITE,
        gateway=DEPOT_GATEWAY,
        broker=BrokerConfig(url=broker_url, protocol=protocol),
        outbox=OutboxConfig(path=data_dir / f"outbox-{DEPOT_GATEWAY}.sqlite"),
        batching=BatchingConfig(max_age_s=0, max_readings=500),
        commands=CommandsConfig(heartbeat_timeout_s=NO_CHARGERS_TIMEOUT_S),
        devices=[
            GnssDevice(
                kind="gnss",
                id=vehicle,
                profile="nmea",
                serial=port,
                vehicle="shuttle" if vehicle.startswith("shuttle") else "scooter",
                publish_interval_s=publish_interval_s,
            )
            for vehicle, port in serial_ports.items()
        ],
    )
