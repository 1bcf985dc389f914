"""The pure ingest pipeline: what it stores, what it drops, what it dead-letters, and fuzzing."""

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cloud import Batch, Ingest, Outcome, ReadingQuery, open_state, open_timeseries
from cloud._ingest import DEAD_LETTER_PAYLOAD_LIMIT
from messages import QUANTITIES
from tests.support.cloud_messages import BASE_TS, events, state, telemetry, vitals

TOPIC = "hinode/v1/site-1/gw-1/telemetry/meter-1"


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


# -- fuzz ----------------------------------------------------------------------------------------

_NUMERIC = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)
_NOT_A_NUMBER = (
    st.none()
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
    | st.text(max_size=20).filter(lambda s: not _NUMERIC.match(s))
)
_NOT_AN_ID = st.one_of(
    st.integers(),
    st.none(),
    st.lists(st.text(max_size=3), max_size=2),
    st.text(max_size=80).filter(lambda s: s not in {"gw-1", "meter-1"}),
)
_HUGE = st.integers(min_value=70_000, max_value=200_000).map(lambda n: "x" * n)
_BAD_EPOCH = st.one_of(
    st.integers(max_value=946_684_799_999),
    st.integers(min_value=4_102_444_800_000),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
    st.text(max_size=10),
    st.none(),
)

#: field → values it can never take (each breaks the contract on its own).
_TOP_LEVEL: dict[str, st.SearchStrategy[Any]] = {
    "schema": _JSON.filter(lambda v: v != "hinode.telemetry/1"),
    "gateway": _NOT_AN_ID,
    "device": _NOT_AN_ID,
    "boot_id": _JSON.filter(
        lambda v: not (isinstance(v, str) and re.fullmatch("[0-9a-f]{8,64}", v))
    ),
    "seq": st.one_of(
        st.integers(max_value=-1), st.floats(), st.text(max_size=5), st.booleans(), st.none()
    ),
    "sent_at": _BAD_EPOCH,
    "readings": st.one_of(st.just([]), st.none(), st.integers(), st.text(max_size=5)),
}
_READING: dict[str, st.SearchStrategy[Any]] = {
    "quantity": _JSON.filter(lambda v: not (isinstance(v, str) and v in QUANTITIES)),
    "phase": _JSON.filter(lambda v: v is not None and v not in ("l1", "l2", "l3")),
    "value": _NOT_A_NUMBER,
    "ts": _BAD_EPOCH,
}
_REQUIRED_TOP = ("gateway", "boot_id", "seq", "sent_at", "device", "readings")
_REQUIRED_READING = ("quantity", "value", "ts")
_WRONG_TOPICS = st.sampled_from(
    [
        "hinode/v1/site-1/gw-1/telemetry/meter-2",  # device differs from the payload's
        "hinode/v1/site-1/gw-2/telemetry/meter-1",  # gateway differs
        "hinode/v1/site-1/gw-1/telemetry",  # no device
        "hinode/v1/site-1/gw-1/telemetry/meter-1/extra",
        "hinode/v1/site-1/gw-1/teletype/meter-1",
        "hinode/v2/site-1/gw-1/telemetry/meter-1",
        "hinode/v1/Site-1/gw-1/telemetry/meter-1",
        "hinode/v1/site-1/gw-1/cmd/meter-1",
        "hinode/v1/site-1/gw-1/vitals/meter-1",
        "hinode/v1/site-1/gw-1/state",
        "",
        "random/topic",
    ]
)


def _base(seq: int) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(telemetry(seq)[1])
    return body


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


@st.composite
def malformed(draw: st.DrawFn, seq: int) -> tuple[str, bytes, str]:
    """A message that breaks the contract in one way, with the name of that way."""
    body = _base(seq)
    damage = draw(
        st.sampled_from(
            [
                "wrong type",
                "wrong reading type",
                "missing field",
                "missing reading field",
                "extra field",
                "huge string",
                "too big",
                "bad utf-8",
                "not json",
                "wrong topic",
            ]
        )
    )
    topic = TOPIC
    if damage == "wrong type":
        name = draw(st.sampled_from(sorted(_TOP_LEVEL)))
        body[name] = draw(_TOP_LEVEL[name])
    elif damage == "wrong reading type":
        name = draw(st.sampled_from(sorted(_READING)))
        body["readings"][draw(st.integers(0, 4))][name] = draw(_READING[name])
    elif damage == "missing field":
        del body[draw(st.sampled_from(_REQUIRED_TOP))]
    elif damage == "missing reading field":
        del body["readings"][draw(st.integers(0, 4))][draw(st.sampled_from(_REQUIRED_READING))]
    elif damage == "extra field":
        body[draw(st.text(min_size=1, max_size=10).filter(lambda k: k not in body))] = draw(_JSON)
    elif damage == "huge string":
        name = draw(st.sampled_from(["gateway", "device", "boot_id", "schema", "quantity"]))
        target = body["readings"][0] if name == "quantity" else body
        target[name] = draw(_HUGE)
    elif damage == "too big":
        return topic, b'{"pad": "' + b"z" * 1_048_577 + b'"}', damage
    elif damage == "bad utf-8":
        raw = _dumps(body)
        invalid = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80"]))
        where = raw.index(b'"meter-1"') + 2  # inside a string value
        return topic, raw[:where] + invalid + raw[where:], damage
    elif damage == "not json":
        raw = draw(
            st.one_of(
                st.binary(max_size=64).filter(lambda b: b.strip() not in {b""}),
                st.just(_dumps(body)[: draw(st.integers(0, 40))]),
            )
        )
        return topic, raw, damage
    else:
        topic = draw(_WRONG_TOPICS)
    return topic, _dumps(body), damage


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
