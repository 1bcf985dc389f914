"""The storage adapters against their real databases: SQLite, PostgreSQL and InfluxDB."""

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud import (
    Batch,
    Ingest,
    ReadingQuery,
    StateStore,
    StoredReading,
    TimeSeriesStore,
    open_state,
    open_timeseries,
)
from cloud._model import DeadLetter, DeviceActivity, EventRecord, GatewayState, StateUpdate
from tests.support.cloud_messages import BASE_TS
from tests.support.cloud_messages import state as state_message
from tests.support.influxdb import InfluxDB


def reading(
    ts: int, quantity: str = "active_power_w", *, device: str = "meter-1", phase: str | None = None
) -> StoredReading:
    return StoredReading("site-1", "gw-1", device, quantity, phase, ts, float(ts % 1000), ts % 97)


@pytest.fixture(params=["sqlite", pytest.param("influx", marks=pytest.mark.integration)])
def timeseries(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TimeSeriesStore]:
    if request.param == "sqlite":
        store = open_timeseries(tmp_path)
    else:
        server: InfluxDB = request.getfixturevalue("influxdb")
        store = open_timeseries(server.url)
    yield store
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def state_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    url = tmp_path if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    store = open_state(url)
    yield store
    store.close()


# -- time series ---------------------------------------------------------------------------------


def test_writing_the_same_readings_twice_stores_them_once(timeseries: TimeSeriesStore) -> None:
    rows = [reading(BASE_TS + i) for i in range(100)]
    timeseries.write(rows)
    timeseries.write([*rows[50:], reading(BASE_TS + 100)])
    stored = list(timeseries.query(ReadingQuery()))
    assert [r.ts for r in stored] == [BASE_TS + i for i in range(101)]
    assert stored[0] == rows[0]


def test_queries_filter_by_time_device_and_quantity_in_time_order(
    timeseries: TimeSeriesStore,
) -> None:
    rows = [
        reading(BASE_TS + 3000, device="meter-2"),
        reading(BASE_TS + 1000),
        reading(BASE_TS + 2000, "voltage_v", phase="l1"),
        reading(BASE_TS + 2000, "voltage_v", phase="l2"),
        reading(BASE_TS + 2000),
    ]
    timeseries.write(rows)
    everything = list(timeseries.query(ReadingQuery()))
    assert [r.ts for r in everything] == sorted(r.ts for r in rows)
    assert {r.phase for r in everything} == {None, "l1", "l2"}
    window = ReadingQuery(since=BASE_TS + 2000, until=BASE_TS + 3000)
    assert {(r.quantity, r.phase) for r in timeseries.query(window)} == {
        ("active_power_w", None),
        ("voltage_v", "l1"),
        ("voltage_v", "l2"),
    }
    only = ReadingQuery(device="meter-1", quantity="active_power_w")
    assert [r.ts for r in timeseries.query(only)] == [BASE_TS + 1000, BASE_TS + 2000]


def test_sqlite_reports_how_many_readings_were_new(tmp_path: Path) -> None:
    store = open_timeseries(f"sqlite:///{tmp_path / 'ts.sqlite'}")
    assert store.write([reading(BASE_TS), reading(BASE_TS + 1)]) == 2
    assert store.write([reading(BASE_TS), reading(BASE_TS + 2)]) == 1
    store.close()


@pytest.mark.integration
def test_influx_pages_through_long_results(influxdb: InfluxDB) -> None:
    store = open_timeseries(influxdb.url)
    store.write([reading(BASE_TS + i) for i in range(25_000)])
    assert sum(1 for _ in store.query(ReadingQuery())) == 25_000
    store.close()


# -- state ---------------------------------------------------------------------------------------


def sequences(*seqs: int, boot_id: str = "b00710ad") -> StateUpdate:
    return StateUpdate(recorded_at=BASE_TS, sequences={("site-1", "gw-1", boot_id): list(seqs)})


def test_gaps_open_and_close_as_late_messages_arrive(state_store: StateStore) -> None:
    report = state_store.record(sequences(1, 2, 6))
    assert [(g.first, g.last) for g in state_store.gaps()] == [(3, 5)]
    assert report.open_gaps[("gw-1", "b00710ad")][0].first == 3
    report = state_store.record(sequences(4, 2))
    assert report.duplicates == 1
    assert report.filled == 1
    assert [(g.first, g.last) for g in state_store.gaps()] == [(3, 3), (5, 5)]
    state_store.record(sequences(3, 5))
    assert state_store.gaps() == []


