"""The EV charging loop closed for real: simulated charger → edge agent → Mosquitto → collector →
SQLite → controller → Mosquitto → edge agent → charger, and the fail-safe when the controller dies.
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cloud import Collector, open_state, open_timeseries
from cloud.energy import ChargingController, ChargingSiteConfig, Decision
from edge import Agent, parse_gateway_config
from hinode.energy.charging import StoreReadings
from hinode.mqtt_commands import PahoCommands
from messages import WallClock
from simulators.modbus import ModbusSimServer, create_device
from tests.support.mosquitto import Mosquitto

pytestmark = pytest.mark.integration

EDGE_TIMEOUT_S = 3.0


@dataclass
class Decisions:
    recorded: list[Decision] = field(default_factory=list)

    def record(self, decision: Decision) -> None:
        self.recorded.append(decision)


async def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def gateway(broker_url: str, port: int, outbox: Path) -> str:
    return f"""
site: lab
gateway: gw-1
broker: {{url: "{broker_url}", reconnect_min_s: 0.2, reconnect_max_s: 1.0, keepalive_s: 5}}
outbox: {{path: "{outbox}"}}
batching: {{max_age_s: 0.2}}
commands: {{heartbeat_timeout_s: {EDGE_TIMEOUT_S}}}
devices:
  - {{kind: modbus_tcp, id: charger-1, profile: abb_terra_ac, host: 127.0.0.1, port: {port},
     unit: 1, poll_interval_s: 0.5}}
  - {{kind: modbus_tcp, id: meter-1, profile: sdm630, host: 127.0.0.1, port: {port}, unit: 2,
     poll_interval_s: 0.5}}
"""


async def test_setpoints_reach_the_charger_and_silence_drives_it_to_fail_safe(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    charger = create_device("abb_terra_ac", now=time.time, seed=1, unit_max_current_a=32)
    devices = {1: charger, 2: create_device("sdm630", now=time.time, seed=2)}
    charge_point = charger.charge_point  # type: ignore[attr-defined]
    charge_point.connect_vehicle(time.time(), energy_wh=60_000, max_current_a=32, phases=3)

    def drawn_a() -> float:
        return float(charge_point.phase_currents_a(time.time())[0])

    data_dir = tmp_path / "data"
    timeseries, state = open_timeseries(data_dir), open_state(data_dir)
    clock = WallClock()
    async with ModbusSimServer(devices, now=time.time) as server:
        config = parse_gateway_config(gateway(mosquitto.url, server.port, tmp_path / "outbox"))
        agent = Agent(config, clock=clock, outbox_synchronous="NORMAL")
        agent_task = asyncio.create_task(agent.run())
        collector = Collector(mosquitto.url, timeseries, state, clock, client_id="collector-test")
        async with collector:
            site = ChargingSiteConfig.model_validate(
                {
                    "site": "lab",
                    "mode": "now",
                    "site_limit_a": 10,
                    "grid_meter": "meter-1",
                    "interval_s": 0.5,
                    "hold_seconds": 0,
                    "command_ttl_s": 10,
                    "edge_timeout_s": EDGE_TIMEOUT_S,
                    "chargers": [
                        {
                            "device": "charger-1",
                            "gateway": "gw-1",
                            "phases": 3,
                            "max_current_a": 32,
                        }
                    ],
                }
            )
            commands = PahoCommands(mosquitto.url, client_id="energy-test")
            decisions = Decisions()
            controller = ChargingController(site, StoreReadings(timeseries), commands, decisions)
            loop = asyncio.create_task(controller.run(clock))
            try:
                # The car is plugged in (state B/C in the store): the site limit is offered.
                await wait_until(lambda: 9.0 <= drawn_a() <= 10.0, 20, "the car drawing 10 A")
                assert decisions.recorded[-1].current_a == 10.0

                # A lower site limit: the controller follows, the car follows.
                controller.config = site.model_copy(update={"site_limit_a": 7})
                await wait_until(lambda: 6.5 <= drawn_a() <= 7.0, 10, "the car drawing 7 A")
                assert [d.current_a for d in decisions.recorded][-2:] == [10.0, 7.0]
                assert not agent.stats.failsafe_active

                # Kill the controller: within the edge's timeout the charger is at fail-safe.
                loop.cancel()
                killed = time.monotonic()
                await wait_until(
                    lambda: agent.stats.failsafe_active, EDGE_TIMEOUT_S + 3, "the fail-safe"
                )
                # The last command may have fed the watchdog just before the kill.
                assert time.monotonic() - killed <= EDGE_TIMEOUT_S + 1.5
                await wait_until(lambda: 5.5 <= drawn_a() <= 6.0, 5, "the fail-safe 6 A")
            finally:
                loop.cancel()
                commands.close()
        agent.stop()
        await asyncio.wait_for(agent_task, 10)
    timeseries.close()
    state.close()
