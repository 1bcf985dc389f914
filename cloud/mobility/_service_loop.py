"""The shuttle dispatcher as a running service: rides in, route commands out, positions back.

A thin loop around :class:`ShuttleService`: every ride is answered at once; each shuttle whose
route changed gets it as a ``cmd`` of kind ``route`` (with an expiry) on its gateway; positions
from ``position/{vehicle}`` move the shuttles along their routes, serve the stops they reach and
re-time the rest. A route that only lost the stops just served is not sent again: the shuttle
knows. The gateway's ``cmd-result`` answers tell whether the latest route arrived: one lost,
rejected as expired or refused by the vehicle is sent again (see :mod:`._route_delivery`). The
batch re-optimisation runs in a worker thread and is carried onto the positions that arrived
meanwhile (dropped only if a ride was booked or cancelled meanwhile, or it no longer fits).
Everything it touches goes through ports (command publishing, a service log, a state store), so
it runs with in-memory adapters in tests and with MQTT and files in production. With a state
store, every ride answered or cancelled, stop served and batch adopted is saved (at most once a
second, and always when the loop stops); a loop built from that state resumes its promises.
"""

import asyncio
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

from cloud._mqtt import BrokerTls, Inbound, Subscriber
from cloud.mobility._dispatch import Refusal, ShuttleState
from cloud.mobility._gbfs import JST
from cloud.mobility._insertion import Insertion
from cloud.mobility._insertion import Route as PlannedRoute
from cloud.mobility._route_delivery import ResultVerdict, RouteDelivery
from cloud.mobility._routes import Action, RideRequest, Stop
from cloud.mobility._service import ServiceReport, ShuttleService, compute_batch
from cloud.mobility._service_config import MobilityServiceConfig
from cloud.mobility._service_state import LoopState, ShuttleLink
from messages import (
    Clock,
    CmdPayload,
    CmdResultPayload,
    ContractError,
    PositionPayload,
    decode,
    encode,
)
from messages.models import Route, RouteStop
from messages.topics import Topic, TopicKind, parse_topic

log = logging.getLogger(__name__)


class CommandPort(Protocol):
    """Publishes a command (QoS 1) on its topic."""

    def publish(self, topic: str, payload: bytes) -> None: ...


class ServiceLog(Protocol):
    """Where the service says what it decided and what the riders got (one entry each)."""

    def record(self, entry: dict[str, Any]) -> None: ...


class _NoLog:
    def record(self, entry: dict[str, Any]) -> None:
        pass


class StateStore(Protocol):
    """Keeps the loop's latest state where a restarted service finds it; raises ``OSError``."""

    def save(self, state: LoopState) -> None: ...


