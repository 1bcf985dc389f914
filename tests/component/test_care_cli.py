"""``hinode care`` against real neighbours: SQLite stores, a webhook receiver, a served API."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx2
import pytest
from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

from cloud import StoredReading, open_timeseries
from hinode.commands.care import app
from tests.support.ports import free_port, wait_port

runner = CliRunner()
SUBJECT = "s-0a1b2c3d4e5f60718293"


def care(data_dir: Path, *args: str) -> Any:
    return runner.invoke(app, [*args, "--data-dir", str(data_dir)])


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory with today's readings of one pseudonymous subject."""
    now = int(time.time() * 1000)
    store = open_timeseries(tmp_path)
    store.write(
        [
            StoredReading(
                "home-1", "gw-1", SUBJECT, "spo2_pct", None, now - 60_000, 86.0, 1, "vitals"
            ),
            StoredReading(
                "home-1", "gw-1", SUBJECT, "body_temp_c", None, now - 60_000, 36.6, 1, "vitals"
            ),
        ]
    )
    store.close()
    return tmp_path


def register(data_dir: Path, actor: str = "dr-sato", role: str = "doctor") -> tuple[str, str]:
    """Person, actor, relationship and consent through the CLI: (token, consent id)."""
    if care(data_dir, "person", "add", "p-0001", "--pseudonym", SUBJECT).exit_code != 0:
        pass  # already registered by an earlier call
    added = care(data_dir, "actor", "add", actor, "--role", role)
    assert added.exit_code == 0, added.output
    token = added.stdout.strip()
    assert token.startswith("hct_")
    related = care(data_dir, "relate", "--person", "p-0001", "--actor", actor)
    assert related.exit_code == 0, related.output
    granted = care(
        data_dir, "consent", "grant", "--person", "p-0001", "--actor", actor, "--kinds", "spo2"
    )
    assert granted.exit_code == 0, granted.output
    return token, granted.stdout.strip()


def test_export_fhir_follows_consent_and_is_audited(data_dir: Path) -> None:
    token, consent_id = register(data_dir)
    exported = care(data_dir, "export-fhir", "--subject", "Patient/p-0001", "--token", token)
    assert exported.exit_code == 0, exported.output
    bundle = Bundle.model_validate(json.loads(exported.stdout))
    # Consent covers SpO2 only: the temperature reading stays out.
    assert [e.resource.code.coding[0].code for e in bundle.entry] == ["2708-6"]
    assert care(data_dir, "consent", "revoke", consent_id).exit_code == 0
    refused = care(data_dir, "export-fhir", "--subject", SUBJECT, "--token", token)
    assert refused.exit_code == 1
    assert refused.stderr.strip() == "error: refused: not permitted"
    audit = care(data_dir, "audit")
    entries = [json.loads(line) for line in audit.stdout.splitlines()]
    assert [(e["actor"], e["view"], e["granted"]) for e in entries] == [
        ("dr-sato", "fhir", True),
        ("dr-sato", "fhir", False),
    ]
    assert entries[1]["reason"] == "consent for spo2 revoked; no consent for the other kinds"
    listed = care(data_dir, "consent", "list", "--person", "p-0001")
    assert json.loads(listed.stdout)["state"] == "revoked"


def test_the_token_is_printed_once_and_only_its_digest_is_stored(data_dir: Path) -> None:
    token, _ = register(data_dir)
    assert token.encode() not in (data_dir / "state.sqlite").read_bytes()
    wal = data_dir / "state.sqlite-wal"
    assert not wal.exists() or token.encode() not in wal.read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["actor", "add", "x-1", "--role", "neighbour"], "unknown role 'neighbour'"),
        (["person", "add", "Taro Yamada"], "person 'Taro Yamada' is not a valid id"),
        (
            ["consent", "grant", "--person", "p-9", "--actor", "a", "--kinds", "mood"],
            "unknown measurement kind 'mood'",
        ),
        (
            ["consent", "grant", "--person", "p-9", "--actor", "a", "--kinds", "spo2"],
            "actor 'a' is not registered",
        ),
        (["consent", "revoke", "99"], "no consent 99"),
        (
            ["relate", "--person", "p-9", "--actor", "a", "--from", "tomorrow"],
            "'tomorrow' is not an ISO 8601 date",
        ),
        (["export-fhir", "--subject", "p-1"], "refused: no bearer token"),
        (["alerts", "check", "--webhook", "ftp://x"], "webhook URL must be http:// or https://"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(data_dir: Path, args: list[str], message: str) -> None:
    result = care(data_dir, *args)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Receiver.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/notify"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def test_alert_check_stores_and_publishes_notifications_once(data_dir: Path, webhook: str) -> None:
    register(data_dir, "family-kenji", "family")
    # The shipped table's missing-reading rule depends on the hour the test runs: leave it out.
    table = data_dir / "thresholds.yaml"
    table.write_text(
        "rules:\n  - {id: spo2_low, quantity: spo2_pct, op: lt, threshold: 90, severity: high,"
        " source: WHO Pulse Oximetry Training Manual 2011}\nno_reading_by_hour: 24\n",
        encoding="utf-8",
    )
    check = ("alerts", "check", "--webhook", webhook, "--thresholds", str(table))
    first = care(data_dir, *check)
    assert first.exit_code == 0, first.output
    assert "1 notifications, 1 published" in first.stdout
    (body,) = _Receiver.received
    assert body["actor"] == "family-kenji"
    assert (body["alert"]["rule"], body["alert"]["value"]) == ("spo2_low", 86.0)
    again = care(data_dir, *check)
    assert "0 new alerts" in again.stdout
    assert len(_Receiver.received) == 1


def test_serve_answers_over_http_until_interrupted(data_dir: Path) -> None:
    token, _ = register(data_dir)
    port = free_port()
    code = "from hinode.commands.care import app; app()"
    args = ["serve", "--data-dir", str(data_dir), "--port", str(port), "--alert-interval", "0"]
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ | {"PYTHONWARNINGS": "error"},
    )
    try:
        wait_port(port, timeout=20)
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            auth = {"Authorization": f"Bearer {token}"}
            detail = client.get(
                f"/v1/subjects/{SUBJECT}/detail", params={"days": "2"}, headers=auth
            )
            fhir = client.get("/fhir/Observation", params={"subject": "p-0001"}, headers=auth)
            anonymous = client.get(f"/v1/subjects/{SUBJECT}/detail")
            # Concurrent requests, granted and refused: each still leaves exactly one entry.
            paths = [f"/v1/subjects/{SUBJECT}/{view}" for view in ("detail", "summary")] * 10
            with ThreadPoolExecutor(max_workers=8) as pool:
                statuses = sorted(
                    pool.map(lambda path: client.get(path, headers=auth).status_code, paths)
                )
        assert detail.status_code == 200
        assert [r["quantity"] for r in detail.json()["readings"]] == ["spo2_pct"]
        assert fhir.json()["total"] == 1
        assert anonymous.status_code == 401
        assert statuses == [200] * 20  # a doctor may see the summary too
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert token not in stderr.decode()
    entries = care(data_dir, "audit").stdout.splitlines()
    assert len(entries) == 3 + 20
