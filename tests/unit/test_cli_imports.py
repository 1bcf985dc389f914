"""What a command pays for at start: the CLI and the mobility commands do not load the stores,
the InfluxDB client or the energy planner (each check in a fresh interpreter)."""

import json
import subprocess
import sys

import pytest

HEAVY = ("sqlalchemy", "influxdb_client", "scipy", "matplotlib", "cloud.energy")


def loaded_after(module: str) -> list[str]:
    code = (
        f"import json, sys; import {module}; "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


@pytest.mark.parametrize("module", ["hinode.cli", "cloud.mobility", "hinode.commands.mobility"])
def test_starting_loads_nothing_heavy(module: str) -> None:
    assert loaded_after(module) == []


def test_the_collector_api_still_loads_its_stores_when_used() -> None:
    assert "sqlalchemy" in loaded_after("cloud; cloud.open_state")
