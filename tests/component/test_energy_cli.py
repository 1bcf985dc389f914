"""``hinode energy`` against real neighbours: JSON files, the SQLite store, a ledger."""

import json
import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cloud import StoredReading, open_timeseries, state_url
from cloud.energy import LedgerEntry, PhaseReading, SqlLedger, day_slots
from hinode.commands.energy import app
from hinode.energy.charging import StoreReadings

runner = CliRunner()
SLOTS = 48
DAY = date(2026, 5, 11)
MINUTE_MS = 60_000


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document))
    return path


def plan_input() -> dict[str, Any]:
    hours = [slot / 2 for slot in range(SLOTS)]
    daylight = [max(0.0, math.sin(math.pi * (hour - 6) / 12)) for hour in hours]
    return {
        "area": "kanazawa-north",
        "start": "2026-05-11T00:00:00+09:00",
        "slot_minutes": 30,
        "prices": {
            "grid_import_yen_per_kwh": [22.0] * 16 + [34.0] * 28 + [22.0] * 4,
            "grid_export_yen_per_kwh": 8.0,
            "interchange_yen_per_kwh": 18.0,
        },
        "sites": [
            {
                "id": "factory",
                "kind": "business",
                "generation_wh": [20000 * d for d in daylight],
                "consumption_wh": [6000.0] * SLOTS,
                "battery": {
                    "capacity_wh": 40000,
                    "power_w": 20000,
                    "efficiency": 0.9,
                    "soc_wh": 10000,
                },
            },
            {
                "id": "city-hall",
                "kind": "public",
                "generation_wh": [3000 * d for d in daylight],
                "consumption_wh": [5000.0] * SLOTS,
            },
            {
                "id": "home-1",
                "kind": "home",
                "generation_wh": [0.0] * SLOTS,
                "consumption_wh": [300.0] * SLOTS,
            },
        ],
    }


def test_plan_json_has_the_documented_shape(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["plan", str(write_json(tmp_path / "in.json", plan_input())), "--json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document) == {"slots", "sites", "totals"}
    assert len(document["slots"]) == SLOTS
    first = document["slots"][0]
    assert first["start"] == "2026-05-11T00:00:00+09:00"
    assert document["slots"][47]["start"] == "2026-05-11T23:30:00+09:00"
    assert set(first) == {"start", "transfers", "sites"}
    assert set(first["sites"]["factory"]) == {
        "grid_import_wh",
        "grid_export_wh",
        "shared_in_wh",
        "shared_out_wh",
        "battery_charge_wh",
        "battery_discharge_wh",
        "soc_wh",
    }
    assert first["sites"]["home-1"]["soc_wh"] is None
    assert set(document["sites"]["city-hall"]) == {
        "self_sufficiency",
        "self_consumption",
        "cost_yen",
        "co2_kg",
    }
    midday = document["slots"][24]
    assert midday["transfers"], "the factory's noon surplus serves its neighbours"
    for transfer in midday["transfers"]:
        assert set(transfer) == {"from", "to", "wh"}
        assert transfer["from"] == "factory"
    assert document["totals"]["cost_yen"] < document["totals"]["standalone_cost_yen"]


def test_plan_prints_a_table_for_people(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", str(write_json(tmp_path / "in.json", plan_input()))])
    assert result.exit_code == 0, result.output
    assert "factory" in result.stdout
    assert "area: shared" in result.stdout


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["sites"][1]["consumption_wh"].pop(), "error: sites.1.consumption_wh: "),
        (
            lambda d: d["sites"][2]["generation_wh"].__setitem__(7, -1),
            "error: sites.2.generation_wh.7: ",
        ),
        (lambda d: d.__setitem__("horizon", 2), "error: horizon: Extra inputs"),
    ],
)
def test_bad_plan_input_is_one_line_and_exit_2(tmp_path: Path, mutate: Any, message: str) -> None:
    document = plan_input()
    mutate(document)
    result = runner.invoke(app, ["plan", str(write_json(tmp_path / "in.json", document))])
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_plan_input_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text("{not json")
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}: not valid JSON")


def ev_input() -> dict[str, Any]:
    return {
        "now": "2026-05-11T09:00:00+09:00",
        "site_limit_a": 32,
        "mode": "pv",
        "pv_surplus_w": 11000,
        "voltage_v": 230,
        "chargers": [
            {
                "id": "bay-1",
                "phases": 3,
                "max_current_a": 32,
                "connected": True,
                "vehicle": {
                    "energy_needed_wh": 20000,
                    "departure": "2026-05-11T17:00:00+09:00",
                    "max_current_a": 16,
                },
            },
            {
                "id": "bay-2",
                "phases": 1,
                "phase": "l2",
                "max_current_a": 16,
                "connected": False,
                "vehicle": None,
            },
        ],
    }


