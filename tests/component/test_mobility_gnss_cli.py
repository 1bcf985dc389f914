"""``hinode mobility gnss`` against a simulated receiver on a pty: what a technician sees."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from hinode.commands.mobility import app
from simulators.vehicles import NmeaPty, ReceiverEpoch, encode_epoch

START = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)


def receiver(pty: NmeaPty, count: int, *, lose_fix_at: int | None = None) -> threading.Thread:
    """A receiver that starts talking once the port is open (pyserial flushes input on open)."""

    def talk() -> None:
        time.sleep(0.5)
        pty.write_raw(b"$GPRMC,083000.00,A*00\r\n")  # bad checksum
        for second in range(count):
            pty.write(
                encode_epoch(
                    ReceiverEpoch(
                        START + timedelta(seconds=second), 36.5928, 136.6357, 1.2, 90.0,
                        has_fix=second != lose_fix_at,
                    )
                )
            )  # fmt: skip
            time.sleep(0.05)

    thread = threading.Thread(target=talk, daemon=True)
    thread.start()
    return thread


def test_one_line_per_epoch_and_what_was_rejected() -> None:
    with NmeaPty() as pty:
        talking = receiver(pty, 4, lose_fix_at=2)
        result = CliRunner().invoke(app, ["gnss", pty.port_name, "--count", "3"])
        talking.join()
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "17:30:00 36.592800 136.635700 4.3 km/h 90° gps hdop 0.9 sats 8"
    assert lines[2] == "no fix: receiver reports no fix (RMC status V)"
    assert lines[3].endswith("rejected: GPRMC.checksum ×1")


def test_json_for_machines() -> None:
    with NmeaPty() as pty:
        talking = receiver(pty, 3)
        result = CliRunner().invoke(app, ["gnss", pty.port_name, "--count", "2", "--json"])
        talking.join()
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [r["fix"] for r in document["readings"]] == [True, True]
    assert document["readings"][0]["lat"] == 36.5928


def test_a_silent_receiver_exits_1_with_the_count() -> None:
    with NmeaPty() as pty:
        result = CliRunner().invoke(app, ["gnss", pty.port_name, "--timeout-s", "1.5"])
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("0 of 5 epochs within 1.5 s")


def test_a_missing_port_exits_1() -> None:
    result = CliRunner().invoke(app, ["gnss", "/dev/no-such-gnss"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: /dev/no-such-gnss: cannot open")


def test_simulate_refuses_unknown_nodes() -> None:
    result = CliRunner().invoke(app, ["simulate", "--from", "moon"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --from: unknown road node 'moon'")


def test_simulate_drives_for_the_seconds_asked() -> None:
    result = CliRunner().invoke(app, ["simulate", "--kind", "scooter", "--epochs", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("scooter writing NMEA at 1 Hz on /dev/pts/")
