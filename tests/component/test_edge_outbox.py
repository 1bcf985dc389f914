"""The SQLite outbox: order, seq across restarts (kill -9 included), exact drop accounting."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from edge.outbox import DropReport, OutboxLimits, Sealed, SqliteOutbox

ROOMY = OutboxLimits(max_rows=1_000_000, max_bytes=1_000_000_000, max_age_ms=10**12)


def message(text: str, readings: int = 1):  # type: ignore[no-untyped-def]
    return lambda seq: Sealed("t/x", f"{seq}:{text}".encode(), readings)


async def test_seq_rises_across_restarts_and_rows_leave_only_when_deleted(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    async with SqliteOutbox.open(path, ROOMY) as outbox:
        seqs = [await outbox.append(message(f"m{i}"), 1000) for i in range(5)]
        assert seqs == [0, 1, 2, 3, 4]
        await outbox.delete([0, 1, 2, 3, 4])
        assert outbox.depth == 0
    async with SqliteOutbox.open(path, ROOMY) as outbox:
        assert outbox.last_seq == 4
        assert await outbox.append(message("after restart"), 1000) == 5
        rows = await outbox.read_after(-1, 10)
        assert [row.seq for row in rows] == [5]


async def test_staged_readings_are_sealed_into_one_message(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    async with SqliteOutbox.open(path, ROOMY) as outbox:
        await outbox.stage("meter-1", ["a", "b"], 1000)
        last = await outbox.stage("meter-1", ["c"], 1001)
        await outbox.stage("meter-2", ["x"], 1001)
    async with SqliteOutbox.open(path, ROOMY) as outbox:
        staged = {batch.device: batch for batch in await outbox.staged()}
        assert staged["meter-1"].readings == ["a", "b", "c"]
        assert staged["meter-1"].through_id == last
        seq = await outbox.seal(
            "meter-1",
            last,
            lambda seq, texts: Sealed("t", ",".join(texts).encode(), len(texts)),
            2000,
        )
        rows = await outbox.read_after(-1, 10)
        assert [(r.seq, r.payload, r.readings) for r in rows] == [(seq, b"a,b,c", 3)]
        assert [b.device for b in await outbox.staged()] == ["meter-2"]


async def test_a_cursor_moves_with_its_message_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"

    def broken(seq: int) -> Sealed:
        msg = "the payload does not validate"
        raise ValueError(msg)

    async with SqliteOutbox.open(path, ROOMY) as outbox:
        assert await outbox.cursors() == {}
        await outbox.append(message("record 7"), 1000, cursor=("ble-racp/AA", 7))
        with pytest.raises(ValueError, match="does not validate"):
            await outbox.append(broken, 1000, cursor=("ble-racp/AA", 8))
        await outbox.save_cursor("ble-racp/BB", 3)  # a record with nothing to publish
    async with SqliteOutbox.open(path, ROOMY) as outbox:
        assert await outbox.cursors() == {"ble-racp/AA": 7, "ble-racp/BB": 3}
        assert [row.payload for row in await outbox.read_after(-1, 10)] == [b"0:record 7"]


async def test_row_limit_drops_oldest_with_exact_counts(tmp_path: Path) -> None:
    limits = OutboxLimits(max_rows=10, max_bytes=10**9, max_age_ms=10**12)
    async with SqliteOutbox.open(tmp_path / "o.sqlite", limits) as outbox:
        for i in range(25):
            await outbox.append(message(f"m{i}", readings=3), 1000)
        assert outbox.depth == 10
        report = outbox.take_drops()
        assert report is not None
        assert (report.messages, report.readings, report.reasons) == (15, 45, ("max_rows",))
        assert (report.first_seq, report.last_seq) == (0, 14)
        assert [r.seq for r in await outbox.read_after(-1, 100)] == list(range(15, 25))
        assert outbox.take_drops() is None


async def test_byte_and_age_limits(tmp_path: Path) -> None:
    limits = OutboxLimits(max_rows=10**6, max_bytes=10_000, max_age_ms=60_000)
    async with SqliteOutbox.open(tmp_path / "o.sqlite", limits) as outbox:
        for i in range(30):
            await outbox.append(lambda seq: Sealed("t", b"x" * 1000, 2), 1000 * i)
        assert outbox.depth_bytes <= 10_000
        bytes_report = outbox.take_drops()
        assert bytes_report is not None
        assert bytes_report.reasons == ("max_bytes",)
        assert bytes_report.messages == 30 - outbox.depth
        await outbox.expire(now_ms=27_000 + 60_000)  # the three newest are young enough
        age_report = outbox.take_drops()
        assert age_report is not None
        assert age_report.reasons == ("max_age",)
        assert outbox.depth == 3
        assert bytes_report.messages + age_report.messages == 27
        assert bytes_report.readings + age_report.readings == 54


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from edge.outbox import DropReport, OutboxLimits, Sealed, SqliteOutbox

    async def main():
        limits = OutboxLimits(max_rows=10**6, max_bytes=10**9, max_age_ms=10**12)
        async with SqliteOutbox.open(Path(sys.argv[1]), limits) as outbox:
            while True:
                seq = await outbox.append(lambda s: Sealed("t", str(s).encode(), 1), 1000)
                print(seq, flush=True)  # printed only once committed

    asyncio.run(main())
    """
)


async def test_kill_9_loses_no_committed_row_and_seq_keeps_rising(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert process.stdout is not None
    with process.stdout:
        committed = [int(process.stdout.readline()) for _ in range(200)]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    async with SqliteOutbox.open(path, ROOMY) as outbox:
        stored = {row.seq for row in await outbox.read_after(-1, 1_000_000)}
        assert set(committed) <= stored
        assert stored == set(range(len(stored)))
        assert await outbox.append(message("next"), 1000) == len(stored)


def test_drop_reports_merge() -> None:
    first = DropReport(messages=2, readings=6, reasons=("max_rows",), first_seq=0, last_seq=1)
    later = DropReport(
        messages=3, readings=3, reasons=("max_age", "max_rows"), first_seq=5, last_seq=9
    )
    assert first.merge(later) == DropReport(
        messages=5, readings=9, reasons=("max_rows", "max_age"), first_seq=0, last_seq=9
    )
