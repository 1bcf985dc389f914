"""Valid wire messages for the collector's tests and benchmarks, built with the contract models."""

import json
import re
import time
from typing import Any

from hypothesis import strategies as st

from messages import (
    QUANTITIES,
    Event,
    EventsPayload,
    Observation,
    Reading,
    StatePayload,
    TelemetryPayload,
    VitalsPayload,
    encode,
)
from messages.topics import events_topic, state_topic, telemetry_topic, vitals_topic

BOOT_ID = "b00710ad"
BASE_TS = 1_795_000_000_000
METER_QUANTITIES = ("active_power_w", "voltage_v", "current_a", "frequency_hz", "power_factor")


def telemetry(
    seq: int,
    *,
    site: str = "site-1",
    gateway: str = "gw-1",
    device: str = "meter-1",
    boot_id: str = BOOT_ID,
    ts: int | None = None,
    quantities: tuple[str, ...] = METER_QUANTITIES,
) -> tuple[str, bytes]:
    """One telemetry message: one reading per quantity at *ts* (default: from seq)."""
    at = BASE_TS + seq * 1000 if ts is None else ts
    payload = TelemetryPayload(
        gateway=gateway,
        boot_id=boot_id,
        seq=seq,
        sent_at=at,
        device=device,
        readings=[
            Reading(quantity=quantity, value=float(seq) + index / 10, ts=at)
            for index, quantity in enumerate(quantities)
        ],
    )
    return telemetry_topic(site, gateway, device), encode(payload)


def vitals(seq: int, *, site: str = "site-1", gateway: str = "gw-1") -> tuple[str, bytes]:
    at = BASE_TS + seq * 1000
    payload = VitalsPayload(
        gateway=gateway,
        boot_id=BOOT_ID,
        seq=seq,
        sent_at=at,
        subject="s-7f3a9c",
        observations=[Observation(quantity="heart_rate_bpm", value=72, ts=at, device="hr-1")],
    )
    return vitals_topic(site, gateway, "s-7f3a9c"), encode(payload)


def events(seq: int, *, site: str = "site-1", gateway: str = "gw-1") -> tuple[str, bytes]:
    at = BASE_TS + seq * 1000
    payload = EventsPayload(
        gateway=gateway,
        boot_id=BOOT_ID,
        seq=seq,
        sent_at=at,
        events=[Event(ts=at, kind="device_offline", device="meter-1", reason="no answer")],
    )
    return events_topic(site, gateway), encode(payload)


def state(
    *, online: bool, seq: int, site: str = "site-1", gateway: str = "gw-1", boot_id: str = BOOT_ID
) -> tuple[str, bytes]:
    payload = StatePayload(
        gateway=gateway,
        boot_id=boot_id,
        seq=seq,
        sent_at=int(time.time() * 1000),
        online=online,
        version="0.1.0" if online else None,
    )
    return state_topic(site, gateway), encode(payload)


# -- malformed messages, for fuzzing ------------------------------------------------------------

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
        st.integers(max_value=-1),
        st.integers(min_value=2**63),  # valid JSON, but no store holds it
        st.floats(),
        st.text(max_size=5),
        st.booleans(),
        st.none(),
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
#: Wrong topics for a telemetry payload that the collector's subscriptions still match.
WRONG_TOPICS_SUBSCRIBED = (
    "hinode/v1/site-1/gw-1/telemetry/meter-2",  # device differs from the payload's
    "hinode/v1/site-1/gw-2/telemetry/meter-1",  # gateway differs
    "hinode/v1/Site-1/gw-1/telemetry/meter-1",  # not a valid site id
    "hinode/v1/site-1/gw-1/vitals/meter-1",  # a telemetry payload on a vitals topic
    "hinode/v1/site-1/gw-1/state",
)
#: Wrong topics that only an in-process test can deliver (no subscription matches them).
WRONG_TOPICS_UNREACHABLE = (
    "hinode/v1/site-1/gw-1/telemetry",
    "hinode/v1/site-1/gw-1/telemetry/meter-1/extra",
    "hinode/v1/site-1/gw-1/teletype/meter-1",
    "hinode/v2/site-1/gw-1/telemetry/meter-1",
    "hinode/v1/site-1/gw-1/cmd/meter-1",
    "",
    "random/topic",
)
TOPIC = "hinode/v1/site-1/gw-1/telemetry/meter-1"


def _base(seq: int) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(telemetry(seq)[1])
    return body


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


@st.composite
def malformed(draw: st.DrawFn, seq: int, *, reachable: bool = False) -> tuple[str, bytes, str]:
    """A message that breaks the contract in one way, with the name of that way.

    With *reachable*, wrong topics are only those the collector subscribes to (through a
    broker, a message on any other topic never arrives).
    """
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
        wrong = WRONG_TOPICS_SUBSCRIBED
        if not reachable:
            wrong += WRONG_TOPICS_UNREACHABLE
        topic = draw(st.sampled_from(wrong))
    return topic, _dumps(body), damage


class Publisher:
    """A paho client publishing at QoS 1 and waiting for each PUBACK (for tests and benches)."""

    def __init__(self, url: str, *, client_id: str = "test-publisher") -> None:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        host, port = url.removeprefix("mqtt://").split(":")
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.max_inflight_messages_set(1000)
        self._client.max_queued_messages_set(0)
        self._client.connect(host, int(port))
        self._client.loop_start()
        self._pending: list[Any] = []

    def publish(self, topic: str, payload: bytes, *, wait: bool = False) -> None:
        info = self._client.publish(topic, payload, qos=1)
        self._pending.append(info)
        if wait:
            self.flush()

    def flush(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        for info in self._pending:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            assert info.is_published(), "the broker did not acknowledge a publish"
        self._pending.clear()

    def close(self) -> None:
        self.flush()
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> "Publisher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