def test_ev_plan_json(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["ev-plan", str(write_json(tmp_path / "ev.json", ev_input())), "--json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document) == {"setpoints", "phase_load_a"}
    bay_1, bay_2 = document["setpoints"]
    # 11 kW over three phases at 230 V is 15.9 A; the car takes 16 A.
    assert bay_1 == {"charger": "bay-1", "current_a": 15.9, "reason": "charging on PV surplus"}
    assert bay_2 == {"charger": "bay-2", "current_a": 0.0, "reason": "not connected"}
    assert document["phase_load_a"] == {"l1": 15.9, "l2": 15.9, "l3": 15.9}


def test_ev_plan_budgets_a_one_phase_car_on_its_phase(tmp_path: Path) -> None:
    document = ev_input()
    document["pv_surplus_w"] = 3000
    document["chargers"][0]["vehicle"] |= {"phases": 1, "phase": "l3"}
    result = runner.invoke(
        app, ["ev-plan", str(write_json(tmp_path / "ev.json", document)), "--json"]
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    # 3 kW on one phase is 13 A; over three phases it would not even reach the 6 A minimum.
    assert plan["setpoints"][0] == {
        "charger": "bay-1",
        "current_a": 13.0,
        "reason": "charging on PV surplus (car charges on l3 only)",
    }
    assert plan["phase_load_a"] == {"l1": 0.0, "l2": 0.0, "l3": 13.0}


def test_ev_plan_rejects_a_one_phase_car_without_its_phase(tmp_path: Path) -> None:
    document = ev_input()
    document["chargers"][0]["vehicle"]["phases"] = 1
    result = runner.invoke(app, ["ev-plan", str(write_json(tmp_path / "ev.json", document))])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: chargers.0.vehicle: ")
    assert "a one-phase vehicle needs 'phase'" in result.stderr


def test_ev_plan_rejects_a_single_phase_charger_without_its_phase(tmp_path: Path) -> None:
    document = ev_input()
    del document["chargers"][1]["phase"]
    result = runner.invoke(app, ["ev-plan", str(write_json(tmp_path / "ev.json", document))])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: chargers.1: ")


def meter_readings(
    site: str, import_w: float, export_w: float, *, skip: range = range(0)
) -> list[StoredReading]:
    """A grid meter's registers every 5 minutes around the day, at constant power."""
    _, bounds = day_slots(DAY)
    readings = []
    for step in range(-3, 24 * 12 + 4):
        if step in skip:
            continue
        ts = bounds[0] + step * 5 * MINUTE_MS
        hours = step * 5 / 60
        for quantity, value in (
            ("energy_import_wh", 1_000_000 + import_w * hours),
            ("energy_export_wh", 2_000_000 + export_w * hours),
        ):
            readings.append(
                StoredReading(
                    site, f"gw-{site}", "grid-meter", quantity, None, ts, value, step + 10
                )
            )
    return readings


def _stored_ledger(data_dir: Path) -> list[LedgerEntry]:
    """The ledger ``settle`` writes by default: the table in the data directory's state store."""
    ledger = SqlLedger(state_url(data_dir))
    try:
        return ledger.entries()
    finally:
        ledger.close()


def test_settle_from_the_store_then_correct_after_late_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    store = open_timeseries(data_dir)
    try:
        store.write(meter_readings("factory", 0, 12000))
        store.write(meter_readings("city-hall", 8000, 0))
        store.write(meter_readings("home-1", 2000, 0, skip=range(100, 112)))
    finally:
        store.close()
    args = [
        "settle",
        "--date",
        "2026-05-11",
        "--price",
        "18",
        "--data-dir",
        str(data_dir),
        "--json",
    ]

    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report["missing"]
    assert {missing["site"] for missing in report["missing"]} == {"home-1"}
    assert all(entry["kind"] == "settlement" for entry in report["entries"])
    after_first = _stored_ledger(data_dir)
    assert len(after_first) == len(report["entries"])

    # The collector fills the gap: the late readings arrive.
    store = open_timeseries(data_dir)
    try:
        store.write(meter_readings("home-1", 2000, 0))
    finally:
        store.close()
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    corrections = json.loads(second.stdout)
    assert corrections["missing"] == []
    assert corrections["entries"]
    assert {entry["kind"] for entry in corrections["entries"]} == {"correction"}
    entries = _stored_ledger(data_dir)
    assert set(after_first) <= set(entries), "the ledger is append-only"

    per_slot: dict[object, float] = {}
    factory_given = 0.0
    for entry in entries:
        per_slot[entry.slot_start] = per_slot.get(entry.slot_start, 0.0) + float(entry.amount_yen)
        if entry.site == "factory":
            factory_given += float(entry.given_wh)
    assert all(abs(total) < 1e-9 for total in per_slot.values())
    # The factory exports 6 kWh per slot; the others take 4 + 1 kWh of it.
    assert factory_given == pytest.approx(5000 * SLOTS)

    third = runner.invoke(app, args)
    assert json.loads(third.stdout)["entries"] == []


def test_settle_from_a_register_file(tmp_path: Path) -> None:
    readings = meter_readings("a", 0, 2000) + meter_readings("b", 1000, 0)
    sites: dict[str, dict[str, list[list[float]]]] = {}
    for reading in readings:
        sites.setdefault(reading.site, {}).setdefault(reading.quantity, []).append(
            [reading.ts, reading.value]
        )
    registers = write_json(tmp_path / "registers.json", {"sites": sites})
    ledger = tmp_path / "ledger.jsonl"
    result = runner.invoke(
        app,
        [
            *("settle", "--date", "2026-05-11", "--price", "20"),
            *("--input", str(registers), "--ledger", str(ledger)),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "96 entries appended" in result.stdout
    assert len(ledger.read_text().splitlines()) == 96


def test_settle_needs_to_know_where_the_data_is(tmp_path: Path) -> None:
    result = runner.invoke(app, ["settle", "--date", "2026-05-11", "--price", "18"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --ledger")
    result = runner.invoke(
        app, ["settle", "--date", "11/05/2026", "--price", "18", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --date")


def test_report_from_a_slot_file_with_a_chart(tmp_path: Path) -> None:
    start = day_slots(DAY)[0][0]
    slots = [
        {
            "start": (start + timedelta(minutes=30 * index)).isoformat(),
            "consumption_wh": 2000.0,
            "generation_wh": 1000.0,
            "grid_import_wh": 800.0,
            "grid_export_wh": 0.0,
            "shared_in_wh": 200.0,
            "shared_out_wh": 0.0,
        }
        for index in range(SLOTS * 3)
    ]
    records = write_json(tmp_path / "slots.json", {"site": "factory", "slots": slots})
    chart = tmp_path / "chart.png"
    base = ["report", "--site", "factory", "--month", "2026-05", "--input", str(records)]
    result = runner.invoke(app, [*base, "--format", "json", "--plot", str(chart)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["slots"] == SLOTS * 3
    assert report["grid_import_kwh"] == pytest.approx(0.8 * SLOTS * 3)
    assert report["saved_by_interchange_kg"] > 0
    assert chart.read_bytes().startswith(b"\x89PNG")
    markdown = runner.invoke(app, base)
    assert markdown.exit_code == 0
    assert "| CO2, basic factor (kg) |" in markdown.stdout
    csv_out = runner.invoke(app, [*base, "--format", "csv"])
    assert csv_out.stdout.startswith("figure,value\n")
    wrong = runner.invoke(app, [*base, "--format", "xml"])
    assert wrong.exit_code == 2


def test_report_from_the_store_and_the_ledger(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    store = open_timeseries(data_dir)
    try:
        store.write(meter_readings("factory", 0, 12000))
        store.write(meter_readings("city-hall", 8000, 0))
        pv = [
            reading._replace(device="inverter")
            for reading in meter_readings("factory", 0, 20000)
            if reading.quantity == "energy_export_wh"
        ]
        store.write(pv)
    finally:
        store.close()
    settled = runner.invoke(
        app, ["settle", "--date", "2026-05-11", "--price", "18", "--data-dir", str(data_dir)]
    )
    assert settled.exit_code == 0, settled.output
    result = runner.invoke(
        app,
        [
            *("report", "--site", "factory", "--month", "2026-05"),
            *("--data-dir", str(data_dir), "--pv", "inverter", "--format", "json"),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["slots"] == SLOTS
    assert report["generation_kwh"] == pytest.approx(10 * SLOTS, rel=1e-6)
    assert report["consumption_kwh"] == pytest.approx(4 * SLOTS, rel=1e-6)
    assert report["shared_out_kwh"] == pytest.approx(4 * SLOTS, rel=1e-6)
    assert report["grid_export_kwh"] == pytest.approx(2 * SLOTS, rel=1e-6)


def test_run_names_the_bad_field_of_its_configuration(tmp_path: Path) -> None:
    config = tmp_path / "charging.yaml"
    config.write_text(
        "site: factory-a\nsite_limit_a: 32\ngrid_meter: meter-1\n"
        "chargers:\n  - {device: charger-1, gateway: gw-1, phases: 2, max_current_a: 16}\n"
    )
    result = runner.invoke(
        app,
        ["run", str(config), "--data-dir", str(tmp_path), "--broker", "mqtt://127.0.0.1:1"],
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {config}: chargers.0.phases: ")


def test_run_names_a_tls_file_it_cannot_use_and_wants_cert_and_key_together(
    tmp_path: Path,
) -> None:
    config = tmp_path / "charging.yaml"
    config.write_text(
        "site: factory-a\nsite_limit_a: 32\ngrid_meter: meter-1\n"
        "chargers:\n  - {device: charger-1, gateway: gw-1, phases: 3, max_current_a: 16}\n"
    )
    base = ["run", str(config), "--data-dir", str(tmp_path), "--broker", "mqtts://127.0.0.1:1"]
    missing = tmp_path / "no-such-ca.crt"
    result = runner.invoke(app, [*base, "--ca-file", str(missing)])
    assert result.exit_code == 2
    assert str(missing) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    half = runner.invoke(app, [*base, "--cert-file", str(tmp_path / "client.crt")])
    assert half.exit_code == 2
    assert half.stderr.strip() == "error: --cert-file and --key-file: give both or neither"


def test_the_loop_reads_a_meters_total_not_total_plus_phases(tmp_path: Path) -> None:
    store = open_timeseries(tmp_path / "data")
    try:
        store.write(
            [
                StoredReading("lab", "gw-1", "meter-1", "active_power_w", None, 1000, -900.0, 1),
                StoredReading("lab", "gw-1", "meter-1", "active_power_w", "l1", 1000, -300.0, 1),
                StoredReading("lab", "gw-1", "meter-1", "active_power_w", "l2", 1000, -300.0, 1),
                StoredReading("lab", "gw-1", "meter-1", "active_power_w", "l3", 1000, -300.0, 1),
                StoredReading("lab", "gw-1", "meter-2", "active_power_w", "l1", 2000, 100.0, 2),
                StoredReading("lab", "gw-1", "meter-2", "active_power_w", "l2", 2000, 200.0, 2),
                StoredReading("lab", "gw-1", "meter-2", "active_power_w", "l1", 500, 999.0, 0),
            ]
        )
        readings = StoreReadings(store)
        assert readings.latest("lab", "meter-1", "active_power_w", 0) == -900.0
        assert readings.latest("lab", "meter-2", "active_power_w", 0) == 300.0
        assert readings.latest("lab", "meter-2", "active_power_w", 3000) is None
        assert readings.latest("other", "meter-1", "active_power_w", 0) is None
    finally:
        store.close()


def test_the_loop_reads_each_phases_newest_value(tmp_path: Path) -> None:
    store = open_timeseries(tmp_path / "data")
    try:
        store.write(
            [
                StoredReading("lab", "gw-1", "charger-1", "current_a", "l1", 1000, 6.1, 1),
                StoredReading("lab", "gw-1", "charger-1", "current_a", "l2", 1000, 0.0, 1),
                StoredReading("lab", "gw-1", "charger-1", "current_a", "l3", 1000, 0.1, 1),
                StoredReading("lab", "gw-1", "charger-1", "current_a", "l1", 2000, 15.8, 2),
                StoredReading("lab", "gw-1", "charger-1", "current_a", None, 2000, 99.0, 2),
                StoredReading("other", "gw-9", "charger-1", "current_a", "l2", 3000, 7.0, 3),
            ]
        )
        readings = StoreReadings(store)
        by_phase = readings.latest_by_phase("lab", "charger-1", "current_a", 0)
        assert by_phase == {
            "l1": PhaseReading(2000, 15.8),
            "l2": PhaseReading(1000, 0.0),
            "l3": PhaseReading(1000, 0.1),
        }
        fresh = readings.latest_by_phase("lab", "charger-1", "current_a", 1500)
        assert fresh == {"l1": PhaseReading(2000, 15.8)}
        assert readings.latest_by_phase("lab", "charger-1", "current_a", 5000) == {}
    finally:
        store.close()
