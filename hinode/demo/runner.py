"""Runs the demo: broker, simulators, edge agents and the collector under one TaskGroup."""

import asyncio
import contextlib
import json
import logging
import time
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.live import Live

from cloud import Collector, CollectorStats, open_state, open_timeseries
from edge import Agent
from hinode.broker import EmbeddedBroker
from hinode.demo.dashboard import render
from hinode.demo.quarter import QUARTER, SimulatedSite, gateway_config
from hinode.demo.report import build_report
from hinode.demo.view import DeviceView, Snapshot
from messages import Clock, ScaledClock
from simulators.modbus import ModbusSimServer, create_device

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
    # A seed per site and device, stable across runs, so that no two sites mirror each other.
    devices = {
        unit.unit: create_device(
            unit.model,
            now=now,
            load=unit.load,
            seed=zlib.crc32(f"{site.site}/{unit.device}".encode()),
        )
        for unit in site.units
    }
    async with ModbusSimServer(devices, now=now) as server:
        yield server.port


class _Demo:
    def __init__(self, options: DemoOptions, clock: Clock, broker_url: str) -> None:
        self.options = options
        self.clock = clock
        self.broker_url = broker_url
        self.agents: list[tuple[SimulatedSite, Agent]] = []
        self.collector: Collector | None = None
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
        published = sum(agent.stats.messages_acked for _, agent in self.agents)
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
            readings_published=sum(agent.stats.readings_acked for _, agent in self.agents),
            readings_stored=stats.stored_readings,
            duplicates_dropped=stats.duplicates_dropped,
            invalid_messages=stats.invalid,
            outbox_depth=sum(agent.stats.outbox_depth for _, agent in self.agents),
            gaps=stats.gap_list(),
            devices=devices,
            messages_per_s=rate,
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
    clock = ScaledClock(speed=options.speed)
    started_at = time.time()
    poll_interval_s = max(1.0, options.speed)
    async with AsyncExitStack() as stack:
        broker_url, protocol = await stack.enter_async_context(_broker(options.broker_url))
        demo = _Demo(options, clock, broker_url)
        timeseries = open_timeseries(options.data_dir)
        stack.callback(timeseries.close)
        state = open_state(options.data_dir)
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
                poll_interval_s=poll_interval_s,
            )
            demo.agents.append((site, Agent(config, clock=clock)))
        first = demo.snapshot()
        logger.info("demo started", extra={"broker": broker_url, "speed": options.speed})
        async with asyncio.TaskGroup() as tasks:
            for _, agent in demo.agents:
                tasks.create_task(agent.run())
            try:
                await _watch(demo, options)
            finally:
                for _, agent in demo.agents:
                    agent.stop()
        await demo.drain()
        last = demo.snapshot()
    report = build_report(
        first=first, last=last, speed=options.speed, started_at=started_at, ended_at=time.time()
    )
    if options.report is not None:
        options.report.parent.mkdir(parents=True, exist_ok=True)
        options.report.write_text(json.dumps(report, indent=2) + "\n")
    logger.info(
        "demo finished", extra={"stored": last.readings_stored, "lost": report["lost_readings"]}
    )
    return report


async def _watch(demo: _Demo, options: DemoOptions) -> None:
    """Return when the duration has passed (never without one), refreshing the live view."""
    deadline = None if options.duration_s is None else time.monotonic() + options.duration_s
    if options.headless:
        if deadline is None:
            await asyncio.Event().wait()
        else:
            await asyncio.sleep(deadline - time.monotonic())
        return
    with Live(render(demo.snapshot()), console=Console(), refresh_per_second=4) as live:
        while deadline is None or time.monotonic() < deadline:
            step = REFRESH_S if deadline is None else min(REFRESH_S, deadline - time.monotonic())
            await asyncio.sleep(max(step, 0.0))
            live.update(render(demo.snapshot()))
