"""``hinode demo``: the simulated city quarter, end to end, on embedded defaults."""

import asyncio
import contextlib
import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from hinode import logs
from hinode.commands._errors import fail
from hinode.demo.dashboard import VIEWS
from hinode.demo.interchange import summary_lines
from hinode.demo.runner import DemoOptions, run
from messages import ConfigError, HinodeError


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
        typer.Option(
            help=(
                "Simulated seconds per real second (60: an hour a minute; 600: a day in 2.4 "
                "minutes, the fastest at which the wallboxes' own watchdogs "
                "still see every poll)."
            ),
            min=0.001,
        ),
    ] = 1.0,
    start: Annotated[
        str | None,
        typer.Option(
            help=(
                "Begin at this simulated time, ISO 8601 (e.g. 2026-05-20T10:00+09:00; without "
                "an offset it is read as JST). Default: now."
            ),
        ),
    ] = None,
    ev_mode: Annotated[
        str,
        typer.Option(
            help=(
                "How the factory's chargers are controlled: pv (follow the PV surplus), minpv "
                "(6 A at least, more with surplus) or now (as fast as the site limit allows)."
            ),
        ),
    ] = "pv",
    store: Annotated[
        str | None,
        typer.Option(
            help="Time-series store: influx://HOST:PORT?org=…&bucket=…&token=… or sqlite:///PATH "
            "(default: SQLite under --data-dir)."
        ),
    ] = None,
    state: Annotated[
        str | None,
        typer.Option(
            help="State store: postgresql://USER@HOST:PORT/DB or sqlite:///PATH "
            "(default: SQLite under --data-dir)."
        ),
    ] = None,
    view: Annotated[
        str,
        typer.Option(
            help="What the live view shows below its header: all, energy (devices, EV "
            "charging, interchange), care or mobility."
        ),
    ] = "all",
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "warning",
) -> None:
    """Run a simulated city quarter: devices, edge agents, broker, collector and store.

    The factory's wallboxes follow its PV surplus: a charging controller reads the grid meter
    from the store and commands the chargers through the edge agent. The closing report holds
    the controller's decisions and the quarter's planned interchange on a working day and a day
    off (the first of each from the simulated start on). Two care recipients' homes send vital
    signs from simulated Bluetooth devices (shown under pseudonyms, with the alert rules
    applied); a depot gateway tracks two estate shuttles, which a dispatcher sends to riders
    bound for the bus stop, and three station scooters, published as GBFS and MDS feeds.
    """
    if broker is not None and not broker.startswith(("mqtt://", "mqtts://")):
        fail(f"--broker: expected mqtt://host:port or mqtts://host:port, got {broker!r}")
    if ev_mode not in ("pv", "minpv", "now"):
        fail(f"--ev-mode: expected pv, minpv or now, got {ev_mode!r}")
    if view not in VIEWS:
        fail(f"--view: expected {', '.join(VIEWS)}, got {view!r}")
    logs.configure(level=log_level)
    options = DemoOptions(
        duration_s=duration,
        headless=headless,
        data_dir=data_dir,
        report=report,
        broker_url=broker,
        speed=speed,
        start=None if start is None else _start_epoch(start),
        ev_mode="pv" if ev_mode == "pv" else "minpv" if ev_mode == "minpv" else "now",
        store_url=store,
        state_url=state,
        view=VIEWS[view],
    )
    try:
        with contextlib.suppress(KeyboardInterrupt):
            summary = asyncio.run(run(options))
    except ConfigError as exc:
        fail(str(exc))
    except HinodeError as exc:
        fail(str(exc), code=1)
    if headless and "summary" in locals():
        typer.echo(
            f"published {summary['published_readings']} readings, "
            f"stored {summary['stored_readings']}, lost {summary['lost_readings']}"
        )
        for line in [*_energy_lines(summary), *_care_mobility_lines(summary)]:
            typer.echo(line)


def _start_epoch(text: str) -> float:
    """Epoch seconds of an ISO 8601 time; a time without offset is Japan time."""
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        fail(f"--start: expected an ISO 8601 time such as 2026-05-20T10:00+09:00, got {text!r}")
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone(dt.timedelta(hours=9), "JST"))
    return when.timestamp()


def _care_mobility_lines(report: dict[str, Any]) -> list[str]:
    """The care homes and the vehicles, in a few lines (pseudonyms only)."""
    lines: list[str] = []
    care = report.get("care")
    if isinstance(care, dict):
        lines.extend(
            f"care {home['site']}: subjects {len(home['subjects'])}, "
            f"measurements {sum(s['measurements'] for s in home['subjects'].values())}, "
            f"alerts {len(home['alerts'])}"
            for home in care["homes"]
        )
    mobility = report.get("mobility")
    if isinstance(mobility, dict):
        wait = mobility["mean_wait_s"]
        lines.append(
            f"shuttles: {mobility['requests']} rides asked, {mobility['refused']} refused, "
            f"{mobility['picked_up']} picked up, {mobility['completed']} at the bus stop, "
            f"mean wait {'-' if wait is None else f'{wait / 60:.1f} min'}; "
            f"scooter trips {mobility['scooter_trips']}"
        )
    return lines


def _energy_lines(report: dict[str, Any]) -> list[str]:
    """The EV loop and the interchange, in a few lines."""
    lines: list[str] = []
    charging = report.get("ev_charging")
    if isinstance(charging, dict):
        setpoints = ", ".join(
            f"{device} {'/'.join(f'{a:g}' for a in entry['setpoints_a']) or '-'} A"
            for device, entry in charging["chargers"].items()
        )
        lines.append(
            f"EV charging at {charging['site']} ({charging['mode']}): {charging['decisions']} "
            f"decisions in {charging['rounds']} rounds; setpoints {setpoints}"
        )
    interchange = report.get("interchange")
    if isinstance(interchange, dict):
        if "error" in interchange:
            lines.append(f"interchange not planned: {interchange['error']}")
        else:
            lines.extend(summary_lines(interchange))
    return lines
