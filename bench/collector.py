"""Collector benchmarks, each against a baseline measured in the same run.

1. Ingest: readings/s through validation + dedupe + the SQLite time series, in the collector's
   batches, against a raw ``executemany`` of the same rows into the same schema.
   Targets: ≥ 50,000 readings/s and ≥ 0.5 × raw.
2. InfluxDB: points/s through the adapter (line protocol, v2 write API, via the test
   compatibility layer onto InfluxDB 1.x) against posting the same lines to ``/write`` directly.
   Target: ≥ 50,000 points/s.
3. End to end: publish → stored latency at 5,000 readings/s through a real Mosquitto into a
   collector, against publish → delivered to a plain subscriber. Target: p99 < 1 s.

Run: ``.venv/bin/python bench/collector.py`` (needs mosquitto; influxd for part 2).
"""

import asyncio
import http.client
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as paho  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from cloud import (  # noqa: E402
    Batch,
    Collector,
    Ingest,
    ReadingQuery,
    StoredReading,
    open_state,
    open_timeseries,
)
from cloud._line_protocol import to_lines  # noqa: E402
from cloud._sqlite_timeseries import INSERT, connect  # noqa: E402
from messages import Reading, TelemetryPayload, WallClock, encode  # noqa: E402
from messages.topics import telemetry_topic  # noqa: E402
from tests.support.influxdb import InfluxDB, influxd_available  # noqa: E402
from tests.support.mosquitto import Mosquitto  # noqa: E402

BATCH_MAX = 1000
#: A three-phase meter: 11 readings per message, 4 points (no phase, l1, l2, l3) in InfluxDB.
METER = [
    ("active_power_w", None),
    ("active_power_w", "l1"),
    ("active_power_w", "l2"),
    ("active_power_w", "l3"),
    ("voltage_v", "l1"),
    ("voltage_v", "l2"),
    ("voltage_v", "l3"),
    ("current_a", "l1"),
    ("current_a", "l2"),
    ("current_a", "l3"),
    ("frequency_hz", None),
]
BASE_TS = 1_795_000_000_000


def messages(count: int, *, devices: int = 50, sent_at: int = BASE_TS) -> list[tuple[str, bytes]]:
    out = []
    for seq in range(count):
        device = f"meter-{seq % devices}"
        ts = BASE_TS + (seq // devices) * 1000
        payload = TelemetryPayload(
            gateway="gw-bench",
            boot_id="be7c4b00",
            seq=seq,
            sent_at=sent_at,
            device=device,
            readings=[
                Reading(quantity=q, phase=p, value=230.0 + i + seq % 7, ts=ts)  # type: ignore[arg-type]
                for i, (q, p) in enumerate(METER)
            ],
        )
        out.append((telemetry_topic("site-bench", "gw-bench", device), encode(payload)))
    return out


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>10,.0f}/s"


# -- 1. ingest into SQLite ------------------------------------------------------------------------


def bench_ingest(workdir: Path, count: int) -> tuple[float, float, list[StoredReading]]:
    stream = messages(count)
    timeseries = open_timeseries(workdir / "pipeline")
    state_store = open_state(workdir / "pipeline")
    ingest = Ingest()
    received_at = BASE_TS
    all_rows: list[StoredReading] = []
    pipeline_s = state_s = 0.0
    batch = Batch()
    for topic, payload in [*stream, ("", b"")]:
        if payload:
            started = time.perf_counter()
            ingest.accept(topic, payload, received_at, batch)
            pipeline_s += time.perf_counter() - started
            if batch.messages < BATCH_MAX and len(batch.readings) < BATCH_MAX:
                continue
        started = time.perf_counter()
        timeseries.write(batch.readings)
        pipeline_s += time.perf_counter() - started
        started = time.perf_counter()
        state_store.record(batch.state)
        state_s += time.perf_counter() - started
        all_rows.extend(batch.readings)
        batch = Batch()
    timeseries.close()
    state_store.close()
    return pipeline_s, state_s, all_rows


def bench_raw_executemany(workdir: Path, readings: Sequence[StoredReading]) -> float:
    """The same rows, already numbered by series, into the same schema and batches."""
    connection = connect(workdir / "raw.sqlite")
    series: dict[tuple[object, ...], int] = {}
    for r in readings:
        key = r[:5]
        if key not in series:
            series[key] = len(series) + 1
            connection.execute(
                "INSERT INTO series (id, site, gateway, device, quantity, phase, kind)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (series[key], *key[:4], key[4] or "", r.kind),
            )
    rows = [(series[r[:5]], r.ts, r.value, r.seq) for r in readings]
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH_MAX):
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(INSERT, rows[start : start + BATCH_MAX])
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


# -- 2. InfluxDB -----------------------------------------------------------------------------------


def chunks(rows: Sequence[StoredReading], size: int) -> Iterator[Sequence[StoredReading]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def bench_influx(workdir: Path, rows: Sequence[StoredReading]) -> None:
    if not influxd_available():
        print("2. InfluxDB: SKIPPED — influxd is not installed (Debian package 'influxdb')")
        return
    server = InfluxDB(workdir / "influxdb")
    server.start()
    try:
        store = open_timeseries(server.url)
        per_write = 5500  # readings per write = 2,000 points of this meter
        points = len(to_lines(rows))
        started = time.perf_counter()
        for part in chunks(rows, per_write):
            store.write(part)
        adapter_s = time.perf_counter() - started
        stored = sum(1 for _ in store.query(ReadingQuery()))
        store.close()
        # Baseline: the same lines posted straight to InfluxDB 1.x /write (a second database).
        server.execute("CREATE DATABASE baseline")
        bodies = ["\n".join(to_lines(part)).encode() for part in chunks(rows, per_write)]
        connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=60)
        started = time.perf_counter()
        for body in bodies:
            connection.request("POST", "/write?db=baseline&precision=ms", body=body)
            response = connection.getresponse()
            response.read()
            assert response.status == 204, response.status
        raw_s = time.perf_counter() - started
        connection.close()
    finally:
        server.stop()
    print(
        f"2. InfluxDB adapter:   {rate(points, adapter_s)} points ({rate(len(rows), adapter_s)}"
        f" readings), {stored:,} readings read back"
    )
    print(f"   raw POST /write:    {rate(points, raw_s)} points")
    print(
        f"   ratio adapter/raw: {raw_s / adapter_s:.2f}   "
        f"target ≥ 50,000 points/s: {'met' if points / adapter_s >= 50_000 else 'NOT met'}"
    )


