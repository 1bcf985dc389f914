"""``hinode mobility fleet`` at start: the collector's stored position readings back as fixes that
rebuild the fleet's trips, and the secret behind the GBFS vehicle ids kept in a file."""

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cloud import StoredReading
from cloud.mobility import FleetConfig, ScooterTracker, StoredFix, replay, stored_fixes
from hinode.commands.mobility import app
from hinode.commands.mobility_fleet import _id_secret
from tests.support.scooter_fleet import (
    CONFIG,
    DEVICE,
    GATEWAY,
    OFFICE,
    SITE,
    STATION,
    stored_position,
)

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


def at(ms: int) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def ts(ms: int) -> int:
    return int(at(ms).timestamp() * 1000)


def test_the_readings_of_one_vehicle_at_one_instant_are_one_fix_oldest_first() -> None:
    rows = [
        *stored_position(at(3000), OFFICE, locked=True, soc_pct=80.0),
        *stored_position(at(1000), STATION, locked=False, soc_pct=90.0),
        *stored_position(at(2000), STATION, vehicle="scooter-2"),
        *stored_position(at(2000), STATION, vehicle="not-configured"),
        *stored_position(at(2000), STATION, site="elsewhere"),
        StoredReading(SITE, GATEWAY, "scooter-1", "active_power_w", None, ts(2000), 5.0, 1),
    ]
    fixes = stored_fixes(rows, SITE, {"scooter-1", "scooter-2"})
    assert [(fix.vehicle, fix.ts) for fix in fixes] == [
        ("scooter-1", ts(1000)),
        ("scooter-2", ts(2000)),
        ("scooter-1", ts(3000)),
    ]
    assert fixes[0].values == {
        "lat_deg": STATION[0],
        "lon_deg": STATION[1],
        "speed_mps": 2.5,
        "locked": 0.0,
        "soc_pct": 90.0,
    }
    assert fixes[1].values == {"lat_deg": STATION[0], "lon_deg": STATION[1], "speed_mps": 2.5}


def test_replayed_fixes_rebuild_a_trip_and_a_redelivered_report_is_stale() -> None:
    config = FleetConfig.model_validate(yaml.safe_load(CONFIG))
    tracker = ScooterTracker(config.fleet(b"k" * 32), config.tracked())
    rows = [
        *stored_position(at(1_000), STATION, locked=True, soc_pct=90.0),
        *stored_position(at(60_000), STATION, locked=False, soc_pct=90.0),
        *stored_position(at(120_000), (36.5900, 136.6320)),
        *stored_position(at(360_000), OFFICE, locked=True, soc_pct=84.0),
    ]
    assert replay(tracker, stored_fixes(rows, SITE, {"scooter-1"})) == 4
    (trip,) = tracker.fleet.trips
    assert (trip.device_id, trip.start_time, trip.end_time) == (DEVICE, ts(60_000), ts(360_000))
    assert tracker.fleet.scooters[DEVICE].position == OFFICE
    # The broker may deliver the lock again after a restart: the tracker has seen it.
    assert tracker.fix("scooter-1", ts(360_000), OFFICE, locked=True, battery_pct=84.0) == (
        "stale",
    )


def test_a_fix_without_a_position_still_counts_its_state() -> None:
    config = FleetConfig.model_validate(yaml.safe_load(CONFIG))
    tracker = ScooterTracker(config.fleet(b"k" * 32), config.tracked())
    replay(tracker, [StoredFix("scooter-1", 1000, {"soc_pct": 50.0, "locked": 1.0})])
    assert tracker.fleet.scooters == {}  # not deployable without a position yet
    replay(tracker, [StoredFix("scooter-1", 2000, {"lat_deg": 36.6, "lon_deg": 136.6})])
    assert tracker.fleet.scooters[DEVICE].battery_pct == 50.0


def test_a_missing_secret_file_is_created_private_and_read_back_the_same(
    tmp_path: Path,
) -> None:
    path = tmp_path / "gbfs-id-secret"
    secret = _id_secret(path)
    assert len(secret) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert bytes.fromhex(path.read_text()) == secret
    assert _id_secret(path) == secret


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not hex\n", "expected the secret as hex digits on one line"),
        ("abcd\n", "the secret is 2 bytes, at least 16 wanted"),
        (None, "cannot read"),
    ],
)
def test_an_unusable_secret_file_exits_2_naming_it(
    tmp_path: Path, content: str | None, message: str
) -> None:
    config = tmp_path / "fleet.yaml"
    config.write_text(CONFIG)
    path = tmp_path / "gbfs-id-secret"
    if content is None:
        path.mkdir()  # exists, but is no file
    else:
        path.write_text(content)
    result = CliRunner().invoke(
        app,
        ["fleet", str(config), "--broker", "mqtt://127.0.0.1:1", "--id-secret-file", str(path)],
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: --id-secret-file {path}: {message}")
    assert result.stderr.count("\n") == 1


def test_the_config_names_the_secret_file_relative_to_itself(tmp_path: Path) -> None:
    config = tmp_path / "fleet.yaml"
    config.write_text(CONFIG + "id_secret_file: secrets/gbfs-id\n")
    result = CliRunner().invoke(app, ["fleet", str(config), "--broker", "mqtt://127.0.0.1:1"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: --id-secret-file {tmp_path / 'secrets/gbfs-id'}: ")
    assert "cannot create" in result.stderr
