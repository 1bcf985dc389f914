"""``hinode mobility run`` as an operator runs it: a real Mosquitto, a ride booked over real HTTP,
its route command on the broker, SIGTERM, and the report written on the way out; started again
on the same data directory, the service still knows the ride it promised."""

import hashlib
import json
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.mosquitto import Mosquitto
from tests.support.ports import free_port
from tests.support.recorder import Recorder
from tests.support.shuttle_service import BUS_STOP, DEPOT, ESTATE

pytestmark = pytest.mark.integration

HINODE = str(Path(sys.executable).parent / "hinode")


def call(
    method: str, url: str, body: dict[str, Any] | None = None, token: str | None = None
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"no {what} within {timeout_s} s")


def healthy(url: str) -> bool:
    try:
        return call("GET", f"{url}/health")[0] == 200
    except OSError:
        return False


def test_a_ride_booked_over_http_goes_out_as_a_route_and_sigterm_writes_the_report(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    config = shuttles_yaml(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    commands = Recorder(mosquitto.port, client_id="route-commands")
    data_dir = tmp_path / "data"
    # The call centre's token: only its digest is on the server.
    token = secrets.token_urlsafe(32)
    tokens = tmp_path / "booking-tokens"
    tokens.write_text(f"call-centre:sha256:{hashlib.sha256(token.encode()).hexdigest()}\n")
    process = start(config, data_dir, mosquitto.url, port, "--token-file", str(tokens))
    try:
        now = datetime.now(UTC).timestamp()
        ride_body = {
            "id": "mrs-sato",
            "pickup": list(ESTATE),
            "dropoff": list(BUS_STOP),
            "earliest_pickup": datetime.fromtimestamp(now + 120, UTC).isoformat(),
            "latest_dropoff": datetime.fromtimestamp(now + 3600, UTC).isoformat(),
        }
        assert call("POST", f"{url}/rides", ride_body)[0] == 401
        assert call("POST", f"{url}/rides", ride_body, token="guessed")[0] == 401
        status, booked = call("POST", f"{url}/rides", ride_body, token=token)
        assert status == 201, booked
        assert booked["shuttle"] == "shuttle-1"
        status, ride = call("GET", f"{url}/rides/mrs-sato", token=token)
        assert (status, ride["state"]) == (200, "scheduled")
        wait_for(lambda: bool(commands.topics("cmd")), 10, "route command on the broker")
        assert commands.topics("cmd") == ["hinode/v1/midorigaoka/gw-depot/cmd/shuttle-1"]
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        commands.close()
    assert process.returncode == 0, err
    assert "0 rides completed, 0 refused, 0 cancelled, 1 route commands sent" in out
    report = json.loads((data_dir / "mobility-report.json").read_text())
    assert [ride["request"] for ride in report["rides"]] == ["mrs-sato"]
    assert report["cancelled"] == 0
    events = [
        json.loads(line)["event"]
        for line in (data_dir / "mobility-service.jsonl").read_text().splitlines()
    ]
    assert events[:2] == ["assigned", "route_sent"]


def shuttles_yaml(directory: Path) -> Path:
    """The site's config: one shuttle at the depot."""
    config = directory / "shuttles.yaml"
    config.write_text(
        "site: midorigaoka\n"
        "shuttles:\n"
        f"  - {{id: shuttle-1, gateway: gw-depot, position: {list(DEPOT)}, capacity: 4}}\n"
    )
    return config


def start(
    config: Path, data_dir: Path, broker: str, port: int, *more: str
) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [HINODE, "mobility", "run", str(config), "--broker", broker,
         "--data-dir", str(data_dir), "--http-port", str(port), *more],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: healthy(url) or process.poll() is not None, 20, "booking API")
    except AssertionError:
        process.kill()
        process.communicate()
        raise
    assert process.poll() is None, process.communicate()
    return process


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    return out, err


def test_a_restarted_service_keeps_the_rides_it_promised(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    config = shuttles_yaml(tmp_path)
    data_dir = tmp_path / "data"
    commands = Recorder(mosquitto.port, client_id="route-commands")
    processes: list[subprocess.Popen[str]] = []
    try:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        processes.append(start(config, data_dir, mosquitto.url, port))
        now = datetime.now(UTC).timestamp()
        status, booked = call("POST", f"{url}/rides", {**ride_booking(now), "id": "mrs-sato"})
        assert status == 201, booked
        wait_for(lambda: len(commands.topics("cmd")) == 1, 10, "route command on the broker")
        stop(processes[0])
        assert (data_dir / "mobility-state.json").exists()

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        processes.append(start(config, data_dir, mosquitto.url, port))
        status, ride = call("GET", f"{url}/rides/mrs-sato")
        assert status == 200, ride
        assert (ride["state"], ride["shuttle"]) == ("scheduled", "shuttle-1")
        assert (ride["promised_pickup"], ride["promised_dropoff"]) == (
            booked["pickup_eta"],
            booked["dropoff_eta"],
        )
        # The shuttle gets its route again, in case it lost it while the service was down.
        wait_for(lambda: len(commands.topics("cmd")) == 2, 10, "route sent again")
        # Booked already: the restarted service knows the id.
        status, again = call("POST", f"{url}/rides", {**ride_booking(now), "id": "mrs-sato"})
        assert (status, again["reason"]) == (409, "a ride with this id was booked already")
        out, err = stop(processes[1])
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
        commands.close()
    assert "restored 1 rides (1 not yet dropped off), 1 shuttles from" in err
    assert "1 route commands sent (1 resent)" in out
    report = json.loads((data_dir / "mobility-report.json").read_text())
    assert [ride["request"] for ride in report["rides"]] == ["mrs-sato"]
    events = [
        json.loads(line) for line in (data_dir / "mobility-service.jsonl").read_text().splitlines()
    ]
    assert [entry["event"] for entry in events] == ["assigned", "route_sent", "route_resent"]
    assert events[-1]["because"] == "service restarted"


def ride_booking(now: float) -> dict[str, Any]:
    return {
        "pickup": list(ESTATE),
        "dropoff": list(BUS_STOP),
        "earliest_pickup": datetime.fromtimestamp(now + 120, UTC).isoformat(),
        "latest_dropoff": datetime.fromtimestamp(now + 3600, UTC).isoformat(),
    }
