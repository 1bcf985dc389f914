"""The collector in-process against a real Mosquitto (and the demo's amqtt broker)."""

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cloud import (
    Collector,
    ReadingQuery,
    StateStore,
    StoredReading,
    TimeSeriesStore,
    open_state,
    open_timeseries,
)
from hinode.broker import EmbeddedBroker
from messages import TransportError, WallClock
from tests.support.cloud_messages import (
    TOPIC,
    Publisher,
    events,
    malformed,
    state,
    telemetry,
    vitals,
)
from tests.support.mosquitto import Mosquitto

pytestmark = pytest.mark.integration


async def eventually(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        await asyncio.sleep(0.05)


def stores(path: Path) -> tuple[TimeSeriesStore, StateStore]:
    return open_timeseries(path), open_state(path)


def collector(url: str, path: Path, client_id: str = "collector-1", **options: object) -> Collector:
    timeseries, state_store = stores(path)
    return Collector(url, timeseries, state_store, WallClock(), client_id=client_id, **options)  # type: ignore[arg-type]


def stored(path: Path) -> list[StoredReading]:
    timeseries = open_timeseries(path)
    try:
        return list(timeseries.query(ReadingQuery()))
    finally:
        timeseries.close()


async def test_valid_messages_are_stored_and_a_bad_one_is_kept_with_its_reason(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    async with collector(mosquitto.url, tmp_path) as running:
        assert running.protocol == "v5"
        with Publisher(mosquitto.url) as publisher:
            publisher.publish(*state(online=True, seq=0))
            for seq in range(1, 21):
                publisher.publish(*telemetry(seq))
            publisher.publish(*vitals(21))
            publisher.publish(*events(22))
            bad = json.loads(telemetry(23)[1])
            bad["readings"][0]["value"] = "high"
            publisher.publish(TOPIC, json.dumps(bad).encode())
            publisher.publish(*telemetry(24))
        await eventually(lambda: running.stats.received == 25 and running.stats.invalid == 1)
        stats = running.stats
    assert stats.stored_readings == 21 * 5 + 1
    assert stats.gap_list() == [{"gateway": "gw-1", "boot_id": "b00710ad", "first": 23, "last": 23}]
    rows = stored(tmp_path)
    assert len(rows) == 106
    assert not any(row.seq == 23 for row in rows), "an invalid message was stored as data"
    state_store = open_state(tmp_path)
    dead = state_store.dead_letters()
    assert dead.count == 1
    assert "readings.0.value" in dead.latest[0].reason
    assert json.loads(dead.latest[0].payload) == bad
    (gateway,) = state_store.gateways()
    assert gateway.online is True
    state_store.close()


async def test_two_collectors_on_one_shared_subscription_split_the_load(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    first = collector(mosquitto.url, tmp_path, "collector-a")
    second = collector(mosquitto.url, tmp_path, "collector-b")
    async with first, second:
        with Publisher(mosquitto.url) as publisher:
            for seq in range(1, 401):
                publisher.publish(*telemetry(seq))
        await eventually(lambda: first.stats.received + second.stats.received == 400)
        await eventually(lambda: first.stats.stored_readings + second.stats.stored_readings == 2000)
    assert first.stats.received > 50
    assert second.stats.received > 50
    rows = stored(tmp_path)
    assert sorted({row.seq for row in rows}) == list(range(1, 401))
    assert len(rows) == 2000
    state_store = open_state(tmp_path)
    assert state_store.gaps() == []
    state_store.close()


class FailingStore:
    """A time-series store that is down."""

    url = "failing://"

    def write(self, readings: Sequence[StoredReading]) -> int:
        msg = "store is down"
        raise TransportError(msg)

    def query(self, query: ReadingQuery) -> list[StoredReading]:
        return []

    def close(self) -> None:
        pass


async def test_messages_are_not_acknowledged_until_written(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    down = Collector(
        mosquitto.url, FailingStore(), open_state(tmp_path), WallClock(), client_id="collector-1"
    )
    async with down:
        with Publisher(mosquitto.url) as publisher:
            for seq in range(1, 11):
                publisher.publish(*telemetry(seq))
        await eventually(lambda: down.stats.received == 10 and down.stats.write_failures >= 2)
    assert down.stats.stored_readings == 0
    # The same client id comes back with a working store: the broker delivers everything again.
    async with collector(mosquitto.url, tmp_path, "collector-1") as back:
        await eventually(lambda: back.stats.stored_readings == 50)
    assert sorted({row.seq for row in stored(tmp_path)}) == list(range(1, 11))


async def test_the_collector_reconnects_after_the_broker_restarts(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    async with collector(mosquitto.url, tmp_path) as running:
        with Publisher(mosquitto.url) as publisher:
            for seq in range(1, 11):
                publisher.publish(*telemetry(seq))
        await eventually(lambda: running.stats.stored_readings == 50)
        mosquitto.stop()
        await eventually(lambda: not running.connected)
        mosquitto.start()
        await eventually(lambda: running.connected, timeout=40)
        with Publisher(mosquitto.url) as publisher:
            for seq in range(11, 21):
                publisher.publish(*telemetry(seq))
        await eventually(lambda: running.stats.stored_readings == 100)


async def test_on_the_demo_broker_the_collector_falls_back_to_mqtt_3_1_1(tmp_path: Path) -> None:
    async with EmbeddedBroker() as broker, collector(broker.url, tmp_path) as running:
        assert running.protocol == "v311"
        publisher = await asyncio.to_thread(Publisher, broker.url)
        for seq in range(1, 6):
            publisher.publish(*telemetry(seq))
        await asyncio.to_thread(publisher.close)
        await eventually(lambda: running.stats.stored_readings == 25)


def test_fuzz_through_the_broker_dead_letters_every_malformed_message(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    stream: list[tuple[str, bytes, str | None]] = []
    seqs = iter(range(1, 1_000_000))

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        phases=(Phase.generate,),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def draw(data: st.DataObject) -> None:
        stream.extend(data.draw(malformed(next(seqs), reachable=True)) for _ in range(20))
        topic, payload = telemetry(next(seqs))
        stream.append((topic, payload, None))

    draw()
    bad = sum(1 for *_, damage in stream if damage is not None)
    good = len(stream) - bad

    async def run() -> None:
        async with collector(mosquitto.url, tmp_path) as running:
            with Publisher(mosquitto.url) as publisher:
                for topic, payload, _ in stream:
                    publisher.publish(topic, payload)
            await eventually(lambda: running.stats.received == len(stream), timeout=60)
            await eventually(lambda: running.stats.invalid == bad)
            await eventually(lambda: running.stats.stored_readings == good * 5)

    asyncio.run(run())
    assert bad >= 500
    state_store = open_state(tmp_path)
    assert state_store.dead_letters().count == bad
    state_store.close()
    assert len(stored(tmp_path)) == good * 5


async def test_a_gateway_goes_offline_with_its_last_will_and_a_late_old_will_is_ignored(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    async with collector(mosquitto.url, tmp_path) as running:
        with Publisher(mosquitto.url) as publisher:
            publisher.publish(*state(online=True, seq=4, boot_id="aaaaaaaa"), wait=True)
            publisher.publish(*telemetry(5, boot_id="aaaaaaaa"), wait=True)
            publisher.publish(*state(online=False, seq=4, boot_id="aaaaaaaa"), wait=True)
        await eventually(lambda: running.stats.received == 3 and running.stats.batches >= 1)
        state_store = open_state(tmp_path)
        await eventually(lambda: state_store.gateways()[0].online is False)
        with Publisher(mosquitto.url) as publisher:
            publisher.publish(*state(online=True, seq=5, boot_id="bbbbbbbb"), wait=True)
            publisher.publish(*state(online=False, seq=4, boot_id="aaaaaaaa"), wait=True)
        await eventually(lambda: running.stats.received == 5)
        await eventually(lambda: state_store.gateways()[0].boot_id == "bbbbbbbb")
        await asyncio.sleep(0.5)  # the late will of the old boot has been processed too
        (gateway,) = state_store.gateways()
        assert (gateway.online, gateway.boot_id, gateway.version) == (True, "bbbbbbbb", "0.1.0")
        state_store.close()
