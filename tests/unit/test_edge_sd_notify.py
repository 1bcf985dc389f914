"""The sd_notify adapter: what systemd's environment means, datagrams on a real socket."""

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge._sd_notify import SdNotifier


@pytest.fixture
def abstract_socket() -> Iterator[tuple[str, socket.socket]]:
    name = f"hinode-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
        receiver.bind("\0" + name)
        receiver.settimeout(5)
        yield f"@{name}", receiver


def test_outside_systemd_there_is_nothing_to_notify() -> None:
    assert SdNotifier.from_environment({}) is None
    assert SdNotifier.from_environment({"NOTIFY_SOCKET": ""}) is None


def test_the_watchdog_is_pinged_at_half_its_timeout() -> None:
    notifier = SdNotifier.from_environment(
        {"NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "60000000"}
    )
    assert notifier is not None
    assert notifier.watchdog_interval_s == 30.0


def test_a_watchdog_meant_for_another_process_or_unset_is_not_pinged() -> None:
    for env in (
        {"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid() + 1)},
        {"WATCHDOG_USEC": "0"},
        {"WATCHDOG_USEC": "soon"},
        {},
    ):
        notifier = SdNotifier.from_environment({"NOTIFY_SOCKET": "/run/n", **env})
        assert notifier is not None
        assert notifier.watchdog_interval_s is None, env
    mine = SdNotifier.from_environment(
        {"NOTIFY_SOCKET": "/run/n", "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}
    )
    assert mine is not None
    assert mine.watchdog_interval_s == 1.0


def test_states_arrive_on_an_abstract_namespace_socket(
    abstract_socket: tuple[str, socket.socket],
) -> None:
    address, receiver = abstract_socket
    notifier = SdNotifier.from_environment({"NOTIFY_SOCKET": address})
    assert notifier is not None
    assert notifier.notify("READY=1")
    assert receiver.recv(4096) == b"READY=1"


def test_states_arrive_on_a_path_socket(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
        receiver.bind(str(path))
        receiver.settimeout(5)
        assert SdNotifier(str(path)).notify("STOPPING=1")
        assert receiver.recv(4096) == b"STOPPING=1"


def test_a_missing_socket_is_reported_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = SdNotifier(str(tmp_path / "gone"))
    assert not notifier.notify("WATCHDOG=1")
    assert not notifier.notify("WATCHDOG=1")
    assert [record.message for record in caplog.records] == ["systemd notify failed"]
