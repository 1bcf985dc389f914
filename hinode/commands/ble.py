"""``hinode ble``: Bluetooth LE vital-sign tools for technicians (decode a captured value)."""

import json
from typing import Annotated

import typer

from edge.ble import CHARACTERISTICS, BleDecodeError, Measurement, find_characteristic
from hinode.commands._errors import fail

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
