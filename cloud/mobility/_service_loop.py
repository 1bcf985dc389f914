"""The shuttle dispatcher as a running service: rides in, route commands out, positions back.

A thin loop around :class:`ShuttleService`: every ride is answered at once; each shuttle whose
route changed gets it as a ``cmd`` of kind ``route`` (with an expiry) on its gateway; positions
from ``position/{vehicle}`` move the shuttles along their routes, serve the stops they reach and
re-time the rest. A route that only lost the stops just served is not sent again: the shuttle
knows. Everything it touches goes through ports (command publishing, a service log), so it runs
with in-memory adapters in tests and with MQTT in production.
"""

import asyncio
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from cloud._mqtt import Inbound, Subscriber
from cloud.mobility._dispatch import Refusal, ShuttleState
from cloud.mobility._gbfs import JST
from cloud.mobility._geo import TravelModel
from cloud.mobility._insertion import Insertion
from cloud.mobility._insertion import Route as PlannedRoute
from cloud.mobility._progress import ARRIVAL_RADIUS_M
from cloud.mobility._routes import RideRequest, Stop
from cloud.mobility._service import ServiceReport, ShuttleService
from messages import Clock, CmdPayload, ContractError, PositionPayload, decode, encode
from messages.ids import Identifier
from messages.models import Route, RouteStop
from messages.topics import Topic, TopicKind, subscription

log = logging.getLogger(__name__)

Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Position = tuple[Annotated[float, Field(ge=-90, le=90)], Annotated[float, Field(ge=-180, le=180)]]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class ServiceShuttle(_Model):
    """A shuttle of the fleet: its vehicle id, the gateway it reports through, where it starts."""

    id: Identifier
    gateway: Identifier
    position: Position
    capacity: Annotated[int, Field(ge=1, le=100)]


class ServiceRide(_Model):
    """A ride booked ahead, requested when the service starts."""

    id: Ident
    pickup: Position
    dropoff: Position
    passengers: Annotated[int, Field(ge=1, le=100)] = 1
    earliest_pickup: AwareDatetime
    latest_dropoff: AwareDatetime
    max_ride_minutes: Annotated[float, Field(gt=0, le=600)] | None = None

    def request(self) -> RideRequest:
        return RideRequest(
            self.id,
            self.pickup,
            self.dropoff,
            self.passengers,
            self.earliest_pickup.timestamp(),
            self.latest_dropoff.timestamp(),
            None if self.max_ride_minutes is None else self.max_ride_minutes * 60,
        )


class MobilityServiceConfig(_Model):
    """One site's shuttle service (``hinode mobility run CONFIG``)."""

    site: Identifier
    speed_kmh: Annotated[float, Field(gt=0, le=6)] = 5.0
    detour_factor: Annotated[float, Field(ge=1, le=5)] = 1.3
    dwell_s: Annotated[float, Field(ge=0, le=600)] = 20.0
    arrival_radius_m: Annotated[float, Field(gt=0, le=500)] = ARRIVAL_RADIUS_M
    #: A route command older than this is refused by the gateway (the plan has moved on).
    command_ttl_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    interval_s: Annotated[float, Field(gt=0, le=60)] = 1.0
    reoptimise_every_s: Annotated[float, Field(gt=0)] = 300.0
    shuttles: Annotated[list[ServiceShuttle], Field(min_length=1, max_length=1000)]
    rides: Annotated[list[ServiceRide], Field(max_length=10_000)] = []

    @model_validator(mode="after")
    def _unique_shuttles(self) -> "MobilityServiceConfig":
        ids = [shuttle.id for shuttle in self.shuttles]
        if len(set(ids)) != len(ids):
            msg = "shuttle ids must be unique"
            raise ValueError(msg)
        return self

    @property
    def travel(self) -> TravelModel:
        return TravelModel(self.speed_kmh, self.detour_factor, self.dwell_s)

    @property
    def position_filter(self) -> str:
        return subscription(TopicKind.POSITION, site=self.site)


