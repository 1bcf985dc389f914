"""``hinode demo``: the simulated city quarter, end to end, on embedded defaults."""

import asyncio
import contextlib
from pathlib import Path
from typing import Annotated

import typer

from hinode import logs
from hinode.commands._errors import fail
from hinode.demo.runner import DemoOptions, run
from messages import HinodeError


def run_demo(
    duration: Annotated[
        float | None,
        typer.Option(help="Stop after this many real seconds (default: run until Ctrl-C).", min=0),
    ] = None,
    headless: Annotated[bool, typer.Option(help="No live terminal view.")] = False,
    data_dir: Annotated[
        Path, typer.Option(help="Where the outboxes and the stores are kept.")
    ] = Path("data/demo"),
    report: Annotated[
        Path | None, typer.Option(help="Write the closing JSON report to this file.")
    ] = None,
    broker: Annotated[
        str | None,
        typer.Option(help="Use this broker (mqtt://host:port) instead of the embedded one."),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(help="Simulated seconds per real second (60: an hour a minute).", min=0.001),
    ] = 1.0,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "warning",
) -> None:
    """Run a simulated city quarter: devices, edge agents, broker, collector and store."""
    if broker is not None and not broker.startswith(("mqtt://", "mqtts://")):
        fail(f"--broker: expected mqtt://host:port or mqtts://host:port, got {broker!r}")
    logs.configure(level=log_level)
    options = DemoOptions(
        duration_s=duration,
        headless=headless,
        data_dir=data_dir,
        report=report,
        broker_url=broker,
        speed=speed,
    )
    try:
        with contextlib.suppress(KeyboardInterrupt):
            summary = asyncio.run(run(options))
    except HinodeError as exc:
        fail(str(exc), code=1)
    if headless and "summary" in locals():
        typer.echo(
            f"published {summary['published_readings']} readings, "
            f"stored {summary['stored_readings']}, lost {summary['lost_readings']}"
        )
