"""Runs the demo: broker, simulators, edge agents, collector and EV controller in one TaskGroup."""

import asyncio
import contextlib
import json
import logging
import signal
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.live import Live

from cloud import Collector, CollectorStats, open_state, open_timeseries
from edge import Agent
from hinode.broker import EmbeddedBroker
from hinode.demo.care import CareHome, DemoCare
from hinode.demo.charging import DemoCharging, Mode, charging_config
from hinode.demo.dashboard import View, render
from hinode.demo.interchange import day_views, quarter_interchange
from hinode.demo.mobility import DEPOT_GATEWAY, DemoMobility
from hinode.demo.quarter import QUARTER, SimulatedSite, gateway_config
from hinode.demo.report import build_report
from hinode.demo.simulation import INVERTER, site_devices
from hinode.demo.timing import timing_for
from hinode.demo.view import ChargerView, ChargingView, DeviceView, InterchangeDayView, Snapshot
from messages import Clock, HinodeError, ScaledClock
from simulators.modbus import ModbusSimServer

logger = logging.getLogger(__name__)

Protocol = Literal["auto", "v5", "v311"]

#: How long the collector may take, after the agents stop, to store what they had sent.
DRAIN_TIMEOUT_S = 10.0
REFRESH_S = 0.5


@dataclass(frozen=True, slots=True)
class DemoOptions:
    duration_s: float | None
    headless: bool
    data_dir: Path
    report: Path | None
    broker_url: str | None
    speed: float
    #: Simulated start, epoch seconds (None: now).
    start: float | None = None
    ev_mode: Mode = "pv"
    #: Time-series and state stores (None: SQLite files under the data dir).
    store_url: str | None = None
    state_url: str | None = None
    #: Which areas the live view shows below its header.
    view: View = "all"


@asynccontextmanager
async def _broker(url: str | None) -> AsyncIterator[tuple[str, Protocol]]:
    """The broker URL and the MQTT version to speak: amqtt knows only 3.1.1."""
    if url is not None:
        yield url, "auto"
        return
    async with EmbeddedBroker() as broker:
        yield broker.url, "v311"


@asynccontextmanager
async def _site_simulator(site: SimulatedSite, now: Callable[[], float]) -> AsyncIterator[int]:
    async with ModbusSimServer(site_devices(site, now), now=now) as server:
        yield server.port


