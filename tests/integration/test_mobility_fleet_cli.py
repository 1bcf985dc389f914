"""``hinode mobility fleet`` as an operator runs it: a scooter reports through a real Mosquitto,
GBFS shows it, an unlock and a lock make a trip in MDS (for the agency's token) and a new public
vehicle id in GBFS; SIGTERM ends the service cleanly. Restarted on the collector's store and the
same id secret file, it still serves the trips of earlier hours and the same public ids."""

import hashlib
import json
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cloud import open_timeseries
from messages import Fix, PositionPayload, VehicleState, encode
from messages import topics as t
from tests.support.cloud_messages import Publisher
from tests.support.mosquitto import Mosquitto
from tests.support.ports import free_port
from tests.support.scooter_fleet import (
    CONFIG,
    DEVICE,
    GATEWAY,
    OFFICE,
    SITE,
    STATION,
    stored_position,
)

pytestmark = pytest.mark.integration

HINODE = str(Path(sys.executable).parent / "hinode")


def get(url: str, token: str | None = None) -> tuple[int, Any]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def vehicles(url: str) -> list[dict[str, Any]]:
    try:
        status, document = get(f"{url}/gbfs/vehicle_status.json")
    except OSError:
        return []
    return list(document["data"]["vehicles"]) if status == 200 else []


def feeds_up(url: str) -> bool:
    try:
        return get(f"{url}/gbfs/gbfs.json")[0] == 200
    except OSError:
        return False


def wait_for(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"no {what} within {timeout_s} s")


def position(
    seq: int, at: datetime, where: tuple[float, float], *, locked: bool, battery_pct: float
) -> tuple[str, bytes]:
    """The depot gateway's report of scooter-1: one fix and the scooter's own state."""
    at_ms = int(at.timestamp() * 1000)
    payload = PositionPayload(
        gateway=GATEWAY,
        boot_id="0123456789abcdef",
        seq=seq,
        sent_at=at_ms,
        vehicle="scooter-1",
        fixes=[Fix(ts=at_ms, lat=where[0], lon=where[1], speed_mps=3.0, fix_quality="gps")],
        state=VehicleState(kind="scooter", battery_pct=battery_pct, locked=locked),
    )
    return t.position_topic(SITE, GATEWAY, "scooter-1"), encode(payload)


