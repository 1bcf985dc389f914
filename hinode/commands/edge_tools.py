"""``hinode edge read`` and ``hinode edge scan``: the field technician's Modbus tools."""

import asyncio
import json
import logging
import re
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from edge.modbus import (
    Link,
    ModbusBus,
    Profile,
    RtuOverTcpLink,
    ScanResult,
    SerialLink,
    TcpLink,
    available_profiles,
    load_profile,
    scan,
)
from hinode.commands._errors import fail
from messages import ConfigError, HinodeError, Reading, WallClock, now_ms, unit_of

UNREACHABLE = 1
_MAX_UNIT = 247
#: Units above this many are scanned behind a progress bar.
_PROGRESS_FROM = 4


class Framer(StrEnum):
    """How Modbus frames travel over a TCP connection."""

    socket = "socket"
    rtu = "rtu"


class Parity(StrEnum):
    N = "N"
    E = "E"
    O = "O"  # noqa: E741 - the RS-485 parity letter


Host = Annotated[str | None, typer.Option("--host", help="Modbus TCP host (device or gateway).")]
Port = Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")]
SerialDevice = Annotated[
    str | None,
    typer.Option("--serial", help="Serial device of the RS-485 line, e.g. /dev/ttyUSB0."),
]
Baud = Annotated[int, typer.Option("--baud", min=300, max=921600, help="Serial baud rate.")]
ParityOption = Annotated[Parity, typer.Option("--parity", help="Serial parity.")]
FramerOption = Annotated[
    Framer,
    typer.Option("--framer", help="Over TCP: 'socket' (Modbus TCP) or 'rtu' (RTU over TCP)."),
]
Timeout = Annotated[
    float, typer.Option("--timeout", min=0.05, max=30.0, help="Seconds to wait for each answer.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``hinode edge`` group."""
    app.command("read")(read)
    app.command("scan")(scan_bus)


def read(
    profile: Annotated[
        str, typer.Argument(help="Profile name (see docs/devices.md) or path to a profile YAML.")
    ],
    unit: Annotated[int, typer.Option("--unit", help="Modbus unit id (1-247).")],
    host: Host = None,
    port: Port = 502,
    serial: SerialDevice = None,
    baud: Baud = 9600,
    parity: ParityOption = Parity.N,
    framer: FramerOption = Framer.socket,
    timeout: Timeout = 1.0,
    as_json: AsJson = False,
) -> None:
    """Read every quantity of one device once and print it (SI units, energy in Wh)."""
    if not 1 <= unit <= _MAX_UNIT:
        fail(f"--unit must be 1..{_MAX_UNIT}, got {unit}")
    link = _link(host, port, serial, baud, parity, framer)
    _quiet_library_logs()
    try:
        device_profile = load_profile(profile)
    except ConfigError as exc:
        fail(str(exc))
    try:
        readings = asyncio.run(_read_once(link, unit, device_profile, timeout))
    except HinodeError as exc:
        _unreachable(f"{link.describe()} unit {unit}: {exc}")
    ts = readings[0].ts if readings else now_ms(WallClock())
    if as_json:
        document = {
            "profile": device_profile.model,
            "unit": unit,
            "ts": ts,
            "readings": [
                {
                    "quantity": r.quantity,
                    "phase": r.phase,
                    "value": r.value,
                    "unit": unit_of(r.quantity),
                }
                for r in readings
            ],
        }
        typer.echo(json.dumps(document))
        return
    _print_readings(device_profile, unit, link, readings)


async def _read_once(link: Link, unit: int, profile: Profile, timeout_s: float) -> list[Reading]:
    async with ModbusBus(link, clock=WallClock(), timeout_s=timeout_s) as bus:
        await bus.connect()
        return await bus.device(unit, profile).poll()


def _print_readings(profile: Profile, unit: int, link: Link, readings: list[Reading]) -> None:
    who = "SunSpec device" if profile.discovery == "sunspec" else profile.manufacturer
    table = Table(title=f"{who} {profile.model} — unit {unit} on {link.describe()}")
    table.add_column("quantity")
    table.add_column("phase")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for reading in readings:
        table.add_row(
            reading.quantity, reading.phase or "", f"{reading.value:.6g}", unit_of(reading.quantity)
        )
    Console().print(table)


def scan_bus(
    host: Host = None,
    port: Port = 502,
    serial: SerialDevice = None,
    baud: Baud = 9600,
    parity: ParityOption = Parity.N,
    framer: FramerOption = Framer.socket,
    units: Annotated[
        str, typer.Option("--units", help="Unit ids to try, e.g. 1-247 or 1,2,10-20.")
    ] = "1-247",
    timeout: Timeout = 0.3,
    as_json: AsJson = False,
) -> None:
    """List the units that answer and what they appear to be (SunSpec chain or profile)."""
    link = _link(host, port, serial, baud, parity, framer)
    unit_ids = _parse_units(units)
    _quiet_library_logs()
    try:
        profiles = [load_profile(name) for name in available_profiles()]
    except ConfigError as exc:
        fail(str(exc))
    try:
        found = asyncio.run(_scan(link, unit_ids, profiles, timeout, show_progress=not as_json))
    except HinodeError as exc:
        _unreachable(f"{link.describe()}: {exc}")
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "unit": r.unit,
                        "sunspec_models": list(r.sunspec_models),
                        "profiles": list(r.profiles),
                        "info": r.info,
                    }
                    for r in found
                ]
            )
        )
        return
    console = Console()
    if not found:
        console.print(f"no unit answered on {link.describe()} (units {units})")
        return
    table = Table(title=f"Modbus units on {link.describe()}")
    table.add_column("unit", justify="right")
    table.add_column("appears to be")
    for result in found:
        table.add_row(str(result.unit), result.describe())
    console.print(table)