class CommandPort(Protocol):
    """Publishes a command (QoS 1) on its topic."""

    def publish(self, topic: str, payload: bytes) -> None: ...


class ServiceLog(Protocol):
    """Where the service says what it decided and what the riders got (one entry each)."""

    def record(self, entry: dict[str, Any]) -> None: ...


class _NoLog:
    def record(self, entry: dict[str, Any]) -> None:
        pass


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, JST).isoformat(timespec="seconds")


class ShuttleServiceLoop:
    """The service of one site: its :class:`ShuttleService` and what each shuttle was sent."""

    def __init__(
        self,
        config: MobilityServiceConfig,
        commands: CommandPort,
        *,
        now: float,
        service_log: ServiceLog | None = None,
        boot_id: str | None = None,
    ) -> None:
        self.config = config
        self.service = ShuttleService(
            [ShuttleState(s.id, s.position, s.capacity) for s in config.shuttles],
            config.travel,
            now,
            reoptimise_every_s=config.reoptimise_every_s,
            arrival_radius_m=config.arrival_radius_m,
        )
        self.boot_id = boot_id or secrets.token_hex(8)
        self.commands_sent = 0
        self.positions_received = 0
        self._commands = commands
        self._log: ServiceLog = service_log or _NoLog()
        self._gateways = {s.id: s.gateway for s in config.shuttles}
        self._sent: dict[str, tuple[tuple[str, str], ...]] = {s.id: () for s in config.shuttles}
        self._seq = 0

    def request(self, ride: RideRequest, now: float) -> Insertion | Refusal:
        """Answer a ride at once; the shuttle it went to gets its new route."""
        outcome = self.service.request(ride, now)
        if isinstance(outcome, Refusal):
            self._log.record({"event": "refused", "request": ride.id, "reason": outcome.reason})
        else:
            self._log.record(
                {
                    "event": "assigned",
                    "request": ride.id,
                    "shuttle": outcome.shuttle,
                    "pickup_eta": _iso(outcome.pickup_eta),
                    "dropoff_eta": _iso(outcome.dropoff_eta),
                }
            )
        self.send_changed(now)
        return outcome

    def receive(self, topic: str, payload: bytes) -> list[Stop]:
        """A ``position/{vehicle}`` message: the stops its fixes reached, oldest first."""
        try:
            message = decode(topic, payload).payload
        except ContractError as exc:
            log.warning("invalid position message", extra={"topic": topic, "reason": str(exc)})
            return []
        if not isinstance(message, PositionPayload) or message.vehicle not in self._gateways:
            return []
        self.positions_received += 1
        reached: list[Stop] = []
        for fix in message.fixes:
            if fix.fix_quality == "none":
                continue
            at = fix.ts / 1000
            served = self.service.position(message.vehicle, (fix.lat, fix.lon), at)
            for stop in served:
                self._served(message.vehicle, stop, at)
            reached += served
        self.send_changed(self.service.result.now)
        return reached

    def step(self, now: float) -> None:
        """One round: the batch re-optimisation when due, and any route it changed."""
        if self.service.tick(now):
            self._log.record({"event": "reoptimised", "at": _iso(now)})
        self.send_changed(now)

    def report(self) -> ServiceReport:
        return self.service.report()

    async def run(self, clock: Clock, *, rounds: int | None = None) -> None:
        """Request the booked rides, then step every ``interval_s`` until cancelled."""
        for ride in self.config.rides:
            self.request(ride.request(), clock.now())
        done = 0
        while rounds is None or done < rounds:
            self.step(clock.now())
            done += 1
            await clock.sleep(self.config.interval_s)

    async def serve(self, broker_url: str, clock: Clock, *, rounds: int | None = None) -> None:
        """:meth:`run` while following the site's positions over MQTT (a persistent session:
        positions sent while the service was away arrive when it is back)."""

        def inbound(message: Inbound) -> None:
            self.receive(message.topic, message.payload)
            subscriber.ack(message)

        subscriber = Subscriber(
            broker_url,
            client_id=f"hinode-mobility-{self.config.site}"[:64],
            data_filters=(),
            plain_filters=(self.config.position_filter,),
            shared_group=None,
            protocol="auto",
            on_message=inbound,
        )
        async with asyncio.TaskGroup() as tasks:
            listening = tasks.create_task(subscriber.run(), name="mobility-positions")
            try:
                await self.run(clock, rounds=rounds)
            finally:
                await subscriber.close()
                listening.cancel()

    def send_changed(self, now: float) -> list[str]:
        """Send every shuttle whose stops changed its route; returns the shuttles sent to."""
        sent: list[str] = []
        for shuttle, route in self.service.routes.items():
            stops = tuple((stop.request, stop.action) for stop in route.stops)
            before = self._sent[shuttle]
            # Stops served drop off the front: the shuttle already has the rest.
            if len(stops) <= len(before) and stops == before[len(before) - len(stops) :]:
                self._sent[shuttle] = stops
                continue
            self._send(shuttle, route, now)
            self._sent[shuttle] = stops
            sent.append(shuttle)
        return sent

    def _send(self, shuttle: str, planned: PlannedRoute, now: float) -> None:
        sent_at = int(now * 1000)
        # Time-based, so that a restarted service never goes back in sequence.
        self._seq = max(self._seq + 1, sent_at)
        route = Route(
            stops=[
                RouteStop(
                    request=stop.request,
                    action=stop.action,
                    position=stop.position,
                    eta=int(eta * 1000),
                )
                for stop, eta in zip(planned.stops, planned.timing.service, strict=True)
            ]
        )
        gateway = self._gateways[shuttle]
        payload = CmdPayload(
            gateway=gateway,
            boot_id=self.boot_id,
            seq=self._seq,
            sent_at=sent_at,
            id=f"route-{self._seq}",  # the vehicle is in the topic
            kind="route",
            expires_at=sent_at + int(self.config.command_ttl_s * 1000),
            route=route,
        )
        topic = Topic(self.config.site, gateway, TopicKind.CMD, shuttle)
        self._commands.publish(str(topic), encode(payload))
        self.commands_sent += 1
        self._log.record(
            {
                "event": "route_sent",
                "shuttle": shuttle,
                "command": payload.id,
                "stops": _stops(route),
            }
        )

    def _served(self, shuttle: str, stop: Stop, at: float) -> None:
        ride = self.service.rides[stop.request]
        entry: dict[str, Any] = {
            "event": stop.action,
            "request": stop.request,
            "shuttle": shuttle,
            "at": _iso(at),
        }
        if stop.action == "pickup":
            entry["wait_s"] = ride.wait_s
        else:
            entry["ride_s"] = ride.ride_s
        self._log.record(entry)


def _stops(route: Route) -> Sequence[str]:
    return [f"{stop.action} {stop.request}" for stop in route.stops]


def report_document(report: ServiceReport) -> dict[str, Any]:
    """The riders' experience as JSON: per ride the promise, the pickup, the wait, the ride."""
    return {
        "rides": [
            {
                "request": ride.request,
                "promised_pickup": None
                if ride.promised_pickup is None
                else _iso(ride.promised_pickup),
                "promised_dropoff": _iso(ride.promised_dropoff),
                "pickup_at": None if ride.pickup_at is None else _iso(ride.pickup_at),
                "dropoff_at": None if ride.dropoff_at is None else _iso(ride.dropoff_at),
                "wait_s": ride.wait_s,
                "ride_s": ride.ride_s,
            }
            for ride in report.rides
        ],
        "refused": report.refused,
        "completed": len(report.completed),
        "mean_wait_s": report.mean_wait_s(),
        "mean_ride_s": report.mean_ride_s(),
    }
