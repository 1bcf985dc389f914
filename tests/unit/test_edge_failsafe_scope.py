"""The fail-safe watchdog guards devices that have a fail-safe value, and only those.

The drivers here are in-memory stand-ins for a Modbus charger (the fail-safe decision is what is
under test, not the bus); the clock is a scaled clock so a minute of silence takes milliseconds.
"""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from edge.commands import CommandHandler, Result
from edge.devices import PointLimits
from messages import Event, Reading, ScaledClock

CHARGER_LIMITS = PointLimits(allowed=((0.0, 0.0), (6.0, 32.0)), unit="A", fail_safe=6.0)


@dataclass
class Charger:
    """A charger that remembers what was written to it."""

    id: str = "charger-1"
    kind: Literal["modbus_tcp", "modbus_rtu", "ble", "gnss"] = "modbus_tcp"
    model: str = "abb_terra_ac"
    poll_interval_s: float = 1.0
    points: Mapping[str, PointLimits] = field(
        default_factory=lambda: {"charge_current_limit_a": CHARGER_LIMITS}
    )
    written: list[tuple[str, float]] = field(default_factory=list)

    async def poll(self) -> list[Reading]:
        return []

    async def write(self, point: str, value: float) -> float | None:
        self.written.append((point, value))
        return value


async def silent_cloud(drivers: Mapping[str, Charger]) -> list[Event]:
    events: list[Event] = []

    async def on_result(result: Result) -> None:
        del result

    async def on_event(event: Event) -> None:
        events.append(event)

    handler = CommandHandler(
        gateway="gw-1",
        drivers=drivers,
        clock=ScaledClock(speed=1000.0),
        heartbeat_timeout_s=60,
        on_result=on_result,
        on_event=on_event,
    )
    task = asyncio.create_task(handler.run())
    await asyncio.sleep(0.3)  # five simulated minutes without a word from the cloud
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return events


async def test_a_charger_falls_back_when_the_cloud_is_silent() -> None:
    charger = Charger()
    events = await silent_cloud({"charger-1": charger})
    assert [event.kind for event in events] == ["failsafe"]
    assert charger.written == [("charge_current_limit_a", 6.0)]


async def test_a_gateway_without_chargers_raises_no_fail_safe() -> None:
    assert await silent_cloud({}) == []
