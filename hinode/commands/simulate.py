"""``hinode simulate``: run a simulated device standalone, for bench tests and technicians."""

import asyncio
import logging
from typing import Annotated

import typer

from hinode.commands._errors import fail
from messages.clock import ScaledClock
from simulators.modbus import MAX_RTU_UNIT, MAX_TCP_UNIT, MODELS, ModbusSimServer, create_device

app = typer.Typer(no_args_is_help=True)

DEFAULT_TCP_PORT = 5020  # 502 needs root; Modbus test benches conventionally use 5020


TCP_TRANSPORTS = ("tcp", "rtu_over_tcp")
LOADS = ("factory", "home", "public")


@app.callback()
def simulate() -> None:
    """Run simulated devices standalone."""


@app.command("modbus")
def modbus(
    model: Annotated[str, typer.Argument(help=f"Device model: {', '.join(MODELS)}.")],
    port: Annotated[
        int | None,
        typer.Option("--port", help=f"TCP port to listen on (default {DEFAULT_TCP_PORT})."),
    ] = None,
    serial: Annotated[
        str | None,
        typer.Option("--serial", help="Serve RTU on this serial device or pty instead of TCP."),
    ] = None,
    unit: Annotated[
        int, typer.Option("--unit", help="Modbus unit id (1-247; up to 255 on Modbus TCP).")
    ] = 1,
    transport: Annotated[
        str, typer.Option("--transport", help="Framing on TCP: tcp or rtu_over_tcp.")
    ] = "tcp",
    load: Annotated[
        str, typer.Option("--load", help="A meter's demand curve: factory, home or public.")
    ] = "factory",
    speed: Annotated[
        float, typer.Option("--speed", help="Simulated seconds per real second.")
    ] = 1.0,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    baud: Annotated[int, typer.Option("--baud", help="Baud rate with --serial.")] = 9600,
    seed: Annotated[int, typer.Option("--seed", help="Seed of weather, noise and cars.")] = 0,
) -> None:
    """Serve one simulated Modbus device until Ctrl-C."""
    if model not in MODELS:
        fail(f"unknown model {model!r}; expected one of {', '.join(MODELS)}")
    if port is not None and serial is not None:
        fail("give either --port or --serial, not both")
    if transport not in TCP_TRANSPORTS:
        fail(f"unknown --transport {transport!r}; expected one of {', '.join(TCP_TRANSPORTS)}")
    if serial is not None and transport != "tcp":
        fail("--transport applies to TCP only; --serial always speaks RTU")
    if load not in LOADS:
        fail(f"unknown --load {load!r}; expected one of {', '.join(LOADS)}")
    highest = MAX_TCP_UNIT if serial is None and transport == "tcp" else MAX_RTU_UNIT
    if not 1 <= unit <= highest:
        fail(f"--unit must be 1-{highest} here, got {unit}")
    if speed <= 0:
        fail(f"--speed must be positive, got {speed}")
    if port is not None and not 0 <= port <= 65535:
        fail(f"--port must be 0-65535, got {port}")
    clock = ScaledClock(speed=speed)
    device = create_device(model, now=clock.now, load=load, seed=seed)
    server = ModbusSimServer(
        {unit: device},
        now=clock.now,
        transport="serial" if serial is not None else transport,
        host=host,
        port=DEFAULT_TCP_PORT if port is None else port,
        serial_port=serial,
        baudrate=baud,
    )
    # pymodbus would log its own warning next to ours when the port cannot be opened.
    pymodbus_logger = logging.getLogger("pymodbus")
    level = pymodbus_logger.level
    pymodbus_logger.setLevel(logging.ERROR)
    try:
        asyncio.run(_serve(server, model=model, unit=unit, speed=speed))
    except KeyboardInterrupt:
        typer.echo("stopped")
    except (OSError, RuntimeError):
        where = serial if serial is not None else f"{host}:{server.port}"
        fail(f"cannot listen on {where} (in use, missing or not permitted)", code=1)
    finally:
        pymodbus_logger.setLevel(level)


async def _serve(server: ModbusSimServer, *, model: str, unit: int, speed: float) -> None:
    async with server:
        if server.transport == "serial":
            where = f"RTU on {server.serial_port} at {server.baudrate} baud"
        else:
            framing = "Modbus TCP" if server.transport == "tcp" else "RTU over TCP"
            where = f"{framing} on {server.host}:{server.port}"
        typer.echo(f"{model} unit {unit}: {where}, time ×{speed:g}; Ctrl-C to stop")
        await asyncio.Event().wait()
