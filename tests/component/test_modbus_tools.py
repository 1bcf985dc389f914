"""``hinode edge read`` and ``hinode edge scan`` against simulated devices."""

import asyncio
import json

import pytest
from typer.testing import CliRunner

from hinode.cli import app
from simulators.modbus import ModbusSimServer, create_device
from tests.support.ports import free_port

NOW = 1_750_000_000.0
runner = CliRunner()


async def _invoke(*args: str) -> tuple[int, str, str]:
    # the command runs its own event loop: give it a thread while the simulator serves here
    result = await asyncio.to_thread(runner.invoke, app, list(args))
    return result.exit_code, result.stdout, result.stderr


async def test_read_prints_every_quantity_as_json_in_si_units() -> None:
    meter = create_device("sdm630", now=lambda: NOW, seed=1)
    async with ModbusSimServer({1: meter}, now=lambda: NOW) as server:
        code, out, err = await _invoke(
            "edge", "read", "sdm630", "--host", "127.0.0.1", "--port", str(server.port),
            "--unit", "1", "--json",
        )  # fmt: skip
    assert code == 0, err
    document = json.loads(out)
    assert (document["profile"], document["unit"]) == ("sdm630", 1)
    assert isinstance(document["ts"], int)
    got = {(r["quantity"], r["phase"]): r for r in document["readings"]}
    energy = got[("energy_import_wh", None)]
    assert energy["unit"] == "Wh"
    assert energy["value"] == pytest.approx(meter.truth()[("energy_import_wh", None)], rel=1e-6)
    assert got[("active_power_w", "l1")]["unit"] == "W"


async def test_read_shows_a_table_over_rtu_framing() -> None:
    charger = create_device("keba_p30", now=lambda: NOW, seed=2)
    async with ModbusSimServer({7: charger}, now=lambda: NOW, transport="rtu_over_tcp") as server:
        code, out, err = await _invoke(
            "edge", "read", "keba_p30", "--host", "127.0.0.1", "--port", str(server.port),
            "--unit", "7", "--framer", "rtu",
        )  # fmt: skip
    assert code == 0, err
    assert "charge_current_limit_a" in out
    assert "KEBA keba_p30" in out


async def test_an_unreachable_device_is_one_line_and_exit_one() -> None:
    code, _, err = await _invoke(
        "edge", "read", "sdm630", "--host", "127.0.0.1", "--port", str(free_port()),
        "--unit", "1", "--timeout", "0.2",
    )  # fmt: skip
    assert code == 1
    assert err.startswith("error: ")
    assert err.count("\n") == 1


async def test_a_silent_unit_is_reported_as_unreachable() -> None:
    meter = create_device("sdm120", now=lambda: NOW, seed=1)
    async with ModbusSimServer({1: meter}, now=lambda: NOW) as server:
        server.silence(1)
        code, _, err = await _invoke(
            "edge", "read", "sdm120", "--host", "127.0.0.1", "--port", str(server.port),
            "--unit", "1", "--timeout", "0.2",
        )  # fmt: skip
    assert code == 1
    assert "no" in err
    assert "response within 0.2 s" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["edge", "read", "sdm630", "--unit", "1"], "exactly one of --host or --serial"),
        (
            ["edge", "read", "sdm630", "--unit", "1", "--host", "h", "--serial", "/dev/ttyUSB0"],
            "exactly one of --host or --serial",
        ),
        (["edge", "read", "sdm630", "--unit", "300", "--host", "h"], "--unit must be 1..247"),
        (["edge", "read", "no_such_meter", "--unit", "1", "--host", "h"], "no profile named"),
        (["edge", "scan", "--host", "h", "--units", "0-5"], "not a range within 1-247"),
        (["edge", "scan", "--host", "h", "--units", "a-b"], "--units must look like"),
    ],
)
def test_bad_input_is_one_line_and_exit_two(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert message in result.stderr


async def test_scan_lists_the_units_that_answer_and_what_they_are() -> None:
    devices = {
        1: create_device("sdm630", now=lambda: NOW, seed=1),
        3: create_device("sunspec_inverter", now=lambda: NOW, seed=3),
        4: create_device("em24", now=lambda: NOW, seed=4),
        5: create_device("keba_p30", now=lambda: NOW, seed=5),
    }
    async with ModbusSimServer(devices, now=lambda: NOW) as server:
        code, out, err = await _invoke(
            "edge", "scan", "--host", "127.0.0.1", "--port", str(server.port),
            "--units", "1-6", "--timeout", "0.2", "--json",
        )  # fmt: skip
    assert code == 0, err
    found = {entry["unit"]: entry for entry in json.loads(out)}
    assert set(found) == {1, 3, 4, 5}
    assert "sdm630" in found[1]["profiles"]
    assert found[3]["sunspec_models"] == [1, 103, 120, 121]
    assert found[3]["info"]["manufacturer"] == "Hinode"
    assert found[4]["profiles"] == ["em24"]
    assert found[5]["profiles"] == ["keba_p30"]
