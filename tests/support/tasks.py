"""Waiting for a condition and owning background tasks in async tests."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


async def wait_until(condition: Callable[[], bool], timeout_s: float) -> None:
    """Poll *condition* until it holds; ``TimeoutError`` after *timeout_s*."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.02)


@asynccontextmanager
async def running(*tasks: "asyncio.Task[None]") -> AsyncIterator[None]:
    """The block runs beside *tasks*; on the way out they are cancelled and awaited."""
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
