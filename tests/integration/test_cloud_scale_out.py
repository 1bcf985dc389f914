"""Scale-out and crash safety: collector processes on one shared subscription, one killed -9.

The same ingest runs against SQLite, InfluxDB (time series) and PostgreSQL (state).
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from cloud import ReadingQuery, open_state, open_timeseries
from tests.support.cloud_messages import Publisher, telemetry
from tests.support.influxdb import InfluxDB
from tests.support.mosquitto import Mosquitto

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MESSAGES = 3000
READINGS_PER_MESSAGE = 5


#: ``hinode cloud run`` without the root CLI, whose other commands take seconds to import.
RUN = [sys.executable, "-c", "from hinode.commands.cloud import app; app()", "run"]


class CollectorProcess:
    """``hinode cloud run CONFIG`` in a subprocess, logging JSON to a file."""

    def __init__(self, workdir: Path, name: str, settings: dict[str, Any]) -> None:
        self.name = name
        self.config = workdir / f"{name}.yaml"
        self.config.write_text(json.dumps({"client_id": name, **settings}))
        self.log = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._offset = 0

    def launch(self) -> None:
        self._offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([*RUN, str(self.config)], stdout=log, stderr=log)

    def wait_subscribed(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 30
        while not any(e.get("event") == "subscribed" for e in self.events(self._offset)):
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"{self.name} did not subscribe"
            time.sleep(0.05)

    def events(self, offset: int = 0) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        with self.log.open("rb") as log:
            log.seek(offset)
            lines = log.read().decode(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> dict[str, Any]:
        """SIGTERM; return the stats the collector logged on its way out."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=30) == 0, self.log.read_text()[-3000:]
        stopped = [e for e in self.events() if e.get("event") == "collector stopped"]
        return stopped[-1]


def publish(url: str, count: int, rate: float, started: threading.Event) -> None:
    with Publisher(url, client_id="gateway-sim") as publisher:
        started.set()
        begin = time.monotonic()
        for seq in range(1, count + 1):
            publisher.publish(*telemetry(seq))
            lag = seq / rate - (time.monotonic() - begin)
            if lag > 0:
                time.sleep(lag)


@pytest.mark.parametrize("backend", ["sqlite", "influxdb", "postgresql-state"])
def test_two_collectors_split_the_load_and_a_kill_9_loses_and_duplicates_nothing(
    backend: str, mosquitto: Mosquitto, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings: dict[str, Any] = {
        "broker": mosquitto.url,
        "data_dir": str(tmp_path / "data"),
        "batch_max": 400,
        "batch_age_s": 0.5,  # long enough that a kill lands in the middle of a batch
        "log_level": "info",
    }
    if backend == "influxdb":
        influxdb: InfluxDB = request.getfixturevalue("influxdb")
        settings["store"] = influxdb.url
    if backend == "postgresql-state":
        settings["state"] = request.getfixturevalue("postgres_url")
    first = CollectorProcess(tmp_path, "collector-a", settings)
    second = CollectorProcess(tmp_path, "collector-b", settings)
    first.launch()
    second.launch()
    first.wait_subscribed()
    second.wait_subscribed()

    started = threading.Event()
    publisher = threading.Thread(
        target=publish, args=(mosquitto.url, MESSAGES, 1500.0, started), daemon=True
    )
    publisher.start()
    started.wait(10)
    time.sleep(0.8)  # ≈ a third of the messages are out, batches are filling
    first.kill()
    publisher.join(timeout=60)
    assert not publisher.is_alive()
    first.launch()  # same client id: its session, and what it held unacknowledged, come back

    timeseries = open_timeseries(settings.get("store") or settings["data_dir"])
    expected = MESSAGES * READINGS_PER_MESSAGE
    deadline = time.monotonic() + 60
    while (count := sum(1 for _ in timeseries.query(ReadingQuery()))) < expected:
        assert time.monotonic() < deadline, f"only {count} of {expected} readings stored"
        time.sleep(0.5)
    stats_first, stats_second = first.stop(), second.stop()

    rows = list(timeseries.query(ReadingQuery()))
    timeseries.close()
    identities = [(r.device, r.quantity, r.phase, r.ts) for r in rows]
    assert len(identities) == len(set(identities)) == expected
    assert sorted({r.seq for r in rows}) == list(range(1, MESSAGES + 1))
    # Each collector took a part of the stream, neither took all of it.
    assert 0 < stats_second["received"] < MESSAGES
    assert stats_first["received"] > 0
    state_store = open_state(settings.get("state") or settings["data_dir"])
    assert state_store.gaps() == []
    state_store.close()