# -- 3. end to end ---------------------------------------------------------------------------------


class TimedStore:
    """The SQLite time series, noting when each message's readings were durably written."""

    def __init__(self, path: Path) -> None:
        self._store = open_timeseries(path)
        self.url = self._store.url
        self.stored_at: dict[int, float] = {}

    def write(self, readings: Sequence[StoredReading]) -> int:
        stored = self._store.write(readings)
        now = time.time()
        for reading in readings:
            self.stored_at.setdefault(reading.seq, now)
        return stored

    def query(self, query: ReadingQuery) -> Iterator[StoredReading]:
        return self._store.query(query)

    def close(self) -> None:
        self._store.close()


def publish_paced(url: str, stream: list[tuple[str, bytes]], per_s: float) -> dict[int, float]:
    host, port = url.removeprefix("mqtt://").split(":")
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher")
    client.max_inflight_messages_set(1000)
    client.connect(host, int(port))
    client.loop_start()
    published: dict[int, float] = {}
    infos = []
    begin = time.monotonic()
    for seq, (topic, payload) in enumerate(stream):
        lag = seq / per_s - (time.monotonic() - begin)
        if lag > 0:
            time.sleep(lag)
        published[seq] = time.time()
        infos.append(client.publish(topic, payload, qos=1))
    for info in infos:
        info.wait_for_publish(30)
    client.disconnect()
    client.loop_stop()
    return published


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_end_to_end(workdir: Path, seconds: float) -> None:
    per_s = 5000 / len(METER)
    stream = messages(int(per_s * seconds))
    broker = Mosquitto(workdir / "mosquitto")
    broker.start()
    try:
        # Baseline: publish → delivered to a plain paho subscriber.
        delivered: dict[int, float] = {}
        host, port = broker.url.removeprefix("mqtt://").split(":")
        subscriber = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-subscriber")

        def on_message(_c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
            delivered[len(delivered)] = time.time()

        subscriber.on_message = on_message
        subscriber.connect(host, int(port))
        subscriber.subscribe("hinode/v1/+/+/telemetry/+", qos=1)
        subscriber.loop_start()
        time.sleep(0.5)
        published = publish_paced(broker.url, stream, per_s)
        deadline = time.monotonic() + 10
        while len(delivered) < len(stream) and time.monotonic() < deadline:
            time.sleep(0.05)
        subscriber.disconnect()
        subscriber.loop_stop()
        baseline = [delivered[i] - published[i] for i in delivered]

        timed = TimedStore(workdir / "e2e")
        state_store = open_state(workdir / "e2e")

        async def collect() -> dict[int, float]:
            collector = Collector(
                broker.url, timed, state_store, WallClock(), client_id="bench-collector"
            )
            async with collector:
                published.update(await asyncio.to_thread(publish_paced, broker.url, stream, per_s))
                end = time.monotonic() + 15
                while len(timed.stored_at) < len(stream) and time.monotonic() < end:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            return timed.stored_at

        stored_at = asyncio.run(collect())
        timed.close()
        state_store.close()
    finally:
        broker.stop()
    latencies = [stored_at[seq] - published[seq] for seq in stored_at]
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    base_p99 = percentile(baseline, 0.99)
    print(
        f"3. end to end at {per_s * len(METER):,.0f} readings/s ({per_s:,.0f} messages/s),"
        f" {len(latencies):,} of {len(stream):,} messages stored:"
    )
    print(
        f"   publish→stored p50 {p50 * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms"
        f"  max {max(latencies) * 1000:6.1f} ms  mean {statistics.mean(latencies) * 1000:.1f} ms"
    )
    print(f"   publish→delivered (plain subscriber) p99 {base_p99 * 1000:6.1f} ms")
    print(
        f"   ratio p99 stored/delivered: {p99 / max(base_p99, 1e-6):.1f}   "
        f"target p99 < 1 s: {'met' if p99 < 1.0 else 'NOT met'}"
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="hinode-bench-") as tmp:
        workdir = Path(tmp)
        count = 20_000
        pipeline_s, state_s, rows = bench_ingest(workdir, count)
        raw_s = bench_raw_executemany(workdir, rows)
        readings = len(rows)
        print(f"1. ingest of {count:,} messages / {readings:,} readings, batches of {BATCH_MAX}:")
        print(f"   validation + dedupe + SQLite: {rate(readings, pipeline_s)} readings")
        print(f"   raw executemany, same rows:   {rate(readings, raw_s)} readings")
        print(f"   … plus the state store:       {rate(readings, pipeline_s + state_s)} readings")
        ratio = raw_s / pipeline_s
        met = readings / pipeline_s >= 50_000 and ratio >= 0.5
        print(
            f"   ratio pipeline/raw: {ratio:.2f}   target ≥ 50,000/s and ≥ 0.5: "
            f"{'met' if met else 'NOT met'}"
        )
        bench_influx(workdir, rows)
        bench_end_to_end(workdir, seconds=10.0)


if __name__ == "__main__":
    main()
