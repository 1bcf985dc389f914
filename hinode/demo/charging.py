"""The demo's EV charging loop: the factory's chargers following its PV surplus.

The cloud's :class:`ChargingController` runs in-process with the collector's store as its
readings, the demo's broker for its commands and the demo's clock for its rounds; the edge agent
applies the setpoints to the simulated wallboxes behind the factory's simulated grid meter, so
what the chargers draw shows up in the meter the controller reads next.
"""

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cloud import TimeSeriesStore
from cloud.energy import ChargerConfig, ChargingController, ChargingSiteConfig, Decision
from hinode.demo.quarter import SimulatedSite
from hinode.demo.timing import Timing
from hinode.energy.charging import JsonlDecisions, StoreReadings
from hinode.mqtt_commands import PahoCommands
from messages import Clock, now_ms

Mode = Literal["now", "minpv", "pv"]
#: How long closing the command client may take.
CLOSE_TIMEOUT_S = 5.0
#: How long the loop waits for the chargers' gateway to connect before its first round.
READY_TIMEOUT_S = 10.0
READY_POLL_S = 0.05


def charging_config(site: SimulatedSite, timing: Timing, mode: Mode) -> ChargingSiteConfig:
    """The controller's configuration for *site*, with periods fit for the demo's speed."""
    if site.grid_meter is None:
        msg = f"site {site.site} has no grid meter to follow"
        raise ValueError(msg)
    return ChargingSiteConfig(
        site=site.site,
        mode=mode,
        site_limit_a=site.charging_limit_a,
        grid_meter=site.grid_meter,
        interval_s=timing.controller_interval_s,
        command_ttl_s=timing.command_ttl_s,
        edge_timeout_s=timing.edge_timeout_s,
        stale_after_s=timing.stale_after_s,
        chargers=[
            ChargerConfig(
                device=unit.device,
                gateway=site.gateway,
                phases=unit.phases,
                max_current_a=unit.max_current_a,
            )
            for unit in site.chargers
        ],
    )


@dataclass
class DemoCharging:
    """The running loop and what the live view and the report show of it."""

    config: ChargingSiteConfig
    decisions_path: Path
    decisions: int = 0
    rounds: int = 0
    surplus_w: float | None = None
    #: Each charger's latest decision, how often it changed and every setpoint it was given
    #: (the full record is the decisions file; memory stays bounded on a long run).
    latest: dict[str, Decision] = field(default_factory=dict)
    changes: Counter[str] = field(default_factory=Counter)
    setpoints_given: dict[str, set[float]] = field(default_factory=dict)

    def record(self, decision: Decision) -> None:
        self.decisions += 1
        self.latest[decision.charger] = decision
        self.changes[decision.charger] += 1
        self.setpoints_given.setdefault(decision.charger, set()).add(decision.current_a)

    def setpoints_a(self) -> dict[str, float]:
        """The setpoint each charger was last given."""
        return {charger: decision.current_a for charger, decision in self.latest.items()}

    def reasons(self) -> dict[str, str]:
        """Why each charger has its setpoint."""
        return {charger: decision.reason for charger, decision in self.latest.items()}

    async def run(
        self,
        store: TimeSeriesStore,
        broker_url: str,
        clock: Clock,
        gateway_ready: Callable[[], bool] = lambda: True,
    ) -> None:
        """Rounds every ``interval_s`` of *clock* until cancelled.

        The first round waits for the chargers' gateway to be on the broker (for at most
        ``READY_TIMEOUT_S``): its session is clean, so a command sent before it subscribed is
        lost, and an unchanged setpoint is only sent again half a TTL later.
        """
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(READY_TIMEOUT_S):
                while not gateway_ready():  # noqa: ASYNC110 - the agent has a flag, no event
                    await asyncio.sleep(READY_POLL_S)
        log = JsonlDecisions(self.decisions_path)
        commands = PahoCommands(broker_url, client_id=f"hinode-demo-ev-{self.config.site}")
        recorder = _Both(self, log)
        controller = ChargingController(self.config, StoreReadings(store), commands, recorder)
        try:
            while True:
                request = controller.step(now_ms(clock))
                self.rounds = controller.rounds
                self.surplus_w = request.pv_surplus_w
                await clock.sleep(self.config.interval_s)
        finally:
            log.close()
            # paho's disconnect and thread join are quick, but never hang the demo's exit.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await asyncio.to_thread(commands.close)

    def summary(self) -> dict[str, object]:
        """The loop's part of the closing report."""
        setpoints, reasons = self.setpoints_a(), self.reasons()
        return {
            "site": self.config.site,
            "mode": self.config.mode,
            "grid_meter": self.config.grid_meter,
            "rounds": self.rounds,
            "decisions": self.decisions,
            "decisions_file": str(self.decisions_path),
            "interval_s": self.config.interval_s,
            "command_ttl_s": self.config.command_ttl_s,
            "edge_timeout_s": self.config.edge_timeout_s,
            "chargers": {
                entry.device: {
                    "setpoint_changes": self.changes[entry.device],
                    "setpoints_a": sorted(self.setpoints_given.get(entry.device, set())),
                    "last_setpoint_a": setpoints.get(entry.device),
                    "last_reason": reasons.get(entry.device),
                }
                for entry in self.config.chargers
            },
            "last_pv_surplus_w": None if self.surplus_w is None else round(self.surplus_w, 1),
        }


@dataclass
class _Both:
    """Records a decision in the demo's memory and in its JSON-lines log."""

    demo: DemoCharging
    log: JsonlDecisions

    def record(self, decision: Decision) -> None:
        self.demo.record(decision)
        self.log.record(decision)
