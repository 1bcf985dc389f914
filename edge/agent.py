"""The gateway agent: pollers, outbox, uplink and command handler under one TaskGroup."""

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from importlib import metadata

from edge.batching import Batcher
from edge.ble import BleTransport
from edge.commands import CommandHandler, Result, VehicleRoutes, Vehicles
from edge.config import GatewayConfig
from edge.devices import (
    BleDevices,
    DeviceDriver,
    DeviceStatus,
    GnssDevices,
    VehicleStateSource,
    Vitals,
    open_drivers,
    vitals_message,
)
from edge.envelopes import Envelopes
from edge.gnss import position_message
from edge.outbox import BatchBuilder, DropReport, OutboxLimits, SqliteOutbox
from edge.stats import AgentStats
from edge.uplink import Connector, SessionSettings, Uplink
from messages import (
    Clock,
    ContractError,
    DeviceInfo,
    Event,
    Fix,
    HinodeError,
    Reading,
    VehicleState,
    now_ms,
)
from messages import topics as t

log = logging.getLogger(__name__)

#: Opens the drivers of a config; tests inject simulated ones.
DriverFactory = Callable[
    [GatewayConfig, Clock, Callable[[DeviceStatus], None]],
    AbstractAsyncContextManager[Sequence[DeviceDriver]],
]

_MAINTENANCE_INTERVAL_S = 1.0
#: Clock seconds between two outbox_dropped events while the outbox keeps dropping.
_DROP_REPORT_INTERVAL_S = 60.0
#: Real seconds a stopping agent waits for its last messages to be acknowledged (of the 5 s
#: a SIGTERM allows; the rest of the outbox goes out after the next start).
_STOP_DRAIN_S = 1.5
#: Real seconds one poll may take in all; each bus request has its own, shorter timeout.
_POLL_GUARD_S = 30.0


def _version() -> str:
    try:
        return metadata.version("hinode")
    except metadata.PackageNotFoundError:
        return "0"


@contextlib.asynccontextmanager
async def modbus_drivers(
    config: GatewayConfig, clock: Clock, on_status: Callable[[DeviceStatus], None]
) -> AsyncIterator[Sequence[DeviceDriver]]:
    async with open_drivers(config, clock=clock, on_status=on_status) as drivers:
        yield drivers


