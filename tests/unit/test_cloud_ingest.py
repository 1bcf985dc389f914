"""The pure ingest pipeline: what it stores, what it drops, what it dead-letters, and fuzzing."""

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cloud import Batch, Ingest, Outcome, ReadingQuery, open_state, open_timeseries
from cloud._ingest import DEAD_LETTER_PAYLOAD_LIMIT
from messages import CmdResultPayload, encode
from messages.topics import cmd_result_topic
from tests.support.cloud_messages import (
    BASE_TS,
    TOPIC,
    events,
    malformed,
    state,
    telemetry,
    vitals,
)


def accept(ingest: Ingest, batch: Batch, message: tuple[str, bytes]) -> Outcome:
    return ingest.accept(message[0], message[1], BASE_TS, batch)


def test_a_telemetry_message_becomes_one_row_per_reading() -> None:
    ingest, batch = Ingest(), Batch()
    assert accept(ingest, batch, telemetry(7)) is Outcome.STORED
    assert [(r.device, r.quantity, r.seq) for r in batch.readings][:2] == [
        ("meter-1", "active_power_w", 7),
        ("meter-1", "voltage_v", 7),
    ]
    assert batch.state.sequences == {("site-1", "gw-1", "b00710ad"): [7]}
    assert batch.state.devices[("site-1", "gw-1", "meter-1")].readings == 5


def test_a_redelivered_message_is_dropped_as_a_duplicate() -> None:
    ingest, batch = Ingest(), Batch()
    accept(ingest, batch, telemetry(1))
    assert accept(ingest, batch, telemetry(1)) is Outcome.DUPLICATE
    assert batch.duplicates == 1
    assert len(batch.readings) == 5


def test_vitals_events_and_state_are_taken_too() -> None:
    ingest, batch = Ingest(), Batch()
    assert accept(ingest, batch, vitals(1)) is Outcome.STORED
    assert accept(ingest, batch, events(2)) is Outcome.STORED
    assert accept(ingest, batch, state(online=True, seq=2)) is Outcome.STORED
    assert batch.readings[0].device == "s-7f3a9c"
    assert batch.state.events[0].kind == "device_offline"
    assert batch.state.devices[("site-1", "gw-1", "meter-1")].online is False
    assert batch.state.gateway_states[0].online is True
    # a state message consumes no sequence number
    assert batch.state.sequences == {("site-1", "gw-1", "b00710ad"): [1, 2]}


def test_a_telemetry_message_that_fails_validation_is_kept_with_its_reason() -> None:
    ingest, batch = Ingest(), Batch()
    body = json.loads(telemetry(3)[1])
    body["readings"][0]["quantity"] = "power"
    assert ingest.accept(TOPIC, json.dumps(body).encode(), BASE_TS, batch) is Outcome.INVALID
    assert batch.readings == []
    (letter,) = batch.state.dead_letters
    assert "unknown quantity 'power'" in letter.reason
    assert letter.topic == TOPIC
    assert json.loads(letter.payload) == body


def test_a_command_topic_is_refused_by_the_collector() -> None:
    ingest, batch = Ingest(), Batch()
    topic = "hinode/v1/site-1/gw-1/cmd/charger-1"
    payload = json.dumps(
        {
            "schema": "hinode.cmd/1",
            "gateway": "gw-1",
            "boot_id": "abcdef01",
            "seq": 1,
            "sent_at": BASE_TS,
            "id": "c1",
            "kind": "heartbeat",
            "expires_at": BASE_TS + 1000,
        }
    ).encode()
    assert ingest.accept(topic, payload, BASE_TS, batch) is Outcome.INVALID
    assert "does not take cmd" in batch.state.dead_letters[0].reason


def test_a_huge_payload_is_truncated_in_the_dead_letter_but_its_size_kept() -> None:
    ingest, batch = Ingest(), Batch()
    payload = b'{"x": "' + b"y" * 2_000_000 + b'"}'
    assert ingest.accept(TOPIC, payload, BASE_TS, batch) is Outcome.INVALID
    (letter,) = batch.state.dead_letters
    assert len(letter.payload) == DEAD_LETTER_PAYLOAD_LIMIT
    assert letter.payload_size == len(payload)
    assert "exceeds" in letter.reason


