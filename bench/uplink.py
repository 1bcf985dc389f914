"""Readings/s through the outbox and uplink to a real Mosquitto, against bare paho QoS 1.

Both publish the same encoded telemetry payloads; the baseline is paho with its own thread and
the same in-flight window, the measured path stores every message in the SQLite outbox first
(committed before publishing, 50 concurrent writers sharing group commits, as the agent's
pollers do) and deletes it after its PUBACK.

    .venv/bin/python bench/uplink.py [--messages 20000] [--readings-per-message 10]
"""

import argparse
import asyncio
import sys
import tempfile
import threading
import time
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
DEVICES = 50
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

    def on_publish(
        client: mqtt.Client, userdata: object, mid: int, rc: object, props: object
    ) -> None:
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
    done.wait(300)
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return elapsed


async def through_outbox(
    port: int, messages: list[tuple[str, bytes]], per: int, sync: str
) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        limits = OutboxLimits(max_rows=10**7, max_bytes=10**10, max_age_ms=10**12)
        async with SqliteOutbox.open(Path(tmp) / "o.sqlite", limits, synchronous=sync) as outbox:
            state = (t.state_topic("bench", "gw-1"), b"{}")
            uplink = Uplink(
                SessionSettings(host="127.0.0.1", port=port, client_id="bench-outbox"),
                outbox=outbox,
                birth=lambda: state,
                will=lambda: state,
                max_inflight=WINDOW,
            )
            task = asyncio.create_task(uplink.run())
            while not uplink.stats.connected:
                await asyncio.sleep(0.01)
            started = time.perf_counter()
            for topic, payload in messages:
                await outbox.append(
                    lambda seq, topic=topic, payload=payload: Sealed(topic, payload, per), 0
                )
            while uplink.stats.acked < len(messages) or outbox.depth:
                await asyncio.sleep(0.005)
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
    print(f"messages: {args.messages} × {per} readings ({len(messages[0][1])} bytes each)")
    print(
        f"bare paho QoS 1:          {bare_rate:12,.0f} readings/s  ({args.messages / bare:,.0f} msg/s)"
    )
    print(
        f"outbox ({args.synchronous}) + uplink:  {our_rate:12,.0f} readings/s  ({args.messages / ours:,.0f} msg/s)"
    )
    print(f"ratio: {our_rate / bare_rate:.2f}  (target ≥ 0.5 and ≥ 5,000 readings/s)")


if __name__ == "__main__":
    main()
