"""``hinode edge run`` / ``check`` as a technician and systemd use them: bad configs, kill -9."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from messages import Reading
from simulators.modbus import ModbusSimServer, create_device
from tests.integration.test_edge_agent import Subscriber, wait_until
from tests.support.mosquitto import Mosquitto

pytestmark = pytest.mark.integration

HINODE = (
    [sys.executable, "-m", "hinode.cli"] if False else [str(Path(sys.executable).parent / "hinode")]
)


def hinode(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HINODE, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        ("{kind: canbus, id: x, profile: p}", "devices[0].kind: unknown kind 'canbus'"),
        ("{kind: modbus_tcp, id: x, profile: p}", "devices[0].host: missing required field"),
        ("{kind: modbus_tcp, id: x, profile: p, host: h, unit: one}", "devices[0].unit:"),
        (
            "{kind: modbus_tcp, id: x, profile: nonexistent, host: h}",
            "devices[0].profile: no profile named 'nonexistent'",
        ),
    ],
)
@pytest.mark.parametrize("command", ["run", "check"])
def test_bad_config_is_one_line_and_exit_2(
    tmp_path: Path, command: str, device: str, expected: str
) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text(
        "site: s\ngateway: g\nbroker: {url: 'mqtt://127.0.0.1:1'}\n"
        f"outbox: {{path: {tmp_path}/o.sqlite}}\ndevices:\n  - {device}\n"
    )
    result = hinode("edge", command, str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {path}: {expected}" or (
        result.stderr.startswith(f"error: {path}: {expected}")
    )
    assert result.stderr.count("\n") == 1


def config_text(tmp_path: Path, broker: Mosquitto, port: int) -> str:
    return f"""
site: lab
gateway: gw-1
broker: {{url: "{broker.url}", reconnect_min_s: 0.2, reconnect_max_s: 1}}
outbox: {{path: "{tmp_path}/outbox.sqlite"}}
batching: {{max_age_s: 0.3, max_readings: 200}}
devices:
  - {{kind: modbus_tcp, id: meter-1, profile: sdm630, host: 127.0.0.1, port: {port}, unit: 1,
     poll_interval_s: 0.05}}
  - {{kind: modbus_tcp, id: meter-2, profile: sdm120, host: 127.0.0.1, port: {port}, unit: 2,
     poll_interval_s: 0.05}}
  - {{kind: modbus_tcp, id: gone, profile: sdm120, host: 127.0.0.1, port: {port}, unit: 9}}
"""


async def test_check_prints_a_line_per_device(mosquitto: Mosquitto, tmp_path: Path) -> None:
    devices = {1: create_device("sdm630", now=time.time), 2: create_device("sdm120", now=time.time)}
    async with ModbusSimServer(devices, now=time.time) as server:
        path = tmp_path / "gw.yaml"
        path.write_text(config_text(tmp_path, mosquitto, server.port))
        process = await asyncio.create_subprocess_exec(
            *HINODE,
            "edge",
            "check",
            str(path),
            "--timeout",
            "3",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(process.communicate(), 30)
    lines = out.decode().splitlines()
    assert process.returncode == 1
    assert lines[0].startswith("ok    broker")
    assert lines[1].startswith("ok    meter-1")
    assert "active_power_w=" in lines[1]
    assert lines[2].startswith("ok    meter-2")
    assert lines[3].startswith("FAIL  gone")


async def test_kill_9_mid_publish_loses_nothing_and_seq_keeps_rising(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    subscriber = Subscriber(mosquitto.port)
    devices = {1: create_device("sdm630", now=time.time), 2: create_device("sdm120", now=time.time)}
    async with ModbusSimServer(devices, now=time.time) as server:
        path = tmp_path / "gw.yaml"
        path.write_text(config_text(tmp_path, mosquitto, server.port))

        async def start() -> asyncio.subprocess.Process:
            return await asyncio.create_subprocess_exec(
                *HINODE,
                "edge",
                "run",
                str(path),
                "--log-json",
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )

        first = await start()
        await wait_until(lambda: len(subscriber.of_kind("telemetry")) >= 5, 30, "telemetry")
        await asyncio.sleep(1)  # mid-publish: polling, sealing and publishing all under way
        os.kill(first.pid, signal.SIGKILL)
        await first.wait()
        second = await start()
        await wait_until(
            lambda: len({m["boot_id"] for m in subscriber.data()}) == 2,
            30,
            "the second agent's messages",
        )
        await asyncio.sleep(2)
        second.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        await asyncio.wait_for(second.wait(), 10)
        assert time.monotonic() - stopped_at < 5
        assert second.returncode == 0
        await asyncio.sleep(0.5)
    subscriber.close()

    data = subscriber.data()
    boots = list(dict.fromkeys(m["boot_id"] for m in data))
    assert len(boots) == 2
    first_seqs = {m["seq"] for m in data if m["boot_id"] == boots[0]}
    second_seqs = {m["seq"] for m in data if m["boot_id"] == boots[1]}
    # A message keeps the boot_id it was sealed under, even when the next boot sends it.
    assert min(second_seqs) > max(first_seqs)
    # Every seq ever assigned arrived; what the first agent had not yet sent went out after
    # the restart (sealed from its staged readings or replayed from the outbox).
    last = max(first_seqs | second_seqs)
    assert first_seqs | second_seqs == set(range(last + 1))
    readings = [
        (m["device"], Reading.model_validate(r).ts, r["quantity"], r["phase"])
        for m in {(m["boot_id"], m["seq"]): m for m in subscriber.of_kind("telemetry")}.values()
        for r in m["readings"]
    ]
    assert len(readings) == len(set(readings)), "a reading was stored twice"
    assert {device for device, *_ in readings} == {"meter-1", "meter-2"}
    offline = [
        e
        for m in subscriber.of_kind("events")
        for e in m["events"]
        if e["kind"] == "device_offline"
    ]
    assert {e["device"] for e in offline} == {"gone"}
    assert all(e["reason"] for e in offline)
