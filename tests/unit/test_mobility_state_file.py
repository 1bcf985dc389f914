"""``hinode mobility run``'s state file: saved whole or not at all, and a file it cannot use
stops the command with one line naming it (unless --fresh)."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cloud.mobility import (
    Insertion,
    LoopState,
    MobilityServiceConfig,
    RideRequest,
    ShuttleServiceLoop,
)
from hinode.cli import app
from hinode.commands.mobility_service import _restored_state
from hinode.mobility import STATE_FILE, StateFile
from tests.support.shuttle_service import BUS_STOP, DEPOT, ESTATE, NOW, RecordedCommands


def config_text(*shuttles: str) -> str:
    lines = ["site: midorigaoka", "shuttles:"]
    lines += [
        f"  - {{id: {sid}, gateway: gw-depot, position: {list(DEPOT)}, capacity: 4}}"
        for sid in shuttles
    ]
    return "\n".join(lines) + "\n"


def booked_state(*shuttles: str) -> LoopState:
    """mrs-sato's ride promised on the first shuttle."""
    config = MobilityServiceConfig.model_validate(
        {
            "site": "midorigaoka",
            "shuttles": [
                {"id": sid, "gateway": "gw-depot", "position": DEPOT, "capacity": 4}
                for sid in shuttles
            ],
        }
    )
    loop = ShuttleServiceLoop(config, RecordedCommands(), now=NOW)
    ride = RideRequest("mrs-sato", ESTATE, BUS_STOP, 1, NOW + 120, NOW + 3600)
    assert isinstance(loop.request(ride, NOW), Insertion)
    return loop.state()


def run(tmp_path: Path, config: str, *more: str) -> tuple[int, str]:
    (tmp_path / "shuttles.yaml").write_text(config)
    result = CliRunner().invoke(
        app,
        [
            "mobility",
            "run",
            str(tmp_path / "shuttles.yaml"),
            "--broker",
            "mqtt://127.0.0.1:1",
            "--data-dir",
            str(tmp_path / "data"),
            "--http-port",
            "0",
            *more,
        ],
    )
    return result.exit_code, result.output


def test_a_saved_state_reads_back_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    state_file = StateFile(tmp_path / "data" / STATE_FILE)
    assert state_file.load() is None
    state = booked_state("shuttle-1")
    state_file.save(state)
    state_file.save(state)  # replaced whole
    assert state_file.load() == state
    assert [path.name for path in (tmp_path / "data").iterdir()] == [STATE_FILE]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"format": "hinode.mobility-state", "version": 1, "si', "not valid JSON"),
        (
            '{"format": "hinode.mobility-state", "version": 7}',
            "version: this service reads version 1, the document is 7",
        ),
        ("\udcff", "not UTF-8 text"),
    ],
)
def test_a_corrupt_or_foreign_state_file_is_one_line_and_exit_2(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "data" / STATE_FILE
    path.parent.mkdir()
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    code, output = run(tmp_path, config_text("shuttle-1"))
    assert code == 2
    (line,) = output.strip().splitlines()
    assert line.startswith(f"error: {path}: ")
    assert problem in line
    assert "--fresh" in line
    assert path.read_bytes() == content.encode("utf-8", "surrogateescape")  # left as it was


def test_a_shuttle_removed_with_promised_rides_is_refused_by_name(tmp_path: Path) -> None:
    StateFile(tmp_path / "data" / STATE_FILE).save(booked_state("shuttle-1", "shuttle-2"))
    code, output = run(tmp_path, config_text("shuttle-2"))
    assert code == 2
    (line,) = output.strip().splitlines()
    assert line.startswith(f"error: {tmp_path / 'shuttles.yaml'}: ")
    assert "shuttle 'shuttle-1' has rides mrs-sato ahead" in line
    assert "--fresh" in line


def test_fresh_moves_the_old_state_aside_with_the_time(tmp_path: Path) -> None:
    state_file = StateFile(tmp_path / STATE_FILE)
    state_file.save(booked_state("shuttle-1"))
    old = state_file.path.read_text()
    config = MobilityServiceConfig.model_validate(
        {
            "site": "midorigaoka",
            "shuttles": [{"id": "s9", "gateway": "gw", "position": DEPOT, "capacity": 2}],
        }
    )
    before = datetime.now(UTC).replace(microsecond=0)
    restored, news = _restored_state(state_file, config, tmp_path / "c.yaml", fresh=True)
    assert restored is None
    assert not state_file.path.exists()
    (aside,) = tmp_path.glob("mobility-state.*.json")
    assert aside.read_text() == old
    stamp = datetime.strptime(aside.name.split(".")[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before <= stamp <= datetime.now(UTC)
    assert news == [f"starting fresh (--fresh): the previous state was moved to {aside}"]
    # Nothing to move the second time.
    assert _restored_state(state_file, config, tmp_path / "c.yaml", fresh=True) == (None, [])


def test_a_state_that_fits_is_restored_and_said_so_once(tmp_path: Path) -> None:
    state_file = StateFile(tmp_path / STATE_FILE)
    state_file.save(booked_state("shuttle-1"))
    config = MobilityServiceConfig.model_validate({
        "site": "midorigaoka",
        "shuttles": [
            {"id": sid, "gateway": "gw-depot", "position": DEPOT, "capacity": 4}
            for sid in ("shuttle-1", "shuttle-2")
        ],
    })  # fmt: skip
    restored, news = _restored_state(state_file, config, tmp_path / "c.yaml", fresh=False)
    assert restored is not None
    assert restored.service.rides.keys() == {"mrs-sato"}
    assert news == [
        f"{state_file.path}: shuttle 'shuttle-2' joined (new in the config)",
        f"restored 1 rides (1 not yet dropped off), 2 shuttles from {state_file.path}",
    ]