def test_gateway_state_follows_birth_and_will(state_store: StateStore) -> None:
    def state(*, online: bool, seq: int, boot_id: str, sent_at: int) -> StateUpdate:
        return StateUpdate(
            recorded_at=sent_at,
            gateways_seen={("site-1", "gw-1"): sent_at},
            gateway_states=[
                GatewayState(
                    site="site-1",
                    gateway="gw-1",
                    online=online,
                    boot_id=boot_id,
                    seq=seq,
                    sent_at=sent_at,
                    version="1.0" if online else None,
                    devices=("meter-1",),
                    received_at=sent_at,
                )
            ],
        )

    state_store.record(state(online=True, seq=5, boot_id="aaaaaaaa", sent_at=BASE_TS + 10))
    assert state_store.gateways()[0].online is True
    state_store.record(state(online=False, seq=5, boot_id="aaaaaaaa", sent_at=BASE_TS))
    assert state_store.gateways()[0].online is False
    state_store.record(state(online=True, seq=9, boot_id="bbbbbbbb", sent_at=BASE_TS + 50))
    # the old boot's will, delivered late, changes nothing
    state_store.record(state(online=False, seq=5, boot_id="aaaaaaaa", sent_at=BASE_TS))
    (gateway,) = state_store.gateways()
    assert (gateway.online, gateway.boot_id, gateway.last_seen) == (True, "bbbbbbbb", BASE_TS + 50)


def test_devices_events_and_dead_letters_are_kept(state_store: StateStore) -> None:
    update = StateUpdate(
        recorded_at=BASE_TS,
        devices={
            ("site-1", "gw-1", "meter-1"): DeviceActivity(
                kind="telemetry", last_ts=BASE_TS, last_seen=BASE_TS, messages=2, readings=10
            )
        },
        events=[
            EventRecord("site-1", "gw-1", "b00710ad", 3, 0, BASE_TS, "fault", "meter-1", "x", "{}")
        ],
        dead_letters=[DeadLetter(BASE_TS, "hinode/v1/x", b"\xff\x00", 2, "payload: Invalid JSON")],
    )
    state_store.record(update)
    state_store.record(update)  # the same events again are not stored twice
    (device,) = state_store.devices()
    assert (device.messages, device.readings, device.last_ts) == (4, 20, BASE_TS)
    dead = state_store.dead_letters()
    assert dead.count == 2
    assert dead.latest[0].payload == b"\xff\x00"
    assert dead.latest[0].reason == "payload: Invalid JSON"


@pytest.mark.integration
def test_two_writers_on_postgresql_merge_interleaved_sequences(postgres_url: str) -> None:
    stores = [open_state(postgres_url), open_state(postgres_url)]
    errors: list[BaseException] = []

    def write(store: StateStore, parity: int) -> None:
        try:
            for start in range(0, 400, 20):
                store.record(sequences(*[s for s in range(start, start + 20) if s % 2 == parity]))
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(s, p)) for s, p in zip(stores, (0, 1), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert stores[0].gaps() == []
    for store in stores:
        store.close()


@pytest.mark.integration
def test_influx_keeps_the_rest_of_a_write_when_points_are_past_retention(
    influxdb: InfluxDB,
) -> None:
    influxdb.execute(
        'CREATE RETENTION POLICY "short" ON "hinode" DURATION 1h REPLICATION 1 DEFAULT'
    )
    store = open_timeseries(influxdb.url)
    now = int(time.time() * 1000)
    fresh = [reading(now - i * 1000) for i in range(5)]
    assert store.write([*fresh, reading(now - 10 * 3600 * 1000)]) == 6  # not retried forever
    assert [r.ts for r in store.query(ReadingQuery())] == sorted(r.ts for r in fresh)
    store.close()


def test_a_message_recorded_again_after_a_crash_is_not_counted_twice(
    state_store: StateStore,
) -> None:
    def batch(*seqs: int) -> StateUpdate:
        update = sequences(*seqs)
        activity = DeviceActivity(kind="telemetry", last_ts=BASE_TS, last_seen=BASE_TS)
        for seq in seqs:
            activity.messages += 1
            activity.readings += 5
            activity.counted.append(("b00710ad", seq, 5))
        update.devices[("site-1", "gw-1", "meter-1")] = activity
        return update

    state_store.record(batch(1, 2, 3))
    report = state_store.record(batch(3, 4))  # 3 is delivered again
    assert report.duplicates == 1
    (device,) = state_store.devices()
    assert (device.messages, device.readings) == (4, 20)


def test_text_that_postgresql_refuses_is_cleaned_before_it_gets_there(
    state_store: StateStore,
) -> None:
    ingest, batch = Ingest(), Batch()
    topic, payload = state_message(online=True, seq=1)
    body = json.loads(payload)
    body["version"] = "1.0\u0000-beta"
    ingest.accept(topic, json.dumps(body).encode(), BASE_TS, batch)
    ingest.accept("hinode/v1/s\u0000/gw-1/state", b"\xff\x00", BASE_TS, batch)
    state_store.record(batch.state)
    assert state_store.gateways()[0].version == "1.0\N{REPLACEMENT CHARACTER}-beta"
    assert state_store.dead_letters().latest[0].payload == b"\xff\x00"
