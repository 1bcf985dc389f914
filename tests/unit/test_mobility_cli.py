"""``hinode mobility`` on the command line: documents in, JSON or tables out, bad input exit 2."""

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hinode.commands.mobility import app

DOCUMENT: dict[str, Any] = {
    "now": "2026-11-23T08:00:00+09:00",
    "speed_kmh": 5,
    "detour_factor": 1.3,
    "shuttles": [
        {"id": "s1", "position": [36.5958, 136.6392], "capacity": 4, "onboard": [], "plan": []}
    ],
    "requests": [
        {
            "id": "r1",
            "pickup": [36.5979, 136.6405],
            "dropoff": [36.5928, 136.6357],
            "passengers": 1,
            "earliest_pickup": "2026-11-23T08:05:00+09:00",
            "latest_dropoff": "2026-11-23T08:40:00+09:00",
        }
    ],
}


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "input.json"
    path.write_text(json.dumps(document))
    return path


def test_dispatch_json_has_the_documented_shape(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["dispatch", str(write(tmp_path, DOCUMENT)), "--json"])
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert output["assignments"] == [
        {
            "request": "r1",
            "shuttle": "s1",
            "pickup_eta": output["routes"]["s1"][0]["eta"],
            "dropoff_eta": output["routes"]["s1"][1]["eta"],
        }
    ]
    assert [stop["action"] for stop in output["routes"]["s1"]] == ["pickup", "dropoff"]
    assert output["unassigned"] == []


def test_dispatch_table_for_people(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["dispatch", str(write(tmp_path, DOCUMENT)), "--batch"])
    assert result.exit_code == 0, result.output
    assert "r1" in result.stdout
    assert "s1" in result.stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"speed_kmh": 0}, "error: speed_kmh: Input should be greater than 0"),
        ({"colour": "red"}, "error: colour: Extra inputs are not permitted"),
        (
            {"requests": [dict(DOCUMENT["requests"][0], passengers=0)]},
            "error: requests.0.passengers: Input should be greater than or equal to 1",
        ),
        (
            {"requests": [dict(DOCUMENT["requests"][0], pickup=[95, 136])]},
            "error: requests.0.pickup.0: Input should be less than or equal to 90",
        ),
        (
            {"shuttles": [dict(DOCUMENT["shuttles"][0], onboard=["ghost"])]},
            "error: shuttles.0.onboard.0: unknown request 'ghost'",
        ),
        (
            {"now": "2026-11-23T08:00:00"},
            "error: now: Input should have timezone info",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    result = CliRunner().invoke(app, ["dispatch", str(write(tmp_path, DOCUMENT | change))])
    assert result.exit_code == 2
    assert result.stderr.strip() == message


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    missing = CliRunner().invoke(app, ["dispatch", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2
    assert "cannot read" in missing.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    result = CliRunner().invoke(app, ["dispatch", str(broken)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {broken}: not valid JSON")


def test_serve_prints_the_feed_urls_and_stops() -> None:
    result = CliRunner().invoke(
        app, ["serve", "--port", "0", "--duration-s", "0.1", "--at", "2026-11-24T07:00:00+09:00"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("gbfs: http://127.0.0.1:")
    assert lines[0].endswith("/gbfs/gbfs.json")
    assert lines[1].startswith("mds: http://127.0.0.1:")


def test_serve_refuses_a_time_without_offset() -> None:
    result = CliRunner().invoke(app, ["serve", "--at", "2026-11-24T07:00:00"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: --at: '2026-11-24T07:00:00' needs a UTC offset, e.g. +09:00"
    )


def test_run_names_a_tls_file_it_cannot_use_before_it_starts(tmp_path: Path) -> None:
    config = tmp_path / "shuttles.yaml"
    config.write_text(
        "site: midorigaoka\n"
        "shuttles:\n"
        "  - {id: shuttle-1, gateway: gw-depot, position: [36.56, 136.65], capacity: 4}\n"
    )
    base = ["run", str(config), "--broker", "mqtts://127.0.0.1:1", "--data-dir", str(tmp_path)]
    missing = tmp_path / "no-such-ca.crt"
    result = CliRunner().invoke(app, [*base, "--http-port", "0", "--ca-file", str(missing)])
    assert result.exit_code == 2
    assert str(missing) in result.stderr
    half = CliRunner().invoke(app, [*base, "--key-file", str(tmp_path / "client.key")])
    assert half.exit_code == 2
    assert half.stderr.strip() == "error: --cert-file and --key-file: give both or neither"
    assert not (tmp_path / "mobility-report.json").exists()  # nothing ran
