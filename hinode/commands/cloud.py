"""``hinode cloud``: the collector, exports and status."""

import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cloud import (
    FORMATS,
    Collector,
    ReadingQuery,
    export_lines,
    load_config,
    open_state,
    open_timeseries,
    parse_instant,
    status_report,
)
from hinode import logs
from hinode.commands._errors import fail
from messages import ConfigError, HinodeError, WallClock, now_ms

app = typer.Typer(no_args_is_help=True)

DataDir = Annotated[
    Path, typer.Option("--data-dir", help="Data directory holding the default SQLite stores.")
]


@app.command("run")
def run(
    config: Annotated[Path, typer.Argument(help="Collector configuration (YAML).")],
) -> None:
    """Run a collector until SIGINT or SIGTERM."""
    try:
        settings = load_config(config)
    except ConfigError as exc:
        fail(str(exc))
    logs.configure(level=settings.log_level)
    try:
        timeseries = open_timeseries(settings.store or settings.data_dir)
        state = open_state(settings.state or settings.data_dir)
        collector = Collector(
            settings.broker,
            timeseries,
            state,
            WallClock(),
            client_id=settings.client_id,
            shared_group=settings.shared_group,
            protocol=settings.protocol,
            batch_max=settings.batch_max,
            batch_age_s=settings.batch_age_s,
            tls=settings.tls,
        )
    except ConfigError as exc:
        fail(f"{config}: {exc}")
    except HinodeError as exc:
        fail(str(exc), code=1)

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await collector.run()

    try:
        asyncio.run(main())
    finally:
        timeseries.close()
        state.close()


@app.command("export")
def export(
    *,
    data_dir: DataDir,
    store: Annotated[
        str | None, typer.Option(help="Time-series store URL (default: the data dir's SQLite).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="From this ISO date-time (inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this ISO date-time (exclusive).")] = None,
    device: Annotated[str | None, typer.Option(help="Only this device.")] = None,
    quantity: Annotated[str | None, typer.Option(help="Only this quantity.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "jsonl",
) -> None:
    """Print stored readings in time order, one per line."""
    if fmt not in FORMATS:
        fail(f"unknown --format {fmt!r}: expected one of {', '.join(FORMATS)}")
    try:
        query = ReadingQuery(
            since=None if since is None else parse_instant(since),
            until=None if until is None else parse_instant(until),
            device=device,
            quantity=quantity,
        )
    except ValueError as exc:
        fail(f"bad date: {exc}")
    location = store or data_dir
    if store is None and not (data_dir / "timeseries.sqlite").exists():
        fail(f"no time-series store in {data_dir} (expected {data_dir / 'timeseries.sqlite'})")
    try:
        timeseries = open_timeseries(location)
    except HinodeError as exc:
        fail(str(exc))
    out = sys.stdout
    try:
        for line in export_lines(timeseries.query(query), fmt):
            out.write(line)
            out.write("\n")
    except HinodeError as exc:
        fail(str(exc), code=1)
    except BrokenPipeError:
        pass
    finally:
        timeseries.close()


@app.command("status")
def status(
    *,
    data_dir: DataDir,
    state_url: Annotated[
        str | None,
        typer.Option("--state", help="State store URL (default: the data dir's SQLite)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Gateways online/offline, device freshness, sequence gaps and dead letters."""
    if state_url is None and not (data_dir / "state.sqlite").exists():
        fail(f"no state store in {data_dir} (expected {data_dir / 'state.sqlite'})")
    try:
        state = open_state(state_url or data_dir)
        try:
            report = status_report(state, now_ms(WallClock()))
        finally:
            state.close()
    except HinodeError as exc:
        fail(str(exc), code=1)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    _print_status(report)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if abs(seconds) < 120:
        return f"{seconds:.0f} s ago"
    if abs(seconds) < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _print_status(report: dict[str, Any]) -> None:
    console = Console()
    gateways = Table(title="Gateways")
    for column in ("site", "gateway", "state", "version", "last seen"):
        gateways.add_column(column)
    for g in report["gateways"]:
        online = {True: "[green]online[/]", False: "[red]offline[/]"}.get(g["online"], "unknown")
        gateways.add_row(
            g["site"], g["gateway"], online, g["version"] or "", _age(g["last_seen_age_s"])
        )
    console.print(gateways)
    devices = Table(title="Devices")
    for column in ("gateway", "device", "kind", "newest reading", "readings"):
        devices.add_column(column)
    for d in report["devices"]:
        age = _age(d["age_s"])
        devices.add_row(
            d["gateway"],
            d["device"],
            d["kind"],
            age if d["fresh"] else f"[yellow]{age}[/]",
            str(d["readings"]),
        )
    console.print(devices)
    if report["gaps"]:
        gaps = Table(title="Open sequence gaps")
        for column in ("gateway", "boot", "first", "last", "missing"):
            gaps.add_column(column)
        for gap in report["gaps"]:
            gaps.add_row(
                gap["gateway"],
                gap["boot_id"][:8],
                str(gap["first"]),
                str(gap["last"]),
                str(gap["missing"]),
            )
        console.print(gaps)
    else:
        console.print("No open sequence gaps.")
    dead = report["dead_letters"]
    console.print(f"Dead letters: {dead['count']}")
    for letter in dead["latest"]:
        console.print(f"  {letter['topic']}: {letter['reason']}", markup=False)
