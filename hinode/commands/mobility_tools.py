"""``hinode mobility gnss`` and ``simulate``: read a GNSS receiver, or play one on a pty."""

import asyncio
import contextlib
import itertools
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from cloud.mobility import JST
from edge.gnss import GnssReceiver, NoFix, ReceiverStats, SerialNmeaPort
from hinode.commands._errors import fail
from hinode.commands._mobility_options import JsonFlag, print_json
from messages import Fix, TransportError
from simulators.vehicles import NmeaPty, city_roads, drive_receiver, scooter_at, shuttle_at


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``hinode mobility`` group."""
    app.command("gnss")(gnss_command)
    app.command("simulate")(simulate_command)


def gnss_command(
    port: Annotated[str, typer.Argument(help="Serial device or pyserial URL, e.g. /dev/ttyUSB0.")],
    baudrate: Annotated[int, typer.Option("--baud", min=300, help="Baud rate.")] = 9600,
    count: Annotated[int, typer.Option(min=1, help="Stop after this many epochs.")] = 5,
    timeout_s: Annotated[
        float, typer.Option("--timeout-s", min=0.1, help="Give up after this long.")
    ] = 10.0,
    as_json: JsonFlag = False,
) -> None:
    """Read a GNSS receiver: one line per epoch (fix or why not), then what was rejected."""
    try:
        readings, stats = asyncio.run(_read_gnss(port, baudrate, count, timeout_s))
    except TransportError as exc:
        fail(str(exc), code=1)
    if as_json:
        print_json(
            {
                "readings": [_reading_document(reading) for reading in readings],
                "sentences": stats.sentences,
                "ignored": stats.ignored,
                "rejected": dict(stats.rejected),
            }
        )
    else:
        for reading in readings:
            typer.echo(_reading_line(reading))
        rejected = ", ".join(f"{key} ×{n}" for key, n in sorted(stats.rejected.items()))
        typer.echo(
            f"{stats.sentences} sentences used, {stats.ignored} ignored, "
            f"rejected: {rejected or 'none'}"
        )
    if len(readings) < count:
        fail(f"{port}: {len(readings)} of {count} epochs within {timeout_s:g} s", code=1)


async def _read_gnss(
    port: str, baudrate: int, count: int, timeout_s: float
) -> tuple[list[Fix | NoFix], ReceiverStats]:
    readings: list[Fix | NoFix] = []
    async with SerialNmeaPort(port, baudrate=baudrate, read_timeout_s=1.0) as serial_port:
        receiver = GnssReceiver(serial_port)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                async for reading in receiver.readings():
                    readings.append(reading)
                    if len(readings) >= count:
                        break
    return readings, receiver.stats


def _reading_document(reading: Fix | NoFix) -> dict[str, Any]:
    if isinstance(reading, NoFix):
        return {"ts": reading.ts, "fix": False, "reason": reading.reason}
    return {"fix": True, **reading.model_dump()}


def _reading_line(reading: Fix | NoFix) -> str:
    if isinstance(reading, NoFix):
        return f"no fix: {reading.reason}"
    when = datetime.fromtimestamp(reading.ts / 1000, JST)
    heading = "-" if reading.heading_deg is None else f"{reading.heading_deg:.0f}°"
    return (
        f"{when:%H:%M:%S} {reading.lat:.6f} {reading.lon:.6f} {reading.speed_mps * 3.6:.1f} km/h "
        f"{heading} {reading.fix_quality} hdop {reading.hdop} sats {reading.satellites}"
    )


def simulate_command(
    kind: Annotated[str, typer.Option(help="shuttle or scooter.")] = "shuttle",
    start: Annotated[str, typer.Option("--from", help="Road node to start at.")] = "estate-gate",
    goal: Annotated[str, typer.Option("--to", help="Road node to drive to.")] = "bus-stop",
    epochs: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many seconds (default: arrive).")
    ] = None,
) -> None:
    """Drive a simulated vehicle along the quarter's roads, writing NMEA at 1 Hz to a pty."""
    roads = city_roads()
    for option, node in (("--from", start), ("--to", goal)):
        if node not in roads.nodes:
            fail(f"{option}: unknown road node {node!r} (one of {', '.join(sorted(roads.nodes))})")
    if kind not in ("shuttle", "scooter"):
        fail(f"--kind: expected shuttle or scooter, got {kind!r}")
    vehicle = (shuttle_at if kind == "shuttle" else scooter_at)(roads, f"sim-{kind}", start)
    vehicle.drive_to(roads, start, goal)
    with NmeaPty() as pty:
        typer.echo(f"{kind} writing NMEA at 1 Hz on {pty.port_name} (Ctrl-C to stop)")
        length = sum(
            roads.length_m(a, b) for a, b in itertools.pairwise(roads.shortest_path(start, goal))
        )
        seconds = epochs or int(length / (vehicle.speed_kmh / 3.6)) + 3
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(drive_receiver(vehicle, pty, now=lambda: datetime.now(UTC), epochs=seconds))
