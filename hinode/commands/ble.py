"""``hinode ble``: Bluetooth LE vital-sign tools for technicians (scan, decode a captured value)."""

import asyncio
import json
from typing import Annotated

import typer

from edge.ble import (
    CHARACTERISTICS,
    Advertisement,
    BleDecodeError,
    BleLinkError,
    BleTransport,
    Measurement,
    find_characteristic,
    kind_of,
)
from hinode.commands._errors import fail

#: Exit status when the Bluetooth stack itself fails (bad input is 2).
LINK_FAILURE = 1

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


@app.callback()
def ble() -> None:
    """Bluetooth LE vital-sign devices."""


def _parse_hex(text: str) -> bytes:
    cleaned = text.replace(" ", "").replace(":", "").replace("-", "").removeprefix("0x")
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        fail(f"HEX {text!r} is not hexadecimal bytes (e.g. 1e8000500060006e)")


def _line(name: str, value: object) -> str:
    return f"{name:<28} {value}"


def _print_text(measurement: Measurement) -> None:
    typer.echo(measurement.characteristic)
    for name, value in measurement.values.items():
        if value is None:
            typer.echo(_line(name, f"— ({measurement.unavailable.get(name, 'not present')})"))
        else:
            typer.echo(_line(name, value))
    typer.echo(_line("status", ", ".join(measurement.status) or "—"))


@app.command()
def decode(
    characteristic: Annotated[
        str,
        typer.Argument(
            help="Name (blood_pressure_measurement), 16-bit UUID (2a35) or full UUID.",
        ),
    ],
    hex_value: Annotated[str, typer.Argument(metavar="HEX", help="The value's bytes in hex.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object, for machines.")] = False,
) -> None:
    """Decode one captured characteristic value into canonical names and units."""
    found = find_characteristic(characteristic)
    if found is None:
        known = ", ".join(c.name for c in CHARACTERISTICS)
        fail(f"unknown characteristic {characteristic!r}; known: {known}")
    data = _parse_hex(hex_value)
    try:
        measurement = found.decode(data)
    except BleDecodeError as error:
        fail(str(error))
    if as_json:
        typer.echo(json.dumps(measurement.as_dict(), ensure_ascii=False))
    else:
        _print_text(measurement)


async def _scan_simulated_home(seconds: float) -> list[Advertisement]:
    # A care recipient's home with one of each simulated device, on bumble's in-process link.
    from edge.ble import BleakTransport  # noqa: PLC0415 - loads bleak only when scanning
    from simulators.ble import (  # noqa: PLC0415
        SimulatedAir,
        SimulatedBloodPressureMonitor,
        SimulatedGlucoseMeter,
        SimulatedHeartRateSensor,
        SimulatedPulseOximeter,
        SimulatedThermometer,
        SimulatedWeightScale,
        bind_backends,
    )

    air = SimulatedAir()
    try:
        for simulator in (
            SimulatedBloodPressureMonitor(),
            SimulatedPulseOximeter(),
            SimulatedGlucoseMeter(),
            SimulatedThermometer(),
            SimulatedWeightScale(),
            SimulatedHeartRateSensor(),
        ):
            await air.add_peripheral(simulator)
        scanner, client = bind_backends(await air.add_adapter())
        transport = BleakTransport(scanner_backend=scanner, client_backend=client)
        return await transport.scan(timeout_s=seconds)
    finally:
        await air.close()


async def _scan(seconds: float) -> list[Advertisement]:
    from edge.ble import BleakTransport  # noqa: PLC0415 - loads bleak only when scanning

    transport: BleTransport = BleakTransport()
    return await transport.scan(timeout_s=seconds)


@app.command()
def scan(
    seconds: Annotated[
        float, typer.Option("--seconds", min=0.1, max=120, help="How long to listen.")
    ] = 5.0,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list devices Hinode cannot read.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, for machines.")] = False,
    simulated: Annotated[
        bool,
        typer.Option("--simulated", help="Scan a simulated home (one device of each kind)."),
    ] = False,
) -> None:
    """List the Bluetooth LE health devices in range: address, name, signal, device kind."""
    try:
        found = asyncio.run(_scan_simulated_home(seconds) if simulated else _scan(seconds))
    except BleLinkError as error:
        fail(f"{error} (is a Bluetooth adapter present and BlueZ running?)", code=LINK_FAILURE)
    rows = []
    for advertisement in sorted(found, key=lambda ad: ad.address):
        kind = kind_of(advertisement)
        if kind is None and not show_all:
            continue
        rows.append(
            {
                "address": advertisement.address,
                "name": advertisement.name,
                "rssi_dbm": advertisement.rssi,
                "kind": kind.name if kind else None,
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        typer.echo("no health devices found")
    for row in rows:
        typer.echo(
            f"{row['address']:<18} {row['name'] or '—':<16} {row['rssi_dbm']:>4} dBm  "
            f"{row['kind'] or '—'}"
        )
