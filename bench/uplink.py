"""Readings/s through the outbox and uplink to a real Mosquitto, against bare paho QoS 1.

Both publish the same encoded telemetry payloads to a Mosquitto started for the run. The
baseline is paho with its network thread and the same in-flight window; the measured path
commits every message to the SQLite outbox before it is published (50 concurrent writers, as
the agent's device pollers are, sharing group commits) and deletes it after its PUBACK.

    .venv/bin/python bench/uplink.py [--messages 20000] [--readings-per-message 10]
                                     [--synchronous FULL|NORMAL]
"""

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.outbox import OutboxLimits, Sealed, SqliteOutbox
from edge.uplink import SessionSettings, Uplink
from messages import Reading, TelemetryPayload, encode
from messages import topics as t
from tests.support.mosquitto import Mosquitto

WINDOW = 1000
#: Concurrent writers, as the agent's device pollers are; their commits are grouped.
WRITERS = 50
TS = 1_800_000_000_000


def payloads(messages: int, per_message: int) -> list[tuple[str, bytes]]:
    topic = t.telemetry_topic("bench", "gw-1", "meter-1")
    out = []
    for seq in range(messages):
        readings = [
            Reading(quantity="active_power_w", phase="l1", value=1000.0 + i, ts=TS + seq * 100 + i)
            for i in range(per_message)
        ]
        payload = TelemetryPayload(
            gateway="gw-1",
            boot_id="0123abcd",
            seq=seq,
            sent_at=TS,
            device="meter-1",
            readings=readings,
        )
        out.append((topic, encode(payload)))
    return out


def bare_paho(port: int, messages: list[tuple[str, bytes]]) -> float:
    done = threading.Event()
    acked = 0
    room = threading.Semaphore(WINDOW)

    def on_publish(client: mqtt.Client, userdata: object, mid: int, *rest: object) -> None:
        nonlocal acked
        acked += 1
        room.release()
        if acked == len(messages):
            done.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-bare")
    client.max_inflight_messages_set(WINDOW + 10)
    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    started = time.perf_counter()
    for topic, payload in messages:
        room.acquire()
        client.publish(topic, payload, qos=1)
    done.wait(600)
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return elapsed


async def until(condition: Callable[[], bool], step_s: float = 0.005) -> None:
    while not condition():  # noqa: ASYNC110 - polling counters is what a bench may do
        await asyncio.sleep(step_s)


async def through_outbox(
    port: int, messages: list[tuple[str, bytes]], per: int, synchronous: str
) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        limits = OutboxLimits(max_rows=10**7, max_bytes=10**10, max_age_ms=10**12)
        path = Path(tmp) / "outbox.sqlite"
        async with SqliteOutbox.open(path, limits, synchronous=synchronous) as outbox:
            state = (t.state_topic("bench", "gw-1"), b"{}")
            uplink = Uplink(
                SessionSettings(host="127.0.0.1", port=port, client_id="bench-outbox"),
                outbox=outbox,
                birth=lambda: state,
                will=lambda: state,
                max_inflight=WINDOW,
            )
            task = asyncio.create_task(uplink.run())
            await until(lambda: uplink.stats.connected)
            started = time.perf_counter()

            async def writer(share: list[tuple[str, bytes]]) -> None:
                for topic, payload in share:
                    sealed = Sealed(topic, payload, per)
                    await outbox.append(lambda seq, sealed=sealed: sealed, 0)

            await asyncio.gather(*(writer(messages[i::WRITERS]) for i in range(WRITERS)))
            await until(lambda: uplink.stats.acked >= len(messages) and outbox.depth == 0)
            elapsed = time.perf_counter() - started
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--readings-per-message", type=int, default=10)
    parser.add_argument("--synchronous", default="FULL", choices=["FULL", "NORMAL"])
    args = parser.parse_args()
    per = args.readings_per_message
    messages = payloads(args.messages, per)
    readings = args.messages * per
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp) / "mosquitto")
        broker.start()
        try:
            bare = bare_paho(broker.port, messages)
            ours = asyncio.run(through_outbox(broker.port, messages, per, args.synchronous))
        finally:
            broker.stop()
    bare_rate, our_rate = readings / bare, readings / ours
    print(f"{args.messages} messages × {per} readings, {len(messages[0][1])} bytes each")
    print(
        f"bare paho QoS 1        {bare_rate:10,.0f} readings/s  {args.messages / bare:8,.0f} msg/s"
    )
    print(
        f"outbox {args.synchronous:6} + uplink "
        f"{our_rate:10,.0f} readings/s  {args.messages / ours:8,.0f} msg/s"
    )
    print(f"ratio {our_rate / bare_rate:.2f}   (targets: ratio ≥ 0.5, ≥ 5,000 readings/s)")


if __name__ == "__main__":
    main()