async def _scan(
    link: Link,
    unit_ids: list[int],
    profiles: list[Profile],
    timeout_s: float,
    *,
    show_progress: bool,
) -> list[ScanResult]:
    async with ModbusBus(link, clock=WallClock(), timeout_s=timeout_s) as bus:
        await bus.connect()
        if not show_progress or len(unit_ids) < _PROGRESS_FROM:
            return await scan(bus, unit_ids, profiles=profiles)
        columns = (
            TextColumn("scanning"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("scan", total=len(unit_ids))
            return await scan(
                bus, unit_ids, profiles=profiles, progress=lambda _unit: progress.advance(task)
            )


def _link(
    host: str | None,
    port: int,
    serial: str | None,
    baud: int,
    parity: Parity,
    framer: Framer,
) -> Link:
    if (host is None) == (serial is None):
        fail("give exactly one of --host or --serial")
    if serial is not None:
        return SerialLink(serial, baudrate=baud, parity=parity.value)
    assert host is not None
    if not host.strip():
        fail("--host must not be empty")
    return TcpLink(host, port) if framer is Framer.socket else RtuOverTcpLink(host, port)


_UNITS_RE = re.compile(r"^\d{1,3}(-\d{1,3})?(,\d{1,3}(-\d{1,3})?)*$")


def _parse_units(text: str) -> list[int]:
    compact = text.replace(" ", "")
    if not _UNITS_RE.fullmatch(compact):
        fail(f"--units must look like 1-247 or 1,2,10-20, got {text!r}")
    unit_ids: set[int] = set()
    for part in compact.split(","):
        first, _, last = part.partition("-")
        low, high = int(first), int(last or first)
        if not 1 <= low <= high <= _MAX_UNIT:
            fail(f"--units: {part} is not a range within 1-{_MAX_UNIT}")
        unit_ids.update(range(low, high + 1))
    return sorted(unit_ids)


def _unreachable(message: str) -> None:
    fail(message.splitlines()[0], code=UNREACHABLE)


def _quiet_library_logs() -> None:
    # The tools report failures in one line of their own; pymodbus' retries are noise here.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