class Agent:
    """One gateway. ``await agent.run()`` until cancelled or :meth:`stop`; read ``agent.stats``."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        clock: Clock,
        drivers: DriverFactory | None = None,
        connector: Connector | None = None,
        outbox_synchronous: str = "FULL",
        ble_transport: BleTransport | None = None,
        vehicle_state: VehicleStateSource | None = None,
        vehicle_routes: VehicleRoutes | None = None,
    ) -> None:
        """*ble_transport*: the Bluetooth adapter (bleak on the platform's stack by default);
        *vehicle_state*: the vehicles' own interfaces, if the gateway can read them;
        *vehicle_routes*: how to hand a shuttle its route, if the gateway can."""
        self.config = config
        self.clock = clock
        self.boot_id = secrets.token_hex(8)
        self.stats = AgentStats(boot_id=self.boot_id)
        self._envelopes = Envelopes(config.site, config.gateway, self.boot_id, _version())
        self._open_drivers = drivers or modbus_drivers
        self._connector = connector
        self._ble_transport = ble_transport
        self._vehicle_state = vehicle_state
        self._vehicle_routes = vehicle_routes
        self._synchronous = outbox_synchronous
        self._stop = asyncio.Event()
        #: Set once the outbox is open, staged readings are recovered and every task runs.
        self.started = asyncio.Event()
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._batcher = Batcher(
            max_readings=config.batching.max_readings,
            max_age_ms=int(config.batching.max_age_s * 1000),
        )
        self._batch_due = asyncio.Event()
        self._outbox: SqliteOutbox | None = None
        self._drivers: dict[str, DeviceDriver] = {}
        self._devices: list[DeviceInfo] = []
        self._commands: CommandHandler | None = None

    def stop(self) -> None:
        """Ask :meth:`run` to finish (safe to call from a signal handler on the loop)."""
        self._stop.set()

    async def run(self) -> None:
        """Run until :meth:`stop` is called or the task is cancelled."""
        config = self.config
        limits = OutboxLimits(
            max_rows=config.outbox.max_rows,
            max_bytes=config.outbox.max_bytes,
            max_age_ms=int(config.outbox.max_age_s * 1000),
        )
        # Read before anything starts: a missing or readable-by-others key stops the start.
        has_ble = any(device.kind == "ble" for device in config.devices)
        site_key = config.vitals.read_key() if config.vitals is not None and has_ble else b""
        log.info(
            "agent starting",
            extra={"site": config.site, "gateway": config.gateway, "boot_id": self.boot_id},
        )
        async with (
            SqliteOutbox.open(config.outbox.path, limits, synchronous=self._synchronous) as outbox,
            self._open_drivers(config, self.clock, self._on_status) as drivers,
        ):
            self._outbox = outbox
            self._drivers = {driver.id: driver for driver in drivers}
            ble, gnss = await self._pushing_devices(site_key)
            self._devices = [DeviceInfo(id=d.id, kind=d.kind, model=d.model[:100]) for d in drivers]
            self._devices += [*ble.device_infos(), *gnss.device_infos()]
            for device in self._devices:
                self.stats.device_online.setdefault(device.id, None)
            await self._recover_staged()
            commands = CommandHandler(
                gateway=config.gateway,
                drivers=self._drivers,
                clock=self.clock,
                heartbeat_timeout_s=config.commands.heartbeat_timeout_s,
                on_result=self._publish_result,
                on_event=self._publish_event,
                vehicles=Vehicles.of(config, self._vehicle_routes),
            )
            self._commands = commands
            uplink = Uplink(
                session_settings(config),
                outbox=outbox,
                birth=self._birth,
                will=self._will,
                protocol=config.broker.protocol,
                subscriptions=[f"{t.PREFIX}/{config.site}/{config.gateway}/cmd/+"],
                on_message=commands.submit,
                max_inflight=config.broker.max_inflight,
                reconnect_min_s=config.broker.reconnect_min_s,
                reconnect_max_s=config.broker.reconnect_max_s,
                connector=self._connector,
            )
            self.stats.uplink = uplink.stats
            try:
                async with asyncio.TaskGroup() as tasks:
                    children = [
                        tasks.create_task(uplink.run(), name="uplink"),
                        tasks.create_task(commands.run(), name="commands"),
                        tasks.create_task(self._seal_due(), name="batcher"),
                        tasks.create_task(self._maintain(), name="maintenance"),
                        tasks.create_task(self._forward_events(), name="events"),
                    ]
                    pollers = [
                        tasks.create_task(self._poll(driver), name=f"poll-{driver.id}")
                        for driver in drivers
                    ]
                    if ble.devices:
                        children.append(
                            tasks.create_task(ble.run(self._store_vitals), name="vitals")
                        )
                    pollers += [
                        tasks.create_task(session.run(), name=f"ble-{device}")
                        for device, session in ble.sessions.items()
                    ]
                    pollers += [
                        tasks.create_task(run, name=f"gnss-{vehicle}")
                        for vehicle, run in gnss.runs(self._store_positions).items()
                    ]
                    self.started.set()
                    await self._stop.wait()
                    await self._wind_down(pollers, uplink, ble)
                    # Cancelling the children (rather than raising into the group) leaves this
                    # task itself un-cancelled, so the drivers and the outbox close normally.
                    for child in children:
                        child.cancel()
            finally:
                # Whatever is still staged or unacknowledged is durable: the next start sends it.
                self._refresh_stats()
                log.info("agent stopped", extra={"outbox_depth": outbox.depth})

    async def _wind_down(
        self, pollers: list["asyncio.Task[None]"], uplink: Uplink, ble: BleDevices
    ) -> None:
        """Stop polling, seal what is staged and give the uplink a moment to send it."""
        for poller in pollers:
            poller.cancel()
        await asyncio.gather(*pollers, return_exceptions=True)
        await ble.flush(self._store_vitals)
        # From the staged table, not the batcher: a poller cancelled while its readings were
        # being committed never told the batcher about them.
        for device in self._batcher.pending():
            self._batcher.take(device)
        await self._recover_staged()
        outbox = self._require_outbox()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_STOP_DRAIN_S):
                while outbox.depth and uplink.stats.connected:  # noqa: ASYNC110 - a short drain
                    await asyncio.sleep(0.05)

    # -- readings ---------------------------------------------------------------------------

    async def _poll(self, driver: DeviceDriver) -> None:
        interval = driver.poll_interval_s
        while True:
            started = self.clock.now()
            try:
                async with asyncio.timeout(_POLL_GUARD_S):
                    readings = await driver.poll()
            except (HinodeError, TimeoutError) as exc:
                # One device's trouble (no answer, bad frame, failed discovery) never stops the
                # others; its bus owner reports offline/online once, as events.
                self.stats.poll_failures += 1
                log.debug("poll failed", extra={"device": driver.id, "error": str(exc)})
            else:
                if readings:
                    await self._stage(driver.id, readings)
            elapsed = self.clock.now() - started
            await self.clock.sleep(max(interval - elapsed, 0.0))

    async def _stage(self, device: str, readings: list[Reading]) -> None:
        outbox = self._require_outbox()
        now = now_ms(self.clock)
        through = await outbox.stage(device, [r.model_dump_json() for r in readings], now)
        self.stats.readings_polled += len(readings)
        self.stats.last_readings[device] = readings
        if self.stats.device_online.get(device) is None:
            self.stats.device_online[device] = True
        if self._batcher.add(device, len(readings), through, now):
            await self._seal(device)
        else:
            self._batch_due.set()

    async def _seal(self, device: str) -> None:
        through = self._batcher.take(device)
        if through is None:
            return
        outbox = self._require_outbox()
        await outbox.seal(device, through, self._telemetry_builder(device), now_ms(self.clock))
        self.stats.messages_sealed += 1
        self._refresh_stats()

    def _telemetry_builder(self, device: str) -> BatchBuilder:
        return self._envelopes.telemetry(device, sent_at=now_ms(self.clock))

    async def _seal_due(self) -> None:
        while True:
            due_ms = self._batcher.next_due_ms()
            if due_ms is None:
                self._batch_due.clear()
                await self._batch_due.wait()
                continue
            wait_s = (due_ms - now_ms(self.clock)) / 1000
            if wait_s > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(_MAINTENANCE_INTERVAL_S):
                        await self.clock.sleep(wait_s)
                continue
            for device in self._batcher.due(now_ms(self.clock)):
                await self._seal(device)

    async def _recover_staged(self) -> None:
        outbox = self._require_outbox()
        for batch in await outbox.staged():
            try:
                await outbox.seal(
                    batch.device,
                    batch.through_id,
                    self._telemetry_builder(batch.device),
                    now_ms(self.clock),
                )
            except (ContractError, ValueError) as exc:
                log.error(  # noqa: TRY400 - the reason is the message
                    "staged readings unreadable", extra={"device": batch.device, "error": str(exc)}
                )
            else:
                log.debug(
                    "sealed staged readings",
                    extra={"device": batch.device, "readings": len(batch.readings)},
                )

    # -- vital signs and positions -----------------------------------------------------------

    async def _pushing_devices(self, site_key: bytes) -> tuple[BleDevices, GnssDevices]:
        """The devices that send on their own (BLE, GNSS), each run as a task of its own."""
        has_ble = any(d.kind == "ble" for d in self.config.devices)
        ble = BleDevices(
            self.config,
            self._ble_transport,
            site_key=site_key,
            clock=self.clock,
            on_status=self._on_status,
            cursors=await self._require_outbox().cursors() if has_ble else {},
        )
        gnss = GnssDevices(
            self.config,
            clock=self.clock,
            on_status=self._on_status,
            vehicle_state=self._vehicle_state,
        )
        return ble, gnss

    async def _store_vitals(self, vitals: Vitals) -> None:
        outbox = self._require_outbox()
        now = now_ms(self.clock)
        if vitals.observations:
            build = vitals_message(
                site=self.config.site,
                gateway=self.config.gateway,
                boot_id=self.boot_id,
                sent_at=now,
                vitals=vitals,
            )
            # The stored-record cursor moves in the same transaction: never ahead, never behind.
            await outbox.append(build, now, cursor=vitals.cursor)
            self.stats.observations_received += len(vitals.observations)
            self.stats.last_observations[vitals.device] = vitals.observations
        elif vitals.cursor is not None:
            await outbox.save_cursor(*vitals.cursor)
        self._refresh_stats()

    async def _store_positions(
        self, vehicle: str, fixes: list[Fix], state: VehicleState | None
    ) -> None:
        now = now_ms(self.clock)
        build = position_message(
            self.config,
            boot_id=self.boot_id,
            sent_at=now,
            vehicle=vehicle,
            fixes=fixes,
            state=state,
        )
        try:
            await self._require_outbox().append(build, now)
        except (ContractError, ValueError) as exc:
            # One batch the contract refuses never stops the vehicle's tracker.
            log.error(  # noqa: TRY400 - the reason is the message
                "positions dropped", extra={"device": vehicle, "error": type(exc).__name__}
            )
            return
        self.stats.fixes_received += len(fixes)
        self.stats.last_fix[vehicle] = fixes[-1]
        self._refresh_stats()

    # -- events, results, state -------------------------------------------------------------

    def _on_status(self, status: DeviceStatus) -> None:
        self.stats.device_online[status.device] = status.online
        self._events.put_nowait(
            Event(
                ts=status.ts,
                kind="device_online" if status.online else "device_offline",
                device=status.device,
                reason=status.reason[:1000],
            )
        )

    async def _publish_event(self, event: Event) -> None:
        self._events.put_nowait(event)

    async def _forward_events(self) -> None:
        while True:
            events = [await self._events.get()]
            while not self._events.empty() and len(events) < 1000:
                events.append(self._events.get_nowait())
            await self._append_events(events)

    async def _append_events(self, events: list[Event]) -> None:
        sent_at = now_ms(self.clock)
        await self._require_outbox().append(
            self._envelopes.events(events, sent_at=sent_at), sent_at
        )
        self._refresh_stats()

    async def _publish_result(self, result: Result) -> None:
        sent_at = now_ms(self.clock)
        await self._require_outbox().append(
            self._envelopes.result(result, sent_at=sent_at), sent_at
        )
        self._refresh_stats()

    def _state(self, *, online: bool) -> tuple[str, bytes]:
        return self._envelopes.state(
            online=online,
            last_seq=self._require_outbox().last_seq,
            sent_at=now_ms(self.clock),
            devices=self._devices,
        )

    def _birth(self) -> tuple[str, bytes]:
        return self._state(online=True)

    def _will(self) -> tuple[str, bytes]:
        return self._state(online=False)

    # -- upkeep -----------------------------------------------------------------------------

    async def _maintain(self) -> None:
        outbox = self._require_outbox()
        unreported: DropReport | None = None
        last_report_ms: int | None = None
        while True:
            await outbox.expire(now_ms(self.clock))
            report = outbox.take_drops()
            now = now_ms(self.clock)
            if report is not None:
                self.stats.outbox_dropped_messages += report.messages
                self.stats.outbox_dropped_readings += report.readings
                unreported = report if unreported is None else unreported.merge(report)
            # The first drop is reported at once; while dropping goes on, once a minute (so a
            # day offline does not fill the outbox with reports); the rest when it stops.
            if unreported is not None and (
                report is None
                or last_report_ms is None
                or now - last_report_ms >= _DROP_REPORT_INTERVAL_S * 1000
            ):
                await self._report_drops(unreported)
                unreported, last_report_ms = None, now
            self._refresh_stats()
            self.stats.maintained_at = time.monotonic()
            await asyncio.sleep(_MAINTENANCE_INTERVAL_S)

    async def _report_drops(self, report: DropReport) -> None:
        reasons = ", ".join(report.reasons)
        log.warning(
            "outbox dropped messages",
            extra={"messages": report.messages, "readings": report.readings, "reason": reasons},
        )
        await self._append_events(
            [
                Event(
                    ts=now_ms(self.clock),
                    kind="outbox_dropped",
                    reason=f"outbox limit reached: {reasons}",
                    details={
                        "messages": report.messages,
                        "readings": report.readings,
                        "first_seq": report.first_seq,
                        "last_seq": report.last_seq,
                        "reason": reasons,
                        # Since this boot: a later report still counts an earlier one that was
                        # itself dropped.
                        "total_messages": self.stats.outbox_dropped_messages,
                        "total_readings": self.stats.outbox_dropped_readings,
                    },
                )
            ]
        )

    def _refresh_stats(self) -> None:
        outbox = self._outbox
        if outbox is not None:
            self.stats.outbox_depth = outbox.depth
            self.stats.outbox_depth_readings = outbox.depth_readings
            self.stats.last_seq = outbox.last_seq
        commands = self._commands
        if commands is not None:
            counters = commands.counters
            self.stats.commands_received = counters.received
            self.stats.commands_applied = counters.applied
            self.stats.commands_rejected = counters.rejected
            self.stats.failsafe_active = counters.failsafe_active

    def _require_outbox(self) -> SqliteOutbox:
        if self._outbox is None:
            msg = "the agent is not running"
            raise RuntimeError(msg)
        return self._outbox


def session_settings(config: GatewayConfig) -> SessionSettings:
    """The MQTT connection settings of a gateway config."""
    broker = config.broker
    tls = broker.tls
    return SessionSettings(
        host=broker.host,
        port=broker.port,
        client_id=f"hinode-{config.site}-{config.gateway}"[:64],
        keepalive_s=broker.keepalive_s,
        connect_timeout_s=broker.connect_timeout_s,
        max_inflight=broker.max_inflight,
        tls=broker.uses_tls,
        ca=tls.ca if tls else None,
        cert=tls.cert if tls else None,
        key=tls.key if tls else None,
        insecure_skip_verify=tls.insecure_skip_verify if tls else False,
        username=broker.username,
        password=broker.password,
    )
