"""Scooter tracker: the scooters' own reports (fix, battery, lock) become MDS events and trips."""

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud.mobility import (
    BATTERY_LOW_PCT,
    TRANSITIONS,
    ScooterFleet,
    ScooterTracker,
    ScooterType,
    TrackedScooter,
)
from cloud.mobility._scooter_states import VehicleStatus
from messages import Fix, PositionPayload, VehicleState

START_MS = int(datetime(2026, 12, 7, 7, 0, tzinfo=UTC).timestamp() * 1000)
STATION = (36.5871, 136.6296)
OFFICE = (36.5930, 136.6350)
DEVICE = "0b6e1c52-0000-4000-8000-0000000000aa"
SCOOTER = TrackedScooter(DEVICE, "HN-0001", "k1")


def tracker() -> ScooterTracker:
    fleet = ScooterFleet(
        "0b6e1c52-0000-4000-8000-000000000001", b"secret", (ScooterType("k1", "K"),)
    )
    return ScooterTracker(fleet, {"scooter-1": SCOOTER})


def test_a_scooter_joins_the_fleet_with_its_first_fix_and_battery() -> None:
    scooters = tracker()
    assert scooters.fix("scooter-1", START_MS, STATION) == ("waiting",)  # no battery yet
    assert scooters.fix("scooter-1", START_MS + 1000, STATION, battery_pct=88) == ("deployed",)
    scooter = scooters.fleet.scooters[DEVICE]
    assert (scooter.state, scooter.vehicle_id, scooter.battery_pct) == ("available", "HN-0001", 88)
    assert scooters.fix("scooter-9", START_MS, STATION, battery_pct=50) == ("unknown",)
    assert list(scooters.fleet.scooters) == [DEVICE]


def test_unlock_starts_a_trip_and_locking_again_ends_it_where_the_scooter_stands() -> None:
    scooters = tracker()
    scooters.fix("scooter-1", START_MS, STATION, locked=True, battery_pct=80)
    assert scooters.fix("scooter-1", START_MS + 60_000, STATION, locked=False) == (
        "trip_start",
        "telemetry",
    )
    midway = (36.5900, 136.6320)
    assert scooters.fix("scooter-1", START_MS + 120_000, midway, speed_mps=4.2) == ("telemetry",)
    assert scooters.fix("scooter-1", START_MS + 240_000, OFFICE, locked=True, battery_pct=74) == (
        "trip_end",
    )
    fleet = scooters.fleet
    (trip,) = fleet.trips
    assert (trip.start, trip.end, trip.start_time, trip.end_time) == (
        STATION,
        OFFICE,
        START_MS + 60_000,
        START_MS + 240_000,
    )
    assert trip.distance_m > 500
    assert fleet.scooters[DEVICE].state == "available"
    assert fleet.scooters[DEVICE].battery_pct == 74
    assert [point.speed_mps for point in fleet.telemetry if point.trip_id == trip.trip_id] == [
        None,  # the trip_start event
        0.0,
        4.2,
        None,  # the trip_end event
    ]


def test_a_redelivered_or_older_fix_changes_nothing() -> None:
    scooters = tracker()
    scooters.fix("scooter-1", START_MS, STATION, battery_pct=80)
    scooters.fix("scooter-1", START_MS + 60_000, STATION, locked=False)
    events, telemetry = len(scooters.fleet.events), len(scooters.fleet.telemetry)
    # QoS 1 may deliver the unlock again; a fix from before it may arrive late.
    assert scooters.fix("scooter-1", START_MS + 60_000, STATION, locked=False) == ("stale",)
    assert scooters.fix("scooter-1", START_MS + 30_000, STATION, locked=True) == ("stale",)
    assert (len(scooters.fleet.events), len(scooters.fleet.telemetry)) == (events, telemetry)
    assert scooters.fleet.scooters[DEVICE].state == "on_trip"
    assert scooters.fixes_ignored == 2