def test_a_scooter_reporting_through_the_broker_shows_in_gbfs_and_its_trip_in_mds(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    config = tmp_path / "fleet.yaml"
    config.write_text(CONFIG)
    token = secrets.token_urlsafe(32)
    tokens = tmp_path / "mds-tokens"
    tokens.write_text(f"city-transport:sha256:{hashlib.sha256(token.encode()).hexdigest()}\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [HINODE, "mobility", "fleet", str(config), "--broker", mosquitto.url,
         "--http-port", str(port), "--token-file", str(tokens)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    # The reports are an hour old (a gateway's backlog): MDS serves trips of hours that ended.
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    start = hour + timedelta(minutes=10)
    try:
        with Publisher(mosquitto.url, client_id="gw-depot") as gateway:
            # The service's session may not be subscribed yet: report until GBFS shows it.
            seq = 1
            wait_for(lambda: feeds_up(url) or process.poll() is not None, 30, "feeds")
            deadline = time.monotonic() + 10
            while not vehicles(url):
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the scooter never showed in GBFS"
                parked_at = start + timedelta(seconds=seq)  # each report a fix of its own
                gateway.publish(
                    *position(seq, parked_at, STATION, locked=True, battery_pct=90), wait=True
                )
                seq += 1
                time.sleep(0.2)
            (parked,) = vehicles(url)
            assert (parked["lat"], parked["lon"]) == STATION
            assert parked["current_fuel_percent"] == 0.9
            ride = [
                (start + timedelta(minutes=1), STATION, False),
                (start + timedelta(minutes=3), (36.5900, 136.6320), False),
                (start + timedelta(minutes=6), OFFICE, True),
            ]
            for at, where, locked in ride:
                seq += 1
                gateway.publish(*position(seq, at, where, locked=locked, battery_pct=84))
            # QoS 1 may bring the unlock again, after the lock: it changes nothing.
            gateway.publish(*position(seq + 1, ride[0][0], STATION, locked=False, battery_pct=84))
            gateway.flush()
        wait_for(
            lambda: [(v["lat"], v["lon"]) for v in vehicles(url)] == [OFFICE],
            10,
            "the scooter parked at the office",
        )
        (moved,) = vehicles(url)
        assert moved["vehicle_id"] != parked["vehicle_id"]  # a new public id after each trip
        assert moved["current_fuel_percent"] == 0.84
        trips_url = f"{url}/mds/trips?end_time={hour:%Y-%m-%dT%H}"
        assert get(trips_url)[0] == 401
        status, document = get(trips_url, token=token)
        assert status == 200, document
        (trip,) = document["trips"]
        assert trip["device_id"] == DEVICE
        assert trip["end_time"] == int(ride[-1][0].timestamp() * 1000)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "1 scooters in the fleet, 1 trips" in out
    assert "(1 stale ignored)" in out


def start_fleet(config: Path, broker: str, port: int, *more: str) -> "subprocess.Popen[str]":
    process = subprocess.Popen(
        [HINODE, "mobility", "fleet", str(config), "--broker", broker,
         "--http-port", str(port), *more],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: feeds_up(url) or process.poll() is not None, 30, "feeds")
    assert process.poll() is None, process.communicate()
    return process


def stop_fleet(process: "subprocess.Popen[str]") -> str:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    return out


def test_a_restarted_fleet_replays_the_stored_trip_and_keeps_its_public_vehicle_id(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    config = tmp_path / "fleet.yaml"
    config.write_text(CONFIG)
    token = secrets.token_urlsafe(32)
    tokens = tmp_path / "mds-tokens"
    tokens.write_text(f"city-transport:sha256:{hashlib.sha256(token.encode()).hexdigest()}\n")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    start = hour + timedelta(minutes=10)
    ended = start + timedelta(minutes=6)
    # The trip of an hour ago is only in the collector's store: this service never saw it.
    store = open_timeseries(data_dir)
    try:
        store.write(
            [
                *stored_position(start, STATION, locked=True, soc_pct=90.0),
                *stored_position(start + timedelta(minutes=1), STATION, locked=False),
                *stored_position(start + timedelta(minutes=3), (36.5900, 136.6320)),
                *stored_position(ended, OFFICE, locked=True, soc_pct=84.0),
            ]
        )
    finally:
        store.close()
    options = ("--data-dir", str(data_dir), "--token-file", str(tokens))
    options += ("--id-secret-file", str(tmp_path / "gbfs-id-secret"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    trips_url = f"{url}/mds/trips?end_time={hour:%Y-%m-%dT%H}"
    processes: list[subprocess.Popen[str]] = []
    try:
        processes.append(start_fleet(config, mosquitto.url, port, *options))
        status, document = get(trips_url, token=token)
        assert status == 200, document
        (trip,) = document["trips"]
        assert trip["device_id"] == DEVICE
        assert trip["end_time"] == int(ended.timestamp() * 1000)
        (first,) = vehicles(url)
        assert (first["lat"], first["lon"]) == OFFICE
        assert first["current_fuel_percent"] == 0.84
        with Publisher(mosquitto.url, client_id="gw-depot") as gateway:

            def report(seq: int, at: datetime, where: tuple[float, float], locked: bool) -> None:
                """The gateway's report, stored by the collector as it passes the broker."""
                gateway.publish(*position(seq, at, where, locked=locked, battery_pct=83), wait=True)
                store = open_timeseries(data_dir)
                try:
                    store.write(stored_position(at, where, locked=locked, soc_pct=83.0))
                finally:
                    store.close()

            # Unlock until the service's session is subscribed: the scooter leaves GBFS on a
            # trip (and from then on the broker keeps its reports for the session).
            seq, deadline = 1, time.monotonic() + 10
            while vehicles(url):
                assert time.monotonic() < deadline, "the live unlock never reached the service"
                report(seq, ended + timedelta(minutes=1, seconds=seq), OFFICE, locked=False)
                seq += 1
                time.sleep(0.2)
            ride_end = ended + timedelta(minutes=3)
            report(seq, ride_end, STATION, locked=True)
            wait_for(
                lambda: [(v["lat"], v["lon"]) for v in vehicles(url)] == [STATION],
                10,
                "the scooter parked at the station",
            )
            (parked,) = vehicles(url)
            assert parked["vehicle_id"] != first["vehicle_id"]
            stop_fleet(processes.pop())
            # While the service is away, a report the broker keeps for it and the store has.
            away = ride_end + timedelta(minutes=5)
            report(seq + 1, away, STATION, locked=True)
            processes.append(start_fleet(config, mosquitto.url, port, *options))
            # Replayed before the feeds open: both trips, and the same public id.
            (again,) = vehicles(url)
            assert (again["lat"], again["lon"]) == STATION
            assert again["vehicle_id"] == parked["vehicle_id"]
            status, document = get(trips_url, token=token)
            assert status == 200, document
            assert len(document["trips"]) == 2
            assert trip["trip_id"] in [replayed["trip_id"] for replayed in document["trips"]]
            # The next report, an unlock: once it shows, the kept one has come before it.
            report(seq + 2, away + timedelta(minutes=1), STATION, locked=False)
            wait_for(lambda: not vehicles(url), 10, "the unlock after the restart")
        out = stop_fleet(processes.pop())
    finally:
        for process in processes:
            process.kill()
            process.communicate()
    # The report the broker kept for the session was replayed already: stale, not a new fix.
    assert "1 scooters in the fleet, 2 trips" in out
    assert "(1 stale ignored)" in out
