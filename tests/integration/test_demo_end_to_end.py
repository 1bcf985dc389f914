"""The walking skeleton, end to end: simulated meter → edge agent → MQTT → collector → SQLite.

Runs the real ``hinode`` command in a subprocess, once on the embedded broker (the demo's
default) and once on a real Mosquitto started by the test.
"""

import itertools
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.influxdb import InfluxDB
from tests.support.mosquitto import Mosquitto

HINODE = [sys.executable, "-m", "hinode"]


def run_demo(data_dir: Path, *extra: str, duration: int = 20) -> dict[str, Any]:
    report = data_dir / "report.json"
    result = subprocess.run(
        [
            *HINODE,
            "demo",
            "--duration",
            str(duration),
            "--headless",
            "--data-dir",
            str(data_dir),
            "--report",
            str(report),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded: dict[str, Any] = json.loads(report.read_text())
    return loaded


def export(data_dir: Path, *args: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [*HINODE, "cloud", "export", "--data-dir", str(data_dir), "--format", "jsonl", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def assert_meter_readings_arrived(rows: list[dict[str, Any]], minimum: int) -> None:
    identities = [
        (r["site"], r["gateway"], r["device"], r["quantity"], r["phase"], r["ts"]) for r in rows
    ]
    assert len(identities) == len(set(identities)), "a reading was stored twice"
    by_device: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        if row["quantity"] == "active_power_w" and row["phase"] is None:
            by_device.setdefault((row["gateway"], row["device"]), []).append(row)
    meters = [rows for (_, device), rows in by_device.items() if "meter" in device]
    assert meters, f"no meter power readings among devices {sorted(by_device)}"
    for meter_rows in meters:
        assert len(meter_rows) >= minimum
        seqs = [row["seq"] for row in meter_rows]
        assert all(a < b for a, b in itertools.pairwise(seqs)), "seq not increasing"
        assert [row["ts"] for row in meter_rows] == sorted(row["ts"] for row in meter_rows)


@pytest.mark.integration
def test_demo_on_the_embedded_broker_stores_what_the_meter_measured(tmp_path: Path) -> None:
    report = run_demo(tmp_path, duration=20)
    rows = export(tmp_path, "--quantity", "active_power_w")
    assert_meter_readings_arrived(rows, minimum=15)
    assert report["stored_readings"] >= len(rows)
    assert report["duplicates_dropped"] >= 0
    assert report["lost_readings"] == 0


@pytest.mark.integration
def test_demo_path_on_a_real_mosquitto(tmp_path: Path, mosquitto: Mosquitto) -> None:
    report = run_demo(tmp_path, "--broker", mosquitto.url, duration=12)
    assert report["broker"] == mosquitto.url
    # The shuttle service sent its routes over the same broker, and the depot gateway
    # answered that the shuttles took them.
    route_commands = report["mobility"]["route_commands"]
    assert route_commands["sent"] >= 1
    assert route_commands["acknowledged"] >= 1
    rows = export(tmp_path, "--quantity", "active_power_w")
    assert_meter_readings_arrived(rows, minimum=8)


@pytest.mark.integration
def test_demo_stores_into_influxdb_with_state_on_postgresql(
    tmp_path: Path, influxdb: InfluxDB, postgres_url: str
) -> None:
    report = run_demo(tmp_path, "--store", influxdb.url, "--state", postgres_url, duration=10)
    assert report["lost_readings"] == 0
    assert not (tmp_path / "timeseries.sqlite").exists()
    assert not (tmp_path / "state.sqlite").exists()
    rows = export(tmp_path, "--store", influxdb.url, "--quantity", "active_power_w")
    assert_meter_readings_arrived(rows, minimum=5)
    status = subprocess.run(
        [
            *HINODE,
            "cloud",
            "status",
            "--data-dir",
            str(tmp_path),
            "--state",
            postgres_url,
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    gateways = {gateway["gateway"] for gateway in json.loads(status.stdout)["gateways"]}
    assert {"gw-works-1", "gw-hall-1", "gw-home-0412"} <= gateways


def test_a_bad_store_url_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            *HINODE,
            "demo",
            "--duration",
            "1",
            "--headless",
            "--data-dir",
            str(tmp_path),
            "--store",
            "ftp://nowhere",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.integration
def test_ctrl_c_stops_the_demo_cleanly_and_writes_the_report(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    demo = subprocess.Popen(
        [*HINODE, "demo", "--headless", "--data-dir", str(tmp_path), "--report", str(report)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        # Wait until the collector has stored something, then press Ctrl-C.
        while not rows_stored(tmp_path):
            assert demo.poll() is None, demo.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "nothing was stored"
            time.sleep(0.5)
        demo.send_signal(signal.SIGINT)
        _, stderr = demo.communicate(timeout=30)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, stderr[-3000:]
    written = json.loads(report.read_text())
    assert written["stored_readings"] > 0
    assert written["lost_readings"] == 0


def rows_stored(data_dir: Path) -> bool:
    store = data_dir / "timeseries.sqlite"
    if not store.exists():
        return False
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1) as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            if "readings" not in tables:
                return False
            return connection.execute("SELECT count(*) FROM readings").fetchone()[0] > 0
    except sqlite3.Error:
        return False
