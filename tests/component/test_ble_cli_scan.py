"""``hinode ble scan`` over the bumble test stack: what a technician sees in a home."""

import gc
import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from hinode.commands.ble import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def collect_bumble_garbage() -> Iterator[None]:
    yield
    gc.collect()  # see tests/component/test_ble_link.py: finalizers run here, not in compile()


def test_scan_of_a_simulated_home_lists_one_device_of_each_kind() -> None:
    result = runner.invoke(app, ["scan", "--simulated", "--seconds", "0.3", "--json"])
    assert result.exit_code == 0, result.output
    kinds = sorted(row["kind"] for row in json.loads(result.output))
    assert kinds == [
        "blood_pressure",
        "glucose",
        "health_thermometer",
        "heart_rate",
        "pulse_oximeter",
        "weight_scale",
    ]


def test_scan_prints_one_line_per_device() -> None:
    result = runner.invoke(app, ["scan", "--simulated", "--seconds", "0.3"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 6
    assert any("Hinode-BP" in line and "blood_pressure" in line for line in lines)
