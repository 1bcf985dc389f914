"""The simulated scooter city behind ``hinode mobility serve`` and ``rebalance``."""

from datetime import datetime, timedelta

from cloud.mobility import JST, TRANSITIONS
from hinode.commands.mobility_city import ScooterCity

MONDAY = datetime(2026, 11, 23, 0, 0, tzinfo=JST)


def test_the_city_lives_on_in_time_order() -> None:
    city = ScooterCity(MONDAY, days=2)
    city.advance_to(MONDAY + timedelta(hours=8))
    before = len(city.fleet.events)
    city.advance_to(MONDAY + timedelta(hours=9, minutes=30))
    events = city.fleet.events
    assert len(events) > before  # the morning commute goes on
    stamps = [event.timestamp for event in events]
    assert stamps == sorted(stamps)
    telemetry = [point.timestamp for point in city.fleet.telemetry]
    assert telemetry == sorted(telemetry)
    assert max(stamps + telemetry) <= (MONDAY + timedelta(hours=9, minutes=30)).timestamp() * 1000
    assert city.fleet.trips
    for trip in city.fleet.trips:
        assert trip.start_time < trip.end_time
    # every event followed the MDS state machine from the state before it
    state: dict[str, str] = {}
    for event in events:
        previous = state.get(event.device_id, "removed")
        for kind in event.event_types:
            previous = TRANSITIONS[(previous, kind)]  # type: ignore[index]
        assert previous == event.vehicle_state
        state[event.device_id] = event.vehicle_state


def test_night_crew_swaps_flat_batteries_at_four() -> None:
    city = ScooterCity(MONDAY, days=3)
    three_am = MONDAY + timedelta(days=1, hours=3)
    city.advance_to(three_am)
    device, scooter = next(
        (d, s) for d, s in sorted(city.fleet.scooters.items()) if s.state == "available"
    )
    at_ms = int(three_am.timestamp() * 1000)
    city.fleet.start_trip(device, at_ms)
    city.fleet.end_trip(device, at_ms + 600_000, scooter.position, 5.0)
    assert city.fleet.scooters[device].state == "non_operational"
    city.advance_to(MONDAY + timedelta(days=1, hours=4))
    assert city.fleet.scooters[device].state == "available"
    assert city.fleet.scooters[device].battery_pct == 100
