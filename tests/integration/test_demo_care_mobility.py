"""The demo's care homes and vehicles, end to end, through the real ``hinode demo`` command.

Simulated BLE devices → edge agent (bleak over bumble) → MQTT → collector → store, read back as
vitals of pseudonymous subjects with alerts; simulated GNSS receivers on ptys → edge agent →
MQTT → collector → store, and to the shuttle service, which sends each shuttle its route as a
route command that the depot gateway hands to the shuttle's own controller; the scooter feed
answers while the demo runs, with a ``gbfs.json`` valid against the official GBFS 3.0 schema.
"""

import json
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

HINODE = [sys.executable, "-m", "hinode"]
DURATION_S = 25
CARE_SITES = ("home-care-01", "home-care-02")
SHUTTLES = ("shuttle-1", "shuttle-2")
HTTP_TIMEOUT_S = 5.0


class Demo:
    """``hinode demo`` in a subprocess, its log lines read as they come."""

    def __init__(self, data_dir: Path) -> None:
        self.report_path = data_dir / "report.json"
        self.process = subprocess.Popen(
            [
                *HINODE,
                "demo",
                "--duration",
                str(DURATION_S),
                "--headless",
                "--speed",
                "60",
                "--data-dir",
                str(data_dir),
                "--report",
                str(self.report_path),
                "--log-level",
                "info",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log: list[str] = []
        self.feeds_announced = threading.Event()
        self.feeds: dict[str, str] = {}
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            if '"mobility feeds"' in line:
                entry = json.loads(line)
                self.feeds = {k: v for k, v in entry.items() if k in ("gbfs", "mds")}
                self.feeds_announced.set()

    def finish(self) -> dict[str, Any]:
        try:
            self.process.wait(timeout=DURATION_S + 60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self._reader.join(timeout=5)
        if self.process.stderr is not None:
            self.process.stderr.close()
        assert self.process.returncode == 0, "".join(self.log)[-3000:]
        report: dict[str, Any] = json.loads(self.report_path.read_text())
        return report


def fetch(url: str, token: str | None = None) -> Any:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
        assert response.status == 200
        return json.loads(response.read())


def gbfs_schema(name: str) -> dict[str, Any]:
    folder = resources.files("gbfs_validator").joinpath("data/schemas/v3.0")
    schema: dict[str, Any] = json.loads(folder.joinpath(f"{name}.json").read_text())
    return schema


def check(schema: dict[str, Any], document: Any) -> None:
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def export(data_dir: Path, *args: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [*HINODE, "cloud", "export", "--data-dir", str(data_dir), "--format", "jsonl", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.mark.integration
def test_care_homes_and_vehicles_flow_through_the_edge_into_the_store(tmp_path: Path) -> None:
    demo = Demo(tmp_path)
    try:
        assert demo.feeds_announced.wait(timeout=30), "".join(demo.log)[-3000:]
        discovery = fetch(demo.feeds["gbfs"])
        vehicles = fetch(demo.feeds["gbfs"].replace("gbfs.json", "vehicle_status.json"))
        # MDS only for the agency's bearer token, written owner-only beside the stores.
        token_file = tmp_path / "mds-token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        with pytest.raises(urllib.error.HTTPError) as refused:
            fetch(demo.feeds["mds"])
        mds = fetch(demo.feeds["mds"], token=token_file.read_text().strip())
    finally:
        report = demo.finish()

    # The feed answered while the demo ran, with documents valid against GBFS 3.0.
    check(gbfs_schema("gbfs"), discovery)
    check(gbfs_schema("vehicle_status"), vehicles)
    assert len(vehicles["data"]["vehicles"]) == 3
    assert refused.value.code == 401
    assert len(mds["vehicles"]) == 3
    assert report["mobility"]["mds_token_file"] == str(tmp_path / "mds-token")
    assert report["mobility"]["feed_urls"] == demo.feeds
    assert report["lost_readings"] == 0

    # Vitals of both homes, stored under pseudonyms (the report's subjects), never names.
    care = {home["site"]: home for home in report["care"]["homes"]}
    assert set(care) == set(CARE_SITES)
    for quantity in ("spo2_pct", "systolic_mmhg", "body_temp_c"):
        rows = export(tmp_path, "--quantity", quantity)
        for site in CARE_SITES:
            subjects = {row["device"] for row in rows if row["site"] == site}
            assert subjects, f"no {quantity} stored for {site}"
            assert subjects <= set(care[site]["subjects"])
            assert all(re.fullmatch(r"s-[0-9a-f]{20}", subject) for subject in subjects)
    alerts = [alert for home in care.values() for alert in home["alerts"]]
    assert any(alert["rule"] == "spo2_low" and alert["value"] < 90 for alert in alerts)

    # Positions of both shuttles, through the depot gateway's GNSS path.
    latitudes = export(tmp_path, "--quantity", "lat_deg")
    for shuttle in SHUTTLES:
        fixes = [r for r in latitudes if r["device"] == shuttle and r["site"] == "midorigaoka"]
        assert len(fixes) >= 5, f"{shuttle}: {len(fixes)} fixes stored"
        assert report["mobility"]["shuttles"][shuttle]["last_position"] is not None

    # Rides were dispatched and the shuttles are on them: one finished, or one under way with
    # an ETA for the stop ahead.
    mobility = report["mobility"]
    assert mobility["served"] >= 1
    # The routes went out as route commands over the broker, the depot gateway answered them
    # and handed them to the shuttles, and the service followed the shuttles' positions to
    # the riders it picked up.
    commands = mobility["route_commands"]
    assert commands["sent"] >= 1
    assert commands["acknowledged"] >= 1
    assert commands["taken_by_shuttles"] >= 1
    assert mobility["positions_received"] > 0
    assert mobility["picked_up"] >= 1
    under_way = [
        entry
        for entry in mobility["shuttles"].values()
        if entry["stops_ahead"] > 0 and entry["next_eta"] is not None
    ]
    assert mobility["completed"] >= 1 or (mobility["picked_up"] >= 1 and under_way)
