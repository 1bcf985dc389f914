"""Scooter fleet: the MDS 2.0 state machine, the events it produces, and trips."""

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud.mobility import (
    TRANSITIONS,
    Hub,
    InvalidTransitionError,
    ScooterFleet,
    ScooterType,
    next_state,
)
from cloud.mobility._scooter_states import EventType
from tests.support.mds import LEADS_INTO

START_MS = int(datetime(2026, 11, 24, 7, 0, tzinfo=UTC).timestamp() * 1000)
HUB = Hub("hub-station", "Station", (36.5871, 136.6296), capacity=10)
DEVICE = "0b6e1c52-0000-4000-8000-0000000000aa"
EVENT_TYPES = sorted({kind for _, kind in TRANSITIONS})


def fleet() -> ScooterFleet:
    fleet = ScooterFleet(
        "0b6e1c52-0000-4000-8000-000000000001", b"secret", (ScooterType("k1", "K"),), (HUB,)
    )
    fleet.deploy(DEVICE, "HN-0001", "k1", HUB.position, 90, START_MS)
    return fleet


def test_a_rental_walks_through_the_mds_states() -> None:
    scooters = fleet()
    assert scooters.scooters[DEVICE].state == "available"
    scooters.record(DEVICE, ("reservation_start",), START_MS + 1000, HUB.position)
    start = scooters.start_trip(DEVICE, START_MS + 60_000)
    assert start.vehicle_state == "on_trip"
    assert start.trip_id is not None
    scooters.report(DEVICE, START_MS + 120_000, (36.5880, 136.6302), 4.0, 30.0, 88)
    end = scooters.end_trip(DEVICE, START_MS + 300_000, (36.5890, 136.6310), 12)
    assert end.vehicle_state == "non_operational"
    # trip_end and battery_low as two events at the same instant: MDS 2.0 lets an event carry
    # only the event types that lead into its vehicle_state.
    trip_end, battery_low = scooters.events[-2:]
    assert (trip_end.event_types, trip_end.vehicle_state) == (("trip_end",), "available")
    assert (battery_low.event_types, battery_low.vehicle_state) == (
        ("battery_low",),
        "non_operational",
    )
    assert trip_end.timestamp == battery_low.timestamp == START_MS + 300_000
    assert trip_end.trip_id == start.trip_id
    assert battery_low.trip_id is None
    (trip,) = scooters.trips
    assert trip.trip_id == start.trip_id
    assert trip.distance_m > 200
    assert [e.vehicle_state for e in scooters.events] == [
        "available",
        "reserved",
        "on_trip",
        "available",
        "non_operational",
    ]
    # The trip's telemetry holds its start and end points (MDS asks for both), not only the
    # mid-trip fix; trip_end and battery_low at one place and instant are one fix.
    on_trip = [p for p in scooters.telemetry if p.trip_id == start.trip_id]
    assert [p.timestamp for p in on_trip] == [START_MS + 60_000, START_MS + 120_000, end.timestamp]
    assert on_trip[-1].position == (36.5890, 136.6310)
    assert scooters.scooters[DEVICE].last_telemetry == on_trip[-1]


def test_a_scooter_on_a_trip_cannot_be_reserved() -> None:
    scooters = fleet()
    scooters.start_trip(DEVICE, START_MS + 1)
    with pytest.raises(InvalidTransitionError, match="reservation_start is not allowed"):
        scooters.record(DEVICE, ("reservation_start",), START_MS + 2, HUB.position)
    assert scooters.scooters[DEVICE].state == "on_trip"


@settings(max_examples=200)
@given(st.lists(st.sampled_from(EVENT_TYPES), max_size=30))
def test_random_event_streams_follow_the_state_machine(kinds: list[EventType]) -> None:
    scooters = fleet()
    trips_open = False
    for offset, kind in enumerate(kinds, start=1):
        before = scooters.scooters[DEVICE].state
        try:
            event = scooters.record(DEVICE, (kind,), START_MS + offset * 1000, HUB.position)
        except InvalidTransitionError:
            assert (before, kind) not in TRANSITIONS
            assert scooters.scooters[DEVICE].state == before
            continue
        assert event.vehicle_state == TRANSITIONS[(before, kind)]
        if kind == "trip_start":
            trips_open = True
        if kind in ("trip_end", "trip_cancel"):
            trips_open = False
        # on_trip and elsewhere only while a trip is open, and an open trip has an id
        if event.vehicle_state in ("on_trip", "elsewhere"):
            assert trips_open
            assert event.trip_id is not None
    timestamps = [event.timestamp for event in scooters.events]
    assert timestamps == sorted(timestamps)
    assert len({event.event_id for event in scooters.events}) == len(scooters.events)


def test_every_transition_is_one_mds_2_0_allows_for_micromobility() -> None:
    wrong = {
        (before, kind, after)
        for (before, kind), after in TRANSITIONS.items()
        if kind not in LEADS_INTO.get(after, frozenset())
    }
    assert not wrong
    # Every state can be reached, and left (a vehicle is never stuck).
    assert set(TRANSITIONS.values()) == set(LEADS_INTO)
    assert {before for before, _ in TRANSITIONS} == set(LEADS_INTO)


def test_a_silent_scooter_is_non_contactable_then_missing_until_found() -> None:
    scooters = fleet()
    heard = scooters.scooters[DEVICE].last_telemetry
    lost = scooters.record(DEVICE, ("comms_lost",), START_MS + 1000, HUB.position)
    missing = scooters.record(DEVICE, ("not_located",), START_MS + 2000, HUB.position)
    assert (lost.vehicle_state, missing.vehicle_state) == ("non_contactable", "missing")
    assert scooters.scooters[DEVICE].last_telemetry == heard  # silence is not a fix
    with pytest.raises(InvalidTransitionError):
        scooters.record(DEVICE, ("rebalance_pick_up",), START_MS + 3000, HUB.position)
    found = scooters.record(DEVICE, ("located",), START_MS + 4000, (36.5880, 136.6302))
    assert found.vehicle_state == "available"
    assert scooters.scooters[DEVICE].last_telemetry != heard


def test_events_with_several_types_apply_in_order() -> None:
    assert next_state("on_trip", ("trip_end", "battery_low")) == "non_operational"
    with pytest.raises(InvalidTransitionError):
        next_state("available", ())
