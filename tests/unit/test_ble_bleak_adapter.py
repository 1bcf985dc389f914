"""The bleak adapter's guard: timeouts, library errors and stray cancellations are link errors."""

import asyncio

import pytest
from bleak.exc import BleakError

from edge.ble import BleLinkError
from edge.ble._bleak_adapter import _guarded


async def test_a_library_error_becomes_a_link_error() -> None:
    async def fails() -> None:
        raise BleakError("org.bluez.Error.Failed")

    with pytest.raises(BleLinkError, match=r"read failed: org\.bluez\.Error\.Failed"):
        await _guarded(fails(), 1.0, "read")


async def test_a_timeout_becomes_a_link_error() -> None:
    with pytest.raises(BleLinkError, match="write failed"):
        await _guarded(asyncio.sleep(10), 0.01, "write")


async def test_a_request_cancelled_inside_the_stack_is_a_failed_operation() -> None:
    # What bumble does to pending requests when a link drops: it cancels their futures.
    pending: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(pending.cancel)
    with pytest.raises(BleLinkError, match="aborted by the Bluetooth stack"):
        await _guarded(pending, 1.0, "subscribe")


async def test_cancelling_the_caller_still_cancels_it() -> None:
    task = asyncio.create_task(_guarded(asyncio.sleep(10), 5.0, "read"))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
