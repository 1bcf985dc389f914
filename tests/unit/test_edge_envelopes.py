"""Every message the gateway builds validates against the wire contract on its own topic."""

from hypothesis import given
from hypothesis import strategies as st

from edge.commands import Result
from edge.envelopes import Envelopes
from messages import (
    CmdResultPayload,
    DeviceInfo,
    Event,
    EventsPayload,
    Reading,
    StatePayload,
    TelemetryPayload,
    decode,
)

NOW = 1_800_000_000_000
ENVELOPES = Envelopes(site="factory-a", gateway="gw-1", boot_id="0123abcd4567ef89", version="0.1.0")

readings = st.builds(
    Reading,
    quantity=st.sampled_from(["active_power_w", "voltage_v", "energy_import_wh"]),
    phase=st.sampled_from([None, "l1", "l2", "l3"]),
    value=st.floats(allow_nan=False, allow_infinity=False, width=32),
    ts=st.integers(min_value=NOW - 10**9, max_value=NOW),
)


@given(st.lists(readings, min_size=1, max_size=50), st.integers(min_value=0, max_value=2**40))
def test_telemetry_round_trips(batch: list[Reading], seq: int) -> None:
    sealed = ENVELOPES.telemetry("meter-1", sent_at=NOW)(seq, [r.model_dump_json() for r in batch])
    message = decode(sealed.topic, sealed.payload)
    assert isinstance(message.payload, TelemetryPayload)
    assert message.payload.readings == batch
    assert (message.payload.seq, message.payload.boot_id) == (seq, "0123abcd4567ef89")
    assert sealed.readings == len(batch)


def test_events_results_and_state_round_trip() -> None:
    event = Event(ts=NOW, kind="outbox_dropped", reason="limit", details={"messages": 3})
    sealed = ENVELOPES.events([event], sent_at=NOW)(7)
    events = decode(sealed.topic, sealed.payload).payload
    assert isinstance(events, EventsPayload)
    assert events.events == [event]

    result = Result("charger-1", "cmd-9", "applied", "clamped from 25 A to 16 A", 16.0)
    sealed = ENVELOPES.result(result, sent_at=NOW)(8)
    decoded = decode(sealed.topic, sealed.payload).payload
    assert isinstance(decoded, CmdResultPayload)
    assert (decoded.status, decoded.value, decoded.seq) == ("applied", 16.0, 8)

    devices = [DeviceInfo(id="meter-1", kind="modbus_tcp", model="sdm630")]
    topic, payload = ENVELOPES.state(online=True, last_seq=8, sent_at=NOW, devices=devices)
    birth = decode(topic, payload).payload
    assert isinstance(birth, StatePayload)
    assert (birth.online, birth.seq, birth.devices) == (True, 8, devices)
    topic, payload = ENVELOPES.state(online=False, last_seq=-1, sent_at=NOW, devices=devices)
    will = decode(topic, payload).payload
    assert isinstance(will, StatePayload)
    assert (will.online, will.seq, will.devices) == (False, 0, [])
