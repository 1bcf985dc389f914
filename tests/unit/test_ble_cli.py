"""``hinode ble decode``: what a technician sees for a captured value."""

import json

import pytest
from typer.testing import CliRunner

from hinode.commands.ble import app

runner = CliRunner()
BP_FRAME = "1e 8000 5200 ff07 ea070b17080f1e 4700 01 0400".replace(" ", "")


@pytest.mark.parametrize(
    "characteristic",
    [
        "blood_pressure_measurement",
        "2a35",
        "2A35",
        "0x2a35",
        "00002a35-0000-1000-8000-00805f9b34fb",
    ],
)
def test_decode_by_name_or_uuid_prints_json(characteristic: str) -> None:
    result = runner.invoke(app, ["decode", characteristic, BP_FRAME, "--json"])
    assert result.exit_code == 0, result.output
    decoded = json.loads(result.output)
    assert decoded == {
        "characteristic": "blood_pressure_measurement",
        "systolic_mmhg": 128.0,
        "diastolic_mmhg": 82.0,
        "mean_arterial_pressure_mmhg": None,
        "timestamp": "2026-11-23T08:15:30",
        "pulse_rate_bpm": 71.0,
        "user_id": 1,
        "status": ["irregular_pulse_detected"],
        "unavailable": {"mean_arterial_pressure_mmhg": "NaN (not a number)"},
    }


def test_decode_prints_readable_lines_with_reasons_for_missing_values() -> None:
    result = runner.invoke(app, ["decode", "2a35", BP_FRAME])
    assert result.exit_code == 0, result.output
    assert "systolic_mmhg" in result.output
    assert "128.0" in result.output
    assert "NaN (not a number)" in result.output
    assert "irregular_pulse_detected" in result.output


def test_hex_may_contain_spaces_and_colons() -> None:
    result = runner.invoke(app, ["decode", "heart_rate_measurement", "16:48 20 03", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rr_intervals_s"] == [0.78125]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["decode", "body_fat", "00"], "unknown characteristic 'body_fat'"),
        (["decode", "2a35", "zz"], "not hexadecimal"),
        (["decode", "2a35", "1e8000"], "blood_pressure_measurement: truncated"),
        (["decode", "2a35", "1e8000"], "at byte offset 3"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert result.output.count("\n") == 1
