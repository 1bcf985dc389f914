"""``hinode mobility fleet``: a config it cannot use exits 2, naming the file and the field."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hinode.commands.mobility import app
from tests.support.scooter_fleet import CONFIG


def run(config: Path, *more: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["fleet", str(config), "--broker", "mqtt://127.0.0.1:1", *more]
    )
    return result.exit_code, result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("type: kickboard-s1}", "type: kickboard-s1, colour: red}"),
            "scooters.scooter-1.colour: Extra inputs are not permitted",
        ),
        (
            ("type: kickboard-s1}", "type: kickboard-s2}"),
            "scooters: Value error, scooter-1: type 'kickboard-s2' is not one of vehicle_types",
        ),
        (
            ("device_id: 7c1e0a4e-3d2b-4f8a-9c61-0e5b2a7d9f31", "device_id: not-a-uuid"),
            "scooters.scooter-1.device_id: Input should be a valid UUID",
        ),
        (
            ("timezone: Asia/Tokyo", "timezone: Japan/Kanazawa"),
            "system.timezone: Value error, 'Japan/Kanazawa' is not an IANA time zone",
        ),
        (("provider_id: ", "provider: "), "provider_id: Field required"),
    ],
)
def test_a_bad_config_exits_2_naming_the_file_and_the_field(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    config = tmp_path / "fleet.yaml"
    config.write_text(CONFIG.replace(*change))
    code, stderr = run(config)
    assert code == 2
    assert stderr.startswith(f"error: {config}: {message}"), stderr


def test_a_bad_broker_url_or_a_missing_file_exits_2(tmp_path: Path) -> None:
    assert run(tmp_path / "absent.yaml")[0] == 2
    config = tmp_path / "fleet.yaml"
    config.write_text(CONFIG)
    result = CliRunner().invoke(app, ["fleet", str(config), "--broker", "http://broker"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --broker: ")