def test_a_trip_ending_on_a_low_battery_takes_the_scooter_out_until_a_swap() -> None:
    scooters = tracker()
    scooters.fix("scooter-1", START_MS, STATION, battery_pct=20)
    scooters.fix("scooter-1", START_MS + 1000, STATION, locked=False)
    scooters.fix("scooter-1", START_MS + 2000, OFFICE, locked=True, battery_pct=BATTERY_LOW_PCT - 1)
    scooter = scooters.fleet.scooters[DEVICE]
    assert scooter.state == "non_operational"
    # Not rentable: an unlock (a technician) starts no trip.
    assert scooters.fix("scooter-1", START_MS + 3000, OFFICE, locked=False) == ("seen",)
    assert scooters.fix("scooter-1", START_MS + 4000, OFFICE, locked=True, battery_pct=100) == (
        "battery_charged",
    )
    assert scooters.fleet.scooters[DEVICE].state == "available"
    assert len(scooters.fleet.trips) == 1


def test_a_lock_reported_without_a_gnss_fix_still_ends_the_trip() -> None:
    scooters = tracker()
    scooters.fix("scooter-1", START_MS, STATION, battery_pct=80)
    scooters.fix("scooter-1", START_MS + 1000, STATION, locked=False)
    scooters.fix("scooter-1", START_MS + 2000, OFFICE)
    assert scooters.fix("scooter-1", START_MS + 3000, None, locked=True) == ("trip_end",)
    assert scooters.fleet.trips[0].end == OFFICE


def test_a_position_message_applies_the_vehicle_state_with_its_last_fix() -> None:
    scooters = tracker()
    scooters.fix("scooter-1", START_MS, STATION, battery_pct=80)
    fixes = [
        Fix(ts=START_MS + step * 1000, lat=lat, lon=lon, speed_mps=3, fix_quality="gps")
        for step, (lat, lon) in ((2, OFFICE), (1, STATION))  # out of order in the batch
    ]
    message = PositionPayload(
        gateway="gw-depot",
        boot_id="b" * 16,
        seq=1,
        sent_at=START_MS + 2000,
        vehicle="scooter-1",
        fixes=fixes,
        state=VehicleState(kind="scooter", battery_pct=79, locked=False),
    )
    # The first fix was while still locked; the unlock came with the last.
    assert scooters.position(message) == ["seen", "trip_start", "telemetry"]
    assert scooters.position(message) == ["stale", "stale"]


REPORTS = st.lists(
    st.tuples(
        st.integers(min_value=-5_000, max_value=60_000),  # ms after the last report
        st.sampled_from([(36.58, 136.62), (36.59, 136.63), None]),
        st.sampled_from([True, False, None]),
        st.one_of(st.none(), st.floats(min_value=0, max_value=100)),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(REPORTS)
def test_any_report_sequence_keeps_to_the_mds_state_machine_and_pairs_trips(
    reports: list[tuple[int, tuple[float, float] | None, bool | None, float | None]],
) -> None:
    scooters = tracker()
    at = START_MS
    for gap, position, locked, battery in reports:
        at += gap
        scooters.fix("scooter-1", at, position, locked=locked, battery_pct=battery)
    fleet = scooters.fleet
    state: VehicleStatus = "removed"
    for event in fleet.events:
        for kind in event.event_types:
            state = TRANSITIONS[(state, kind)]  # KeyError: a transition MDS forbids
        assert event.vehicle_state == state
    assert [event.timestamp for event in fleet.events] == sorted(e.timestamp for e in fleet.events)
    starts = sum("trip_start" in event.event_types for event in fleet.events)
    ends = sum("trip_end" in event.event_types for event in fleet.events)
    on_trip = DEVICE in fleet.scooters and fleet.scooters[DEVICE].state == "on_trip"
    assert starts == ends + on_trip == len(fleet.trips) + on_trip
    for trip in fleet.trips:
        assert trip.start_time <= trip.end_time
