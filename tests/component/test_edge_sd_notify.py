"""``hinode edge run`` under systemd's watch: a real datagram socket stands in for systemd.

The agent runs without devices against a real Mosquitto; the test reads what systemd would:
READY=1 once the agent runs, WATCHDOG=1 every half watchdog period, STOPPING=1 on SIGTERM.
"""

import asyncio
import itertools
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge import parse_gateway_config
from edge.outbox import SqliteOutbox
from hinode.commands.edge_runtime import _run
from tests.support.mosquitto import Mosquitto

WATCHDOG_USEC = 200_000


@pytest.fixture
def systemd(monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """The notify socket in the abstract namespace, as systemd hands it to a Type=notify unit."""
    name = f"hinode-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
        receiver.bind("\0" + name)
        receiver.settimeout(0)  # non-blocking, for the event loop
        monkeypatch.setenv("NOTIFY_SOCKET", f"@{name}")
        monkeypatch.setenv("WATCHDOG_USEC", str(WATCHDOG_USEC))
        monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
        yield receiver


async def _next_state(receiver: socket.socket, timeout_s: float = 10) -> tuple[str, float]:
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout_s):
        datagram = await loop.sock_recv(receiver, 4096)
    return datagram.decode(), time.monotonic()


async def _until_quiet(receiver: socket.socket, quiet_s: float) -> list[str]:
    """Every state sent until nothing came for *quiet_s*."""
    states = []
    while True:
        try:
            state, _ = await _next_state(receiver, timeout_s=quiet_s)
        except TimeoutError:
            return states
        states.append(state)


async def test_the_agent_tells_systemd_it_is_ready_alive_and_stopping(
    mosquitto: Mosquitto, systemd: socket.socket, tmp_path: Path
) -> None:
    config = parse_gateway_config(
        f"""
site: lab
gateway: gw-1
broker: {{url: "mqtt://127.0.0.1:{mosquitto.port}", reconnect_min_s: 0.2}}
outbox: {{path: "{tmp_path / "outbox.sqlite"}"}}
"""
    )
    agent = asyncio.create_task(_run(config))

    state, _ = await _next_state(systemd)
    assert state == "READY=1"
    pings = [await _next_state(systemd) for _ in range(5)]
    assert {state for state, _ in pings} == {"WATCHDOG=1"}
    gaps = [later - earlier for (_, earlier), (_, later) in itertools.pairwise(pings)]
    half_period_s = WATCHDOG_USEC / 2 / 1_000_000
    assert all(0.5 * half_period_s < gap < 5 * half_period_s for gap in gaps), gaps

    os.kill(os.getpid(), signal.SIGTERM)
    while (state := (await _next_state(systemd))[0]) == "WATCHDOG=1":
        pass
    assert state == "STOPPING=1"
    async with asyncio.timeout(5):
        await agent
    with pytest.raises(BlockingIOError):
        systemd.recv(4096)  # nothing after STOPPING=1: no more pings


async def test_a_stuck_outbox_withholds_the_watchdog_until_it_answers_again(
    mosquitto: Mosquitto,
    systemd: socket.socket,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The outbox's expiry is made to hang (a real SQLite outbox, its one call held back): the
    loop stays free, so only the maintenance check can notice."""
    release = asyncio.Event()
    stuck = asyncio.Event()
    real_expire = SqliteOutbox.expire

    async def expire(self: SqliteOutbox, now_ms: int) -> None:
        if stuck.is_set():
            await release.wait()
        await real_expire(self, now_ms)

    monkeypatch.setattr(SqliteOutbox, "expire", expire)
    caplog.set_level(logging.INFO, logger="hinode.edge")
    config = parse_gateway_config(
        f"""
site: lab
gateway: gw-1
broker: {{url: "mqtt://127.0.0.1:{mosquitto.port}", reconnect_min_s: 0.2}}
outbox: {{path: "{tmp_path / "outbox.sqlite"}"}}
"""
    )
    stall_s = 1.5
    agent = asyncio.create_task(_run(config, stall_s=stall_s))
    assert (await _next_state(systemd))[0] == "READY=1"
    assert (await _next_state(systemd))[0] == "WATCHDOG=1"

    stuck.set()
    # The pings of stall_s and one maintenance round at most, then silence.
    late = await _until_quiet(systemd, quiet_s=1.0)
    half_period_s = WATCHDOG_USEC / 2 / 1_000_000
    assert set(late) <= {"WATCHDOG=1"}
    assert len(late) <= (stall_s + 1.5) / half_period_s
    assert "agent stalled; watchdog pings withheld" in caplog.text

    release.set()
    stuck.clear()
    assert (await _next_state(systemd, timeout_s=3))[0] == "WATCHDOG=1"
    assert "watchdog pings resumed" in caplog.text

    os.kill(os.getpid(), signal.SIGTERM)
    async with asyncio.timeout(5):
        await agent
