"""Rebalancing: demand per zone from history, and a van plan that only ever helps."""

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cloud.mobility import (
    JST,
    Hub,
    MdsTrip,
    ScooterFleet,
    ScooterType,
    Van,
    demand_profile,
    plan_rebalancing,
)
from cloud.mobility._rebalance import RENTABLE_PCT
from hinode.commands.mobility import app

MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=JST)
HUBS = tuple(
    Hub(f"hub-{index}", f"Hub {index}", (36.58 + 0.004 * index, 136.62 + 0.003 * index), 10)
    for index in range(5)
)


def trip(start: datetime, origin: int, destination: int) -> MdsTrip:
    begin = int(start.timestamp() * 1000)
    return MdsTrip(
        f"t-{begin}-{origin}",
        "d",
        begin,
        begin + 600_000,
        HUBS[origin].position,
        HUBS[destination].position,
        1000.0,
    )


def test_demand_is_averaged_per_weekday_and_hour() -> None:
    history = [trip(MONDAY_8 - timedelta(weeks=week), 0, 1) for week in range(4)]
    history += [trip(MONDAY_8 - timedelta(weeks=1), 0, 1)]  # one busier Monday
    history += [trip(MONDAY_8 + timedelta(days=1, hours=10), 2, 3)]  # Tuesday 18:00
    profile = demand_profile(history, HUBS, JST)
    starts, ends = profile.expected("hub-0", MONDAY_8, hours=1)
    assert starts == 5 / 4
    assert ends == 0
    assert profile.expected("hub-1", MONDAY_8, hours=1) == (0, 5 / 4)
    assert profile.expected("hub-0", MONDAY_8 + timedelta(days=1), hours=1) == (0, 0)


@st.composite
def fleets(draw: st.DrawFn) -> tuple[ScooterFleet, list[MdsTrip]]:
    fleet = ScooterFleet("provider", b"secret", (ScooterType("k1", "K"),), HUBS)
    for index in range(draw(st.integers(0, 30))):
        hub = HUBS[draw(st.integers(0, len(HUBS) - 1))]
        battery = draw(st.sampled_from([5.0, 15.0, 19.9, 20.0, 60.0, 100.0]))
        device = f"dev-{index:02d}"
        fleet.deploy(device, f"HN-{index}", "k1", hub.position, battery, 0)
        if draw(st.booleans()) and battery < RENTABLE_PCT:
            fleet.record(device, ("battery_low",), 1, hub.position)
    history = [
        trip(
            MONDAY_8 - timedelta(weeks=draw(st.integers(0, 3)), hours=draw(st.integers(0, 2))),
            draw(st.integers(0, len(HUBS) - 1)),
            draw(st.integers(0, len(HUBS) - 1)),
        )
        for _ in range(draw(st.integers(0, 60)))
    ]
    return fleet, history


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleets(), st.integers(1, 10), st.integers(0, 10), st.integers(1, 12))
def test_van_plan_respects_the_van_and_never_makes_things_worse(
    generated: tuple[ScooterFleet, list[MdsTrip]], capacity: int, batteries: int, stops: int
) -> None:
    fleet, history = generated
    profile = demand_profile(history, HUBS, JST)
    van = Van(HUBS[0].position, capacity=capacity, batteries=batteries, max_stops=stops)
    plan = plan_rebalancing(fleet, profile, MONDAY_8 - timedelta(hours=1), van, horizon_h=3)
    assert plan.unmet_after <= plan.unmet_before + 1e-9
    for zone in plan.zones:
        assert zone.unmet_after <= zone.unmet_before + 1e-9
    swapped = [d for a in plan.actions if a.kind == "swap" for d in a.vehicles]
    moved = [d for a in plan.actions if a.kind == "pick_up" for d in a.vehicles]
    assert len(swapped) <= batteries
    assert len(set(swapped)) == len(swapped)
    assert len(set(moved)) == len(moved)
    stops_used = sum(1 for a in plan.actions if a.kind in ("swap", "pick_up", "drop_off"))
    assert stops_used <= stops
    load = 0
    for action in plan.actions:
        scooters = [fleet.scooters[d] for d in action.vehicles]
        if action.kind == "pick_up":
            load += len(scooters)
            assert all(s.battery_pct >= RENTABLE_PCT or s.device_id in swapped for s in scooters)
            assert all(s.state == "available" or s.device_id in swapped for s in scooters)
        elif action.kind == "drop_off":
            load -= len(scooters)
        else:
            assert all(s.battery_pct < RENTABLE_PCT for s in scooters)
        assert 0 <= load <= capacity
        assert action.load_after == load
    assert load == 0


def test_rebalance_cli_plans_for_the_morning_peak() -> None:
    result = CliRunner().invoke(
        app, ["rebalance", "--at", "2026-11-24T07:00:00+09:00", "--json", "--history-days", "14"]
    )
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    assert document["unmet_after"] <= document["unmet_before"]
    assert document["actions"]
    assert {zone["zone"] for zone in document["zones"]} >= {"hub-station", "hub-estate-gate"}
    bad = CliRunner().invoke(app, ["rebalance", "--at", "tomorrow"])
    assert bad.exit_code == 2
    assert bad.stderr.strip() == "error: --at: 'tomorrow' is not an ISO 8601 date and time"


def rebalance_input() -> dict[str, Any]:
    station, estate = [36.5871, 136.6296], [36.5958, 136.6392]
    monday_8 = MONDAY_8
    return {
        "hubs": [
            {"id": "station", "position": station, "capacity": 20},
            {"id": "estate", "position": estate, "capacity": 10},
        ],
        "scooters": [
            {"device_id": f"d{i}", "state": "available", "battery_pct": 90, "position": station}
            for i in range(6)
        ]
        + [{"device_id": "flat", "state": "non_operational", "battery_pct": 4, "position": estate}],
        # Four Mondays of commuters riding from the estate to the station at 08:xx.
        "trips": [
            {
                "start_time": (monday_8 - timedelta(weeks=week, minutes=-minute)).isoformat(),
                "end_time": (monday_8 - timedelta(weeks=week, minutes=-minute - 8)).isoformat(),
                "start": estate,
                "end": station,
            }
            for week in range(1, 5)
            for minute in (5, 20, 35)
        ],
        "van": {"position": station, "capacity": 4, "batteries": 1, "max_stops": 6},
    }


def test_rebalance_cli_takes_real_fleet_data(tmp_path: Path) -> None:
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps(rebalance_input()))
    result = CliRunner().invoke(
        app, ["rebalance", "--at", MONDAY_8.isoformat(), "--input", str(path), "--json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    estate = next(zone for zone in document["zones"] if zone["zone"] == "estate")
    assert estate["expected_starts"] == 3.0
    assert estate["unmet_before"] == 3.0
    assert estate["unmet_after"] == 0.0
    # The van stands at the station with six idle scooters: three to the estate fix it all.
    assert [(a["action"], a["zone"], len(a["vehicles"])) for a in document["actions"]] == [
        ("pick_up", "station", 3),
        ("drop_off", "estate", 3),
    ]


def test_rebalance_input_errors_name_the_field(tmp_path: Path) -> None:
    document = rebalance_input()
    document["scooters"][0]["state"] = "parked"
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps(document))
    result = CliRunner().invoke(
        app, ["rebalance", "--at", MONDAY_8.isoformat(), "--input", str(path)]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: scooters.0.state: Input should be 'available'")