#: State changes closer together than this are saved together.
SAVE_EVERY_S = 1.0


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
        restored: LoopState | None = None,
        state_store: StateStore | None = None,
    ) -> None:
        """*restored*: the state a previous run left (made to fit with :func:`fit_to_config`);
        the loop resumes it, and :meth:`run` sends every shuttle its route again first.
        *state_store*: where :meth:`run` saves the state as it changes."""
        self.config = config
        if restored is None:
            self.service = ShuttleService(
                [ShuttleState(s.id, s.position, s.capacity) for s in config.shuttles],
                config.travel,
                now,
                reoptimise_every_s=config.reoptimise_every_s,
                arrival_radius_m=config.arrival_radius_m,
            )
        else:
            if restored.site != config.site or set(restored.service.result.routes) != {
                s.id for s in config.shuttles
            }:
                msg = "the restored state does not fit the config (see fit_to_config)"
                raise ValueError(msg)
            self.service = ShuttleService.from_state(
                restored.service,
                reoptimise_every_s=config.reoptimise_every_s,
                arrival_radius_m=config.arrival_radius_m,
            )
        self.restored = restored is not None
        self.boot_id = boot_id or secrets.token_hex(8)
        #: Route commands published, resends included.
        self.commands_sent = 0
        self.commands_resent = 0
        #: Route commands the gateway answered ``applied`` (the vehicle took the route).
        self.commands_applied = 0
        self.positions_received = 0
        self.batches_dropped = 0
        self.delivery = RouteDelivery(config.resend_after_s, config.max_resend_after_s)
        self._commands = commands
        self._log: ServiceLog = service_log or _NoLog()
        self._gateways = {s.id: s.gateway for s in config.shuttles}
        #: Per shuttle the stops it was sent and has not yet served.
        self._sent: dict[str, tuple[tuple[str, Action], ...]] = {s.id: () for s in config.shuttles}
        self._seq = 0
        #: Per shuttle the seq of its latest route command.
        self._shuttle_seq: dict[str, int] = {}
        self._store = state_store
        #: A change not saved yet; ``_wake`` tells the saver while :meth:`run` runs.
        self._unsaved = False
        self._wake: asyncio.Event | None = None
        self._save_failing = False
        if restored is not None:
            for shuttle, link in restored.links.items():
                self._sent[shuttle] = link.sent
                if link.command is not None:
                    self.delivery.restore(shuttle, link.command, link.refusal_reported)
                if link.seq is not None:
                    self._shuttle_seq[shuttle] = link.seq
            self._seq = max((restored.seq, *self._shuttle_seq.values()))

    def state(self) -> LoopState:
        """The loop's state now, to be saved (see :mod:`._service_state`)."""
        links = {
            shuttle: ShuttleLink(
                self._sent[shuttle],
                self.delivery.latest(shuttle),
                self._shuttle_seq.get(shuttle),
                self.delivery.refusal_reported(shuttle),
            )
            for shuttle in self.service.routes
        }
        return LoopState(self.config.site, self.service.state(), links, self._seq)

    def save_state(self) -> bool:
        """Save the state now (when there is a store); False if the store failed (logged
        once; the next change tries again)."""
        if self._store is None:
            return True
        self._unsaved = False
        try:
            self._store.save(self.state())
        except (OSError, ValueError) as exc:  # a full disk; a value JSON cannot hold
            self._unsaved = True
            if not self._save_failing:
                log.warning("cannot save the service state", extra={"reason": str(exc)})
            self._save_failing = True
            return False
        if self._save_failing:
            log.warning("the service state is saved again")
            self._save_failing = False
        return True

    def _changed(self) -> None:
        """A ride answered or cancelled, a stop served, a batch adopted: save soon."""
        self._unsaved = True
        if self._wake is not None:
            self._wake.set()

    async def _keep_saved(self) -> None:
        """Save each change, at most once every ``SAVE_EVERY_S`` (changes meanwhile go
        together into the next save)."""
        wake = self._wake = asyncio.Event()
        try:
            while True:
                if not self._unsaved:
                    await wake.wait()
                wake.clear()
                self.save_state()
                await asyncio.sleep(SAVE_EVERY_S)
        finally:
            self._wake = None

    def resend_routes(self, now: float) -> list[str]:
        """Send every shuttle that has stops ahead, or was sent a route before, its route again
        (timed from *now*): after a restart, a shuttle that lost its route meanwhile gets it
        back; one that has it takes the same stops again. Returns the shuttles."""
        sent: list[str] = []
        for shuttle in self.service.routes:
            previous = self.delivery.latest(shuttle)
            route = self.service.route_at(shuttle, now)
            if previous is None and not route.stops:
                continue
            command = self._send(shuttle, route, now, resend=previous is not None)
            self._sent[shuttle] = tuple((stop.request, stop.action) for stop in route.stops)
            sent.append(shuttle)
            self._changed()
            if previous is not None:
                self.commands_resent += 1
                self._log.record(
                    {
                        "event": "route_resent",
                        "shuttle": shuttle,
                        "command": command,
                        "attempt": previous.attempt + 1,
                        "because": "service restarted",
                    }
                )
        return sent

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
        self._changed()
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
        if reached:
            # Served stops are not news to the shuttle; anything else that differs is.
            done = {(stop.request, stop.action) for stop in reached}
            known = self._sent[message.vehicle]
            self._sent[message.vehicle] = tuple(stop for stop in known if stop not in done)
            self._changed()
        self.send_changed(self.service.result.now)
        return reached

    def cancel(self, request_id: str, now: float) -> str:
        """Cancel a ride not yet picked up; its shuttle gets its route without it.
        Raises :class:`CancellationError` (aboard, completed, cancelled or unknown)."""
        shuttle = self.service.cancel(request_id, now)
        self._log.record({"event": "cancelled", "request": request_id, "shuttle": shuttle})
        self.send_changed(now)
        self._changed()
        return shuttle

    def command_result(
        self, topic: str, payload: bytes, now: float | None = None
    ) -> ResultVerdict | None:
        """A ``cmd-result/{vehicle}`` message; *now* defaults to the gateway's answer time.
        Results of other commands than a shuttle's latest route are ignored."""
        try:
            message = decode(topic, payload)
        except ContractError as exc:
            log.warning("invalid command result", extra={"topic": topic, "reason": str(exc)})
            return None
        result = message.payload
        if not isinstance(result, CmdResultPayload) or (
            self._gateways.get(result.device) != message.topic.gateway
        ):
            return None
        at = result.ts / 1000 if now is None else now
        before = self.delivery.latest(result.device)
        verdict = self.delivery.result(
            result.device, result.command_id, result.status, result.reason, at
        )
        command = verdict.command
        if (
            verdict.verdict == "delivered"
            and command is not None
            and command.outcome == "applied"
            and before != command  # not an answer the broker delivered again
        ):
            self.commands_applied += 1
        if verdict.verdict == "refused" and verdict.first_refusal:
            self._log.record(
                {
                    "event": "route_refused",
                    "shuttle": result.device,
                    "command": result.command_id,
                    "status": result.status,
                    "reason": result.reason,
                }
            )
        return verdict

    def resend_due(self, now: float) -> list[str]:
        """Send again, timed from *now*, every route not accepted in time; the shuttles."""
        due = self.delivery.due(now)
        for shuttle in due:
            previous = self.delivery.latest(shuttle)
            assert previous is not None
            route = self.service.route_at(shuttle, now)
            command = self._send(shuttle, route, now, resend=True)
            self._sent[shuttle] = tuple((stop.request, stop.action) for stop in route.stops)
            self.commands_resent += 1
            self._log.record(
                {
                    "event": "route_resent",
                    "shuttle": shuttle,
                    "command": command,
                    "attempt": previous.attempt + 1,
                    "because": _why_resent(previous.outcome, previous.reason),
                }
            )
        return due

    def step(self, now: float) -> None:
        """One round here and now: the batch re-optimisation when due (blocking for up to its
        budget), any route it changed, and resends that are due."""
        if self.service.tick(now):
            self._log.record({"event": "reoptimised", "at": _iso(now)})
            self._changed()
        self.send_changed(now)
        self.resend_due(now)

    async def step_async(self, clock: Clock) -> None:
        """One round of :meth:`run`: as :meth:`step`, the batch computed in a worker thread
        so that the event loop keeps serving positions, results and bookings meanwhile."""
        snapshot = self.service.batch_due(clock.now())
        if snapshot is not None:
            batch = await asyncio.to_thread(compute_batch, snapshot, self.service.batch_budget_s)
            now = clock.now()
            if self.service.adopt(snapshot, batch):
                self._log.record({"event": "reoptimised", "at": _iso(now)})
                self._changed()
            else:
                self.batches_dropped += 1
                log.debug("batch dropped: it no longer fits the state it would replace")
        now = clock.now()
        self.send_changed(now)
        self.resend_due(now)

    def report(self) -> ServiceReport:
        return self.service.report()

    async def run(self, clock: Clock, *, rounds: int | None = None) -> None:
        """Send a restored loop's routes again, request the booked rides not asked for yet, then
        a round every ``interval_s`` until cancelled; the state is saved as it changes and when
        the loop stops."""
        saver = None
        if self._store is not None:
            saver = asyncio.create_task(self._keep_saved(), name="mobility-state")
        try:
            if self.restored:
                self.resend_routes(clock.now())
            for ride in self.config.rides:
                if not self.service.booked(ride.id):
                    self.request(ride.request(), clock.now())
            done = 0
            while rounds is None or done < rounds:
                await self.step_async(clock)
                done += 1
                await clock.sleep(self.config.interval_s)
        finally:
            if saver is not None:
                saver.cancel()
                await asyncio.wait([saver])
            self.save_state()

    async def serve(
        self,
        broker_url: str,
        clock: Clock,
        *,
        rounds: int | None = None,
        protocol: Literal["auto", "v5", "v311"] = "auto",
        tls: BrokerTls | None = None,
    ) -> None:
        """:meth:`run` while following the site's positions and command results over MQTT (a
        persistent session: what was sent while the service was away arrives when it is back).
        *tls*: a private CA and client certificate for an ``mqtts://`` broker."""

        def inbound(message: Inbound) -> None:
            if _kind(message.topic) is TopicKind.CMD_RESULT:
                self.command_result(message.topic, message.payload, clock.now())
                self.resend_due(clock.now())  # an expired route goes out again at once
            else:
                self.receive(message.topic, message.payload)
            subscriber.ack(message)

        subscriber = Subscriber(
            broker_url,
            client_id=f"hinode-mobility-{self.config.site}"[:64],
            data_filters=(),
            plain_filters=(self.config.position_filter, self.config.cmd_result_filter),
            shared_group=None,
            protocol=protocol,
            on_message=inbound,
            tls=tls,
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
            if stops == self._sent[shuttle]:
                continue
            self._send(shuttle, route, now)
            self._sent[shuttle] = stops
            sent.append(shuttle)
        return sent

    def _send(
        self, shuttle: str, planned: PlannedRoute, now: float, *, resend: bool = False
    ) -> str:
        sent_at = int(now * 1000)
        # Time-based, so that a restarted service never goes back in sequence (and it goes on
        # from the seq it saved, should the clock have gone back or sends run ahead of it).
        self._seq = max(self._seq + 1, sent_at)
        self._shuttle_seq[shuttle] = self._seq
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
        self.delivery.sent(shuttle, payload.id, now, resend=resend)
        if not resend:
            self._log.record(
                {
                    "event": "route_sent",
                    "shuttle": shuttle,
                    "command": payload.id,
                    "stops": _stops(route),
                }
            )
        return payload.id

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


def _kind(topic: str) -> TopicKind | None:
    try:
        return parse_topic(topic).kind
    except ContractError:
        return None


def _why_resent(outcome: str, reason: str | None) -> str:
    if outcome == "sent":
        return "no answer"
    return outcome if reason is None else f"{outcome}: {reason}"


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
        "cancelled": report.cancelled,
        "completed": len(report.completed),
        "mean_wait_s": report.mean_wait_s(),
        "mean_ride_s": report.mean_ride_s(),
    }
