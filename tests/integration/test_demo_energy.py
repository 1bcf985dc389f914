"""The demo's energy loop: a factory's wallboxes following its PV surplus over a sunny midday,
through the real edge agent and the simulated chargers behind the simulated grid meter, and the
quarter's planned interchange on a working day and a day off in the closing report.

Runs the real ``hinode demo`` in a subprocess at 600× speed from 10:00 JST on a clear Wednesday
of the simulators' seeded weather: 25 real seconds are about four simulated hours.
"""

import datetime as dt
import itertools
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from hinode.demo.interchange import interchange_days
from hinode.demo.timing import timing_for
from tests.integration.test_demo_end_to_end import export

pytestmark = pytest.mark.integration

HINODE = [sys.executable, "-m", "hinode"]
SITE = "kanazawa-works"
CHARGERS = ("charger-1", "charger-2")
VOLTAGE_V = 230.0
SITE_LIMIT_A = 32.0
#: One 0.1 A dispatch step on three phases, per charger.
STEP_W = 0.1 * 3 * VOLTAGE_V


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    data_dir = tmp_path_factory.mktemp("demo-energy")
    report = data_dir / "report.json"
    result = subprocess.run(
        [
            *HINODE,
            "demo",
            "--headless",
            "--duration",
            "25",
            "--speed",
            "600",
            "--start",
            "2026-05-20T10:00:00+09:00",
            "--data-dir",
            str(data_dir),
            "--report",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return data_dir, json.loads(report.read_text()), result.stdout


def decisions(data_dir: Path) -> list[dict[str, Any]]:
    lines = (data_dir / "ev-decisions.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_setpoints_follow_the_pv_surplus(demo: tuple[Path, dict[str, Any], str]) -> None:
    data_dir, report, _ = demo
    recorded = decisions(data_dir)
    assert {decision["charger"] for decision in recorded} == set(CHARGERS)
    nonzero = {d["current_a"] for d in recorded if d["current_a"] > 0}
    assert len(nonzero) >= 2, f"setpoints never moved: {sorted(nonzero)}"
    assert any(d["reason"] == "charging on PV surplus" for d in recorded)

    # Replay the decisions: in each round the chargers together are given what the surplus
    # pays for, never more, and all of it while they all charge and the circuit has room.
    # Both chargers are three-phase; a car seen to charge on one phase is budgeted on that one.
    setpoints = dict.fromkeys(CHARGERS, 0.0)
    phases: dict[str, list[str]] = {charger: ["l1", "l2", "l3"] for charger in CHARGERS}
    followed = 0
    for _, group in itertools.groupby(recorded, key=lambda decision: decision["ts"]):
        round_decisions = list(group)
        for decision in round_decisions:
            setpoints[decision["charger"]] = decision["current_a"]
            phases[decision["charger"]] = decision["phases"]
        surplus = round_decisions[0]["pv_surplus_w"]
        commanded_w = sum(
            amps * len(phases[charger]) * VOLTAGE_V for charger, amps in setpoints.items()
        )
        assert commanded_w <= max(surplus, 0.0) + 1.0, (setpoints, phases, surplus)
        load = {
            phase: sum(setpoints[c] for c in CHARGERS if phase in phases[c])
            for phase in ("l1", "l2", "l3")
        }
        # Below the 32 A circuit on every phase, no phase limit binds.
        if all(amps > 0 for amps in setpoints.values()) and max(load.values()) < SITE_LIMIT_A:
            assert surplus - commanded_w <= len(CHARGERS) * STEP_W + 1.0, (setpoints, surplus)
            followed += 1
    assert followed >= 2, "the chargers never shared the surplus"

    summary = report["ev_charging"]
    assert summary["site"] == SITE
    assert summary["mode"] == "pv"
    assert summary["decisions"] == len(recorded)
    # Commands outlive their delivery at this speed, and the edge's fail-safe matches.
    assert summary["command_ttl_s"] >= 3 * summary["interval_s"]
    assert summary["edge_timeout_s"] >= 4 * summary["interval_s"]


def test_the_cars_draw_no_more_than_they_are_offered(
    demo: tuple[Path, dict[str, Any], str],
) -> None:
    data_dir, _, _ = demo
    decided = {d["current_a"] for d in decisions(data_dir)}
    charged: list[float] = []
    for charger in CHARGERS:
        by_ts: dict[int, dict[str, float]] = defaultdict(dict)
        for row in export(data_dir, "--device", charger):
            if row["site"] != SITE:
                continue
            if row["quantity"] == "current_a":
                current = max(by_ts[row["ts"]].get("drawn", 0.0), row["value"])
                by_ts[row["ts"]]["drawn"] = current
            elif row["quantity"] == "charge_current_limit_a":
                by_ts[row["ts"]]["offered"] = row["value"]
        polls = [by_ts[ts] for ts in sorted(by_ts) if "offered" in by_ts[ts]]
        assert len(polls) >= 20, f"{charger}: only {len(polls)} polls stored"
        # One poll may take two block reads (the CHARX's currents and its setpoint lie 50
        # registers apart): a lower setpoint applied between them meets the current drawn
        # under the one before. Either offer of the poll or the previous one bounds the draw.
        for before, values in itertools.pairwise(polls):
            bound = max(values["offered"], before["offered"])
            assert values.get("drawn", 0.0) <= bound + 0.05, (charger, before, values)
        # What the charger offers is what the controller decided, to the charger's resolution
        # (the CHARX takes whole amperes); 32 A is standalone, before the first command.
        offered = {round(values["offered"], 1) for values in polls} - {32.0}
        strays = {a for a in offered if not any(abs(a - d) < 1.0 for d in decided)}
        assert not strays, (charger, strays, sorted(decided))
        charged.extend(values.get("drawn", 0.0) for values in polls)
    assert max(charged) > 5.0, "no car ever charged"


def test_the_factory_meter_exports_the_surplus(demo: tuple[Path, dict[str, Any], str]) -> None:
    data_dir, _, _ = demo
    rows = [
        row
        for row in export(data_dir, "--device", "meter-main")
        if row["site"] == SITE and row["phase"] is None
    ]
    power = [row["value"] for row in rows if row["quantity"] == "active_power_w"]
    exported = [row["value"] for row in rows if row["quantity"] == "energy_export_wh"]
    assert min(power) < -1_000, "the grid meter never saw the PV surplus"
    assert exported[-1] > exported[0]


def test_the_report_plans_a_working_day_and_a_day_off(
    demo: tuple[Path, dict[str, Any], str],
) -> None:
    _, report, stdout = demo
    interchange = report["interchange"]
    working, off = interchange["working_day"], interchange["day_off"]
    assert working["date"] == "2026-05-20"
    assert not working["day_off"]
    assert off["day_off"]
    assert off["date"] == "2026-05-23"  # the Saturday after
    for day in (working, off):
        sites = day["sites"]
        assert set(sites) == {"kanazawa-works", "city-hall", "home-0412"}
        for figures in sites.values():
            assert {
                "self_sufficiency",
                "cost_yen",
                "co2_kg",
                "shared_in_wh",
                "shared_out_wh",
            } <= set(figures)
        totals = day["totals"]
        assert totals["shared_out_wh"] == pytest.approx(totals["shared_in_wh"], abs=1.0)
        assert sum(s["shared_out_wh"] for s in sites.values()) == pytest.approx(
            totals["shared_out_wh"], abs=1.0
        )
        assert sum(t["wh"] for t in day["transfers"]) == pytest.approx(
            totals["shared_out_wh"], abs=1.0
        )
        assert totals["shared_out_wh"] > 0  # the works' PV serves its neighbours
        assert totals["cost_yen"] <= totals["standalone_cost_yen"]
        assert totals["co2_kg"] <= totals["standalone_co2_kg"]
    # The works idles on the day off: most of what its roof makes is shared or exported.
    works_working, works_off = working["sites"][SITE], off["sites"][SITE]
    assert works_off["consumption_wh"] < works_working["consumption_wh"] / 3
    assert "interchange 2026-05-20" in stdout
    assert "interchange 2026-05-23" in stdout
    assert "EV charging at kanazawa-works" in stdout


def test_periods_are_real_at_real_speed_and_stretch_when_faster() -> None:
    real = timing_for(1.0)
    assert (real.poll_interval_s, real.controller_interval_s) == (1.0, 5.0)
    assert (real.edge_timeout_s, real.command_ttl_s) == (60.0, 30.0)
    fast = timing_for(600.0)
    # In real seconds: a round a second, commands live 3 s, the fail-safe waits 4 s.
    assert fast.controller_interval_s / 600 == pytest.approx(1.0)
    assert fast.command_ttl_s / 600 == pytest.approx(3.0)
    assert fast.edge_timeout_s / 600 == pytest.approx(4.0)
    assert fast.poll_interval_s < 600  # under the Terra AC's own 600 s watchdog
    assert fast.stale_after_s >= 3 * fast.poll_interval_s


@pytest.mark.parametrize(
    ("start", "working", "off"),
    [
        ("2026-05-20T10:00:00+09:00", "2026-05-20", "2026-05-23"),  # Wednesday
        ("2026-11-23T10:00:00+09:00", "2026-11-24", "2026-11-23"),  # Labour Thanksgiving Day
        ("2026-05-02T23:30:00+09:00", "2026-05-07", "2026-05-02"),  # Golden Week
        ("2026-05-20T00:30:00+09:00", "2026-05-20", "2026-05-23"),  # JST date, not UTC
    ],
)
def test_the_planned_days_are_the_first_working_day_and_day_off(
    start: str, working: str, off: str
) -> None:
    days = interchange_days(dt.datetime.fromisoformat(start).timestamp())
    assert tuple(day.isoformat() for day in days) == (working, off)