class _Demo:
    def __init__(self, options: DemoOptions, clock: Clock, broker_url: str) -> None:
        self.options = options
        self.clock = clock
        self.broker_url = broker_url
        self.agents: list[tuple[SimulatedSite, Agent]] = []
        self.collector: Collector | None = None
        self.charging: DemoCharging | None = None
        self.interchange: list[InterchangeDayView] = []
        self.care: DemoCare | None = None
        self.care_agents: list[tuple[CareHome, Agent]] = []
        self.mobility: DemoMobility | None = None
        self._started = time.monotonic()
        self._rate_mark = (time.monotonic(), 0)

    def snapshot(self) -> Snapshot:
        stats = self.collector.stats if self.collector is not None else CollectorStats()
        devices: list[DeviceView] = []
        for site, agent in self.agents:
            for unit in site.units:
                stored = stats.devices.get((site.site, site.gateway, unit.device))
                devices.append(
                    DeviceView(
                        site=site.site,
                        gateway=site.gateway,
                        device=unit.device,
                        model=unit.model,
                        online=bool(agent.stats.device_online.get(unit.device)),
                        last_values={
                            reading.quantity: reading.value
                            for reading in agent.stats.last_readings.get(unit.device, [])
                            if reading.phase is None
                        },
                        readings_stored=stored.readings if stored else 0,
                    )
                )
        agents = self.all_agents()
        published = sum(agent.stats.messages_acked for agent in agents)
        # The depot counts a position message's fixes, the collector the values of each fix:
        # readings published and stored are compared without the vehicles (the mobility part
        # reports them).
        counted = [agent for agent in agents if agent.config.gateway != DEPOT_GATEWAY]
        depot_stored = sum(
            device.readings
            for (_, gateway, _), device in stats.devices.items()
            if gateway == DEPOT_GATEWAY
        )
        now = time.monotonic()
        mark_time, mark_count = self._rate_mark
        rate = (published - mark_count) / (now - mark_time) if now > mark_time else 0.0
        if now - mark_time >= 2.0:
            self._rate_mark = (now, published)
        return Snapshot(
            sim_time=self.clock.now(),
            elapsed_s=now - self._started,
            broker=self.broker_url,
            messages_published=published,
            readings_published=sum(agent.stats.readings_acked for agent in counted),
            readings_stored=stats.stored_readings - depot_stored,
            duplicates_dropped=stats.duplicates_dropped,
            invalid_messages=stats.invalid,
            outbox_depth=sum(agent.stats.outbox_depth for agent in agents),
            gaps=stats.gap_list(),
            devices=devices,
            messages_per_s=rate,
            charging=self._charging_view(),
            interchange=self.interchange,
            care=self.care.views() if self.care is not None else [],
            mobility=self.mobility.view() if self.mobility is not None else None,
        )

    def all_agents(self) -> list[Agent]:
        """Every gateway of the demo: the quarter's sites, the care homes, the vehicle depot."""
        agents = [agent for _, agent in self.agents] + [agent for _, agent in self.care_agents]
        if self.mobility is not None and self.mobility.agent is not None:
            agents.append(self.mobility.agent)
        return agents

    def _charging_view(self) -> ChargingView | None:
        charging = self.charging
        if charging is None:
            return None
        found = [(s, a) for s, a in self.agents if s.site == charging.config.site]
        if not found:
            return None
        site, agent = found[0]
        last = agent.stats.last_readings

        def value(device: str | None, quantity: str) -> float | None:
            for reading in last.get(device or "", []):
                if reading.quantity == quantity and reading.phase is None:
                    return reading.value
            return None

        def drawn_a(device: str) -> float | None:
            currents = [r.value for r in last.get(device, []) if r.quantity == "current_a"]
            return max(currents) if currents else None

        setpoints, reasons = charging.setpoints_a(), charging.reasons()
        inverters = [unit.device for unit in site.units if unit.model == INVERTER]
        # The edge reports an inverter's production as negative power (consumption positive).
        pv = [value(device, "active_power_w") for device in inverters]
        return ChargingView(
            site=site.site,
            mode=charging.config.mode,
            surplus_w=charging.surplus_w,
            grid_w=value(site.grid_meter, "active_power_w"),
            pv_w=-sum(p for p in pv if p is not None) if any(p is not None for p in pv) else None,
            rounds=charging.rounds,
            decisions=charging.decisions,
            failsafe_active=agent.stats.failsafe_active,
            chargers=[
                ChargerView(
                    device=unit.device,
                    setpoint_a=setpoints.get(unit.device),
                    reason=reasons.get(unit.device),
                    offered_a=value(unit.device, "charge_current_limit_a"),
                    drawn_a=drawn_a(unit.device),
                    state=value(unit.device, "charger_state"),
                )
                for unit in site.chargers
            ],
        )

    async def drain(self) -> None:
        """Wait until the collector has stored every reading the broker acknowledged."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DRAIN_TIMEOUT_S):
                while True:
                    snapshot = self.snapshot()
                    if snapshot.readings_stored >= snapshot.readings_published:
                        return
                    await asyncio.sleep(0.1)


async def run(options: DemoOptions) -> dict[str, object]:
    """Run the demo until the duration passes (or forever) and return its report."""
    options.data_dir.mkdir(parents=True, exist_ok=True)
    clock = ScaledClock(speed=options.speed, start=options.start)
    started_at = time.time()
    timing = timing_for(options.speed)
    async with AsyncExitStack() as stack:
        broker_url, protocol = await stack.enter_async_context(_broker(options.broker_url))
        demo = _Demo(options, clock, broker_url)
        timeseries = open_timeseries(options.store_url or options.data_dir)
        stack.callback(timeseries.close)
        state = open_state(options.state_url or options.data_dir)
        stack.callback(state.close)
        demo.collector = Collector(
            broker_url,
            timeseries,
            state,
            clock,
            client_id="hinode-demo-collector",
            protocol=protocol,
        )
        await stack.enter_async_context(demo.collector)
        for site in QUARTER:
            port = await stack.enter_async_context(_site_simulator(site, clock.now))
            config = gateway_config(
                site,
                broker_url=broker_url,
                protocol=protocol,
                modbus_port=port,
                data_dir=options.data_dir,
                poll_interval_s=timing.poll_interval_s,
                edge_timeout_s=timing.edge_timeout_s,
            )
            demo.agents.append((site, Agent(config, clock=clock)))
        demo.care = DemoCare(clock, options.speed)
        demo.care_agents = await demo.care.open(
            stack, broker_url=broker_url, protocol=protocol, data_dir=options.data_dir
        )
        demo.mobility = DemoMobility(clock, options.speed, options.duration_s)
        await demo.mobility.open(
            stack, broker_url=broker_url, protocol=protocol, data_dir=options.data_dir
        )
        charging_site = next(s for s in QUARTER if s.chargers and s.grid_meter is not None)
        demo.charging = DemoCharging(
            charging_config(charging_site, timing, options.ev_mode),
            decisions_path=options.data_dir / "ev-decisions.jsonl",
        )
        # Planned up front (a fraction of a second), so that the live view shows it throughout.
        interchange = _interchange(clock.now())
        demo.interchange = day_views(interchange)
        first = demo.snapshot()
        logger.info("demo started", extra={"broker": broker_url, "speed": options.speed})
        logger.info(
            "mobility feeds",
            extra={**demo.mobility.feed_urls, "mds_token_file": str(demo.mobility.mds_token_file)},
        )
        async with asyncio.TaskGroup() as tasks:
            for agent in demo.all_agents():
                tasks.create_task(agent.run())
            helpers = [
                tasks.create_task(demo.care.measure()),
                tasks.create_task(demo.care.watch(timeseries)),
                tasks.create_task(demo.mobility.drive()),
                tasks.create_task(demo.mobility.serve()),
                tasks.create_task(demo.mobility.dispatch(timeseries)),
            ]
            charging_agent = next(a for s, a in demo.agents if s is charging_site)
            controller = tasks.create_task(
                demo.charging.run(
                    timeseries,
                    broker_url,
                    clock,
                    gateway_ready=lambda: charging_agent.stats.connected,
                )
            )
            try:
                await _watch(demo, options)
            finally:
                controller.cancel()
                for helper in helpers:
                    helper.cancel()
                for agent in demo.all_agents():
                    agent.stop()
        await demo.drain()
        await asyncio.to_thread(demo.care.refresh, timeseries)
        last = demo.snapshot()
    report = build_report(
        first=first,
        last=last,
        speed=options.speed,
        started_at=started_at,
        ended_at=time.time(),
        ev_charging=demo.charging.summary(),
        interchange=interchange,
        care=demo.care.summary(),
        mobility=demo.mobility.summary(),
    )
    if options.report is not None:
        options.report.parent.mkdir(parents=True, exist_ok=True)
        options.report.write_text(json.dumps(report, indent=2) + "\n")
    logger.info(
        "demo finished", extra={"stored": last.readings_stored, "lost": report["lost_readings"]}
    )
    return report


def _interchange(start: float) -> dict[str, Any]:
    """The quarter's planned interchange, or why there is none (the report still gets written)."""
    try:
        return quarter_interchange(QUARTER, start)
    except (HinodeError, KeyError, ValueError) as exc:
        logger.warning("interchange not planned", extra={"error": str(exc)})
        return {"error": str(exc)}


async def _watch(demo: _Demo, options: DemoOptions) -> None:
    """Return when the duration has passed or on Ctrl-C / SIGTERM, refreshing the live view.

    The signals end the wait rather than the program, so that the agents stop cleanly, the
    collector stores what they sent, and the report is written, as after a duration.
    """
    deadline = None if options.duration_s is None else time.monotonic() + options.duration_s
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        if options.headless:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(
                    None if deadline is None else deadline - time.monotonic()
                ):
                    await stop.wait()
            return
        view = options.view
        with Live(render(demo.snapshot(), view), console=Console(), refresh_per_second=4) as live:
            while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
                step = (
                    REFRESH_S if deadline is None else min(REFRESH_S, deadline - time.monotonic())
                )
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(step, 0.0)):
                        await stop.wait()
                live.update(render(demo.snapshot(), view))
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