@pytest.mark.slow
def test_fuzz_ten_thousand_malformed_payloads_are_dead_lettered_and_good_ones_stored(
    tmp_path: Path,
) -> None:
    timeseries = open_timeseries(tmp_path)
    state_store = open_state(tmp_path)
    ingest = Ingest()
    seqs = itertools.count(1)
    totals = {"malformed": 0, "good": 0, "good_readings": 0}
    damages: dict[str, int] = {}

    @settings(
        max_examples=450,
        deadline=None,
        database=None,
        # Report a failing stream as drawn: shrinking thousands of messages takes minutes.
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data(), size=st.integers(min_value=20, max_value=30))
    def run(data: st.DataObject, size: int) -> None:
        batch = Batch()
        stream: list[tuple[str, bytes, str | None]] = []
        for _ in range(size):
            stream.append(data.draw(malformed(next(seqs))))
            if data.draw(st.integers(0, 4)) == 0:
                topic, payload = telemetry(next(seqs))
                stream.append((topic, payload, None))
        for topic, payload, damage in stream:
            outcome = ingest.accept(topic, payload, BASE_TS, batch)
            if damage is None:
                assert outcome is Outcome.STORED
                totals["good"] += 1
                totals["good_readings"] += 5
            else:
                assert outcome is Outcome.INVALID, (damage, topic, payload[:300])
                letter = batch.state.dead_letters[-1]
                assert letter.reason
                assert "\n" not in letter.reason
                assert letter.payload == payload[:DEAD_LETTER_PAYLOAD_LIMIT]
                totals["malformed"] += 1
                damages[damage] = damages.get(damage, 0) + 1
        timeseries.write(batch.readings)
        state_store.record(batch.state)

    run()
    assert totals["malformed"] >= 10_000
    assert len(damages) == 10, damages
    dead = state_store.dead_letters()
    assert dead.count == totals["malformed"]
    assert sum(1 for _ in timeseries.query(ReadingQuery())) == totals["good_readings"]
    timeseries.close()
    state_store.close()


def test_a_sequence_number_no_store_can_hold_is_refused() -> None:
    ingest, batch = Ingest(), Batch()
    body = json.loads(telemetry(1)[1])
    body["seq"] = 2**64
    assert ingest.accept(TOPIC, json.dumps(body).encode(), BASE_TS, batch) is Outcome.INVALID
    assert "largest storable sequence number" in batch.state.dead_letters[0].reason


def test_a_value_that_cannot_become_a_reading_is_refused_and_leaves_the_batch_alone() -> None:
    ingest, batch = Ingest(), Batch()
    topic = "hinode/v1/site-1/gw-1/position/shuttle-02"
    body = {
        "schema": "hinode.position/1",
        "gateway": "gw-1",
        "boot_id": "b00710ad",
        "seq": 5,
        "sent_at": BASE_TS,
        "vehicle": "shuttle-02",
        "fixes": [
            {"ts": BASE_TS, "lat": 36.5, "lon": 136.6, "speed_mps": 1.4, "fix_quality": "gps"}
        ],
        "state": {"kind": "shuttle", "battery_pct": 76.0, "occupancy": 10**400},
    }
    assert ingest.accept(topic, json.dumps(body).encode(), BASE_TS, batch) is Outcome.INVALID
    assert "cannot store" in batch.state.dead_letters[0].reason
    assert batch.readings == []
    assert batch.state.sequences == {}


def test_a_command_result_is_kept_as_an_event_and_counts_in_the_sequence() -> None:
    """Command results number in the gateway's sequence: leaving them out would open false gaps."""
    result = CmdResultPayload(
        gateway="gw-1",
        boot_id="b00710ad",
        seq=2,
        sent_at=BASE_TS,
        command_id="ev-17",
        device="charger-1",
        status="applied",
        value=16.0,
        ts=BASE_TS,
    )
    ingest, batch = Ingest(), Batch()
    accept(ingest, batch, telemetry(1))
    topic = cmd_result_topic("site-1", "gw-1", "charger-1")
    assert accept(ingest, batch, (topic, encode(result))) is Outcome.STORED
    accept(ingest, batch, telemetry(3))
    assert batch.state.sequences == {("site-1", "gw-1", "b00710ad"): [1, 2, 3]}
    (event,) = batch.state.events
    assert (event.kind, event.device, json.loads(event.details)) == (
        "cmd_applied",
        "charger-1",
        {"command_id": "ev-17", "value": 16.0},
    )
