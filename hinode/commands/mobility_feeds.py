"""``hinode mobility serve`` and ``token``: the simulated scooter fleet's feeds and their tokens."""

import contextlib
import os
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from cloud.mobility import (
    FeedServer,
    FeedService,
    new_bearer_token,
    token_file_line,
    valid_caller_name,
)
from hinode.commands._errors import fail
from hinode.commands._mobility_options import TokenFileOption, instant, token_store
from hinode.commands.mobility_city import NO_RIDE_ZONES, SYSTEM, ScooterCity, epoch_ms


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``hinode mobility`` group."""
    app.command("serve")(serve_command)
    app.command("token")(token_command)


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free port).")] = 8080,
    at: Annotated[
        str | None, typer.Option("--at", help="Simulated instant (ISO 8601); default now.")
    ] = None,
    speed: Annotated[
        float, typer.Option(min=0.0, max=3600.0, help="Simulated seconds per real second.")
    ] = 1.0,
    duration_s: Annotated[
        float | None, typer.Option("--duration-s", min=0.0, help="Stop after this long.")
    ] = None,
    token_file: TokenFileOption = None,
) -> None:
    """Serve a simulated scooter fleet, living on from --at, as GBFS 3.0 and MDS 2.0 feeds.

    GBFS is public. MDS wants an agency's bearer token from --token-file; without one, MDS is
    open to anyone (a warning says so).
    """
    tokens = token_store(token_file)
    moment = instant(at, "--at")
    history_days = 28
    city = ScooterCity(moment - timedelta(days=history_days), days=history_days + 2)
    city.advance_to(moment)
    started = time.monotonic()

    def simulated_now() -> datetime:
        return moment + timedelta(seconds=(time.monotonic() - started) * speed)

    lock = threading.Lock()
    service = FeedService(city.fleet, SYSTEM, "", NO_RIDE_ZONES, tokens)
    try:
        server = FeedServer(
            service, lambda: epoch_ms(simulated_now()), host=host, port=port, lock=lock
        )
    except OSError as exc:
        fail(f"--port: cannot listen on {host}:{port}: {exc.strerror or exc}")
    service.base_url = server.url
    stop = threading.Event()

    def live() -> None:
        while not stop.wait(1.0):
            with lock:
                city.advance_to(simulated_now())

    runner = threading.Thread(target=live, name="scooter-city", daemon=True)
    with server:
        runner.start()
        for name, url in service.urls().items():
            typer.echo(f"{name}: {url}")
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait(duration_s)
        stop.set()
        runner.join(timeout=5)


def token_command(
    name: Annotated[
        str, typer.Argument(help="Who holds it: an agency or a back end, e.g. city-transport.")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Token file to append NAME:sha256:HEX to (created 0600)."),
    ] = None,
) -> None:
    """Make a bearer token for the MDS or booking API: printed once, only its SHA-256 kept.

    The token goes to stdout, this once: hand it to its holder. With --out, the line
    NAME:sha256:HEX is appended to that file (give it to serve or run as --token-file);
    without, the line is printed on stderr. The server never needs the token itself.
    """
    if not valid_caller_name(name):
        fail(f"NAME: {name!r} is not a caller name (letters, digits, '.', '_', '-'; at most 64)")
    token = new_bearer_token()
    line = token_file_line(name, token)
    if out is None:
        typer.echo(f"token file line: {line}", err=True)
    else:
        _append_token_line(out, line)
        typer.echo(f"{name}: token added to {out}; bearer token (shown once):", err=True)
    typer.echo(token)


def _append_token_line(path: Path, line: str) -> None:
    """Appends *line* to the token file at *path*, made owner-only if it is new."""
    try:
        ends_open = path.exists() and path.read_bytes()[-1:] not in (b"", b"\n")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as exc:
        fail(f"--out: cannot write {path}: {exc.strerror or exc}")
    with os.fdopen(descriptor, "a", encoding="utf-8") as file:
        file.write(("\n" if ends_open else "") + line + "\n")
