"""The time port: every component takes 'now' and its sleeps from a Clock.

A wall clock in production; a scaled clock in the demo and in tests, so that a simulated day
with its weekday/holiday and day/night patterns passes in minutes and fault tests need no sleeps.
"""

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """Source of the current time and of waits, both in (possibly simulated) seconds."""

    def now(self) -> float:
        """Seconds since the Unix epoch, UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait *seconds* of this clock's time."""
        ...


def now_ms(clock: Clock) -> int:
    """The clock's time as epoch milliseconds, the wire contract's timestamp unit."""
    return int(clock.now() * 1000)


class WallClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ScaledClock:
    """Simulated time starting at *start* and running *speed* times faster than real time."""

    def __init__(self, *, speed: float = 1.0, start: float | None = None) -> None:
        if speed <= 0:
            msg = f"clock speed must be positive, got {speed}"
            raise ValueError(msg)
        self.speed = speed
        self._start = time.time() if start is None else start
        self._origin = time.monotonic()

    def now(self) -> float:
        return self._start + (time.monotonic() - self._origin) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0) / self.speed)
