"""GNSS over a real pty pair: the simulator writes NMEA at 1 Hz, pyserial reads it."""

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest

from edge.gnss import GnssReceiver, NoFix, SerialNmeaPort, VehicleTracker
from messages import Fix, TransportError, VehicleState
from simulators.vehicles import (
    NmeaPty,
    ReceiverEpoch,
    city_roads,
    distance_m,
    drive_receiver,
    encode_epoch,
    shuttle_at,
)

START = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)


async def collect(receiver: GnssReceiver, count: int) -> list[Fix | NoFix]:
    readings: list[Fix | NoFix] = []
    async with asyncio.timeout(10):
        async for reading in receiver.readings():
            readings.append(reading)
            if len(readings) == count:
                return readings
    return readings


async def test_shuttle_positions_arrive_through_the_serial_port() -> None:
    roads = city_roads()
    shuttle = shuttle_at(roads, "shuttle-1", "estate-gate")
    shuttle.drive_to(roads, "estate-gate", "bus-stop")
    clock = iter(START + timedelta(seconds=s) for s in range(10_000))
    epochs = 8
    with NmeaPty() as pty:
        port = SerialNmeaPort(pty.port_name, baudrate=9600, read_timeout_s=0.5)
        async with port:
            # Fast-forward the simulated 1 Hz: no real sleeping between epochs.
            await drive_receiver(
                shuttle,
                pty,
                now=lambda: next(clock),
                sleep=lambda _: asyncio.sleep(0),
                epochs=epochs,
            )
            pty.write_raw(b"$GPRMC,0830")  # a cable pulled mid-sentence ...
            pty.write_raw(b"\r\n$GPGSV,1,1,01,05,40,083,46*4D\r\n")  # ... and a sentence we skip
            receiver = GnssReceiver(port)
            readings = await collect(receiver, epochs)
    assert all(isinstance(reading, Fix) for reading in readings)
    fixes = [reading for reading in readings if isinstance(reading, Fix)]
    assert [fix.ts for fix in fixes] == [
        int((START + timedelta(seconds=s)).timestamp() * 1000) for s in range(epochs)
    ]
    travelled = distance_m(fixes[0].lat, fixes[0].lon, fixes[-1].lat, fixes[-1].lon)
    walking_mps = 6 / 3.6
    assert 0 < travelled <= walking_mps * (epochs - 1) + 5  # 5 m of simulated GNSS noise
    assert all(fix.speed_mps <= walking_mps for fix in fixes)
    await asyncio.sleep(0)


async def test_garbage_on_the_line_is_counted_not_raised() -> None:
    with NmeaPty() as pty:
        async with SerialNmeaPort(pty.port_name, read_timeout_s=0.3) as port:
            pty.write_raw(b"\x00\xff garbage\r\n$GPRMC,1*00\r\n$GPRMC,083000\r\n")
            receiver = GnssReceiver(port)
            for _ in range(3):
                line = await port.read_line()
                assert line is not None
                assert receiver.accept(line.decode("latin-1")) == []
            assert await port.read_line() is None  # silence: the read timed out
    assert sum(receiver.stats.rejected.values()) == 3
    assert receiver.stats.rejected["GPRMC.checksum"] == 2


async def test_a_missing_device_is_a_transport_error() -> None:
    with pytest.raises(TransportError, match="cannot open"):
        await SerialNmeaPort("/dev/does-not-exist-gnss", read_timeout_s=0.2).connect()


class SteppingClock:
    """Simulated time that moves one second each time it is read (one epoch per reading)."""

    def __init__(self, start: float) -> None:
        self._now = start

    def now(self) -> float:
        self._now += 1.0
        return self._now

    async def sleep(self, seconds: float) -> None:
        self._now += seconds
        await asyncio.sleep(0)


async def test_vehicle_tracker_sends_batches_of_valid_fixes() -> None:
    roads = city_roads()
    shuttle = shuttle_at(roads, "shuttle-2", "station")
    shuttle.drive_to(roads, "station", "city-hall")
    batches: list[tuple[list[Fix], VehicleState | None]] = []
    state = VehicleState(kind="shuttle", battery_pct=80, door_open=False, occupancy=2)
    changes: list[tuple[bool, str]] = []

    async def send(fixes: list[Fix], vehicle_state: VehicleState | None) -> None:
        batches.append((fixes, vehicle_state))

    with NmeaPty() as pty:
        tracker = VehicleTracker(
            "shuttle-2", SerialNmeaPort(pty.port_name, read_timeout_s=0.3),
            clock=SteppingClock(START.timestamp()), vehicle_state=lambda: state,
            on_status=lambda online, reason: changes.append((online, reason)), interval_ms=3000,
        )  # fmt: skip
        task = asyncio.create_task(tracker.run(send))
        async with asyncio.timeout(10):
            while not tracker.online:  # pyserial flushes its input on open: talk after
                await asyncio.sleep(0.01)
            clock = iter(START + timedelta(seconds=s) for s in range(10_000))
            await drive_receiver(
                shuttle, pty, now=lambda: next(clock), sleep=lambda _: asyncio.sleep(0), epochs=3
            )
            lost = ReceiverEpoch(START + timedelta(seconds=3), 0, 0, 0, 0, has_fix=False)
            pty.write(encode_epoch(lost))
            clock = iter(START + timedelta(seconds=s) for s in range(4, 10_000))
            await drive_receiver(
                shuttle, pty, now=lambda: next(clock), sleep=lambda _: asyncio.sleep(0), epochs=6
            )
            while sum(len(fixes) for fixes, _ in batches) < 9:
                await asyncio.sleep(0.01)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    sent = [fix for fixes, _ in batches for fix in fixes]
    assert [fix.ts for fix in sent] == [
        int((START + timedelta(seconds=s)).timestamp() * 1000) for s in range(10) if s != 3
    ]
    assert all(vehicle_state == state for _, vehicle_state in batches)
    assert tracker.batcher.no_fix_epochs == 1
    assert changes == [(True, "receiver answers")]


async def test_vehicle_tracker_retries_a_missing_receiver_and_reports_it_once() -> None:
    changes: list[tuple[bool, str]] = []
    clock = SteppingClock(START.timestamp())
    tracker = VehicleTracker(
        "scooter-9", SerialNmeaPort("/dev/no-such-gnss", read_timeout_s=0.1), clock=clock,
        on_status=lambda online, reason: changes.append((online, reason)),
    )  # fmt: skip

    async def send(fixes: list[Fix], vehicle_state: VehicleState | None) -> None:
        raise AssertionError("nothing to send")

    task = asyncio.create_task(tracker.run(send))
    await asyncio.sleep(0.3)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert len(changes) == 1
    assert changes[0][0] is False
    assert "cannot open" in changes[0][1]
    assert clock.now() - START.timestamp() > 60  # it backed off, in simulated time
