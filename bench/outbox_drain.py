"""Drain rate of a 1,000,000-reading backlog from the outbox to a real Mosquitto.

The outbox is filled while no broker runs (as after a day offline), then the uplink connects
and the clock runs until the last message is acknowledged and deleted. The baseline is the same
messages published straight from memory by bare paho QoS 1 with the same window.

    .venv/bin/python bench/outbox_drain.py [--readings 1000000] [--readings-per-message 30]
"""

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from uplink import bare_paho, payloads  # bench/uplink.py, next to this script

from edge.outbox import OutboxLimits, Sealed, SqliteOutbox
from edge.uplink import SessionSettings, Uplink
from messages import topics as t
from tests.support.mosquitto import Mosquitto

WRITERS = 50


async def until(condition: Callable[[], bool], step_s: float = 0.01) -> None:
    while not condition():  # noqa: ASYNC110 - polling counters is what a bench may do
        await asyncio.sleep(step_s)


async def fill(outbox: SqliteOutbox, messages: list[tuple[str, bytes]], per: int) -> None:
    async def writer(share: list[tuple[str, bytes]]) -> None:
        for topic, payload in share:
            sealed = Sealed(topic, payload, per)
            await outbox.append(lambda seq, sealed=sealed: sealed, 0)

    await asyncio.gather(*(writer(messages[i::WRITERS]) for i in range(WRITERS)))


async def drain(port: int, path: Path, total: int) -> float:
    limits = OutboxLimits(max_rows=10**7, max_bytes=10**10, max_age_ms=10**12)
    async with SqliteOutbox.open(path, limits) as outbox:
        assert outbox.depth_readings == total, outbox.depth_readings
        state = (t.state_topic("bench", "gw-1"), b"{}")
        uplink = Uplink(
            SessionSettings(host="127.0.0.1", port=port, client_id="bench-drain"),
            outbox=outbox,
            birth=lambda: state,
            will=lambda: state,
        )
        started = time.perf_counter()
        task = asyncio.create_task(uplink.run())
        await until(lambda: outbox.depth == 0)
        elapsed = time.perf_counter() - started
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return elapsed


async def build_backlog(path: Path, messages: list[tuple[str, bytes]], per: int) -> float:
    limits = OutboxLimits(max_rows=10**7, max_bytes=10**10, max_age_ms=10**12)
    started = time.perf_counter()
    async with SqliteOutbox.open(path, limits) as outbox:
        await fill(outbox, messages, per)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=1_000_000)
    parser.add_argument("--readings-per-message", type=int, default=30)
    args = parser.parse_args()
    per = args.readings_per_message
    count = args.readings // per
    messages = payloads(count, per)
    total = count * per
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "outbox.sqlite"
        filled = asyncio.run(build_backlog(path, messages, per))
        broker = Mosquitto(Path(tmp) / "mosquitto")
        broker.start()
        try:
            drained = asyncio.run(drain(broker.port, path, total))
            bare = bare_paho(broker.port, messages)
        finally:
            broker.stop()
    print(
        f"backlog: {total:,} readings in {count:,} messages of {per} ({len(messages[0][1])} bytes)"
    )
    print(f"filled in {filled:.1f} s ({total / filled:,.0f} readings/s committed)")
    print(f"drained in {drained:.1f} s: {total / drained:,.0f} readings/s  (target ≥ 10,000)")
    print(f"bare paho, same messages from memory: {total / bare:,.0f} readings/s")
    print(f"ratio drain / bare paho: {bare / drained:.2f}")


if __name__ == "__main__":
    main()
