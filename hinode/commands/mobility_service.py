"""``hinode mobility run``: a site's shuttle service with its booking API, state file and log."""

import asyncio
import contextlib
import json
import logging
import signal
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from cloud import BrokerTls
from cloud.mobility import (
    LoopState,
    MobilityServiceConfig,
    ShuttleServiceLoop,
    StateConflictError,
    StateDocumentError,
    TokenStore,
    create_booking_app,
    fit_to_config,
    report_document,
)
from hinode import logs
from hinode.commands._broker_tls import CaFile, CertFile, KeyFile, broker_tls
from hinode.commands._errors import fail
from hinode.commands._mobility_options import TokenFileOption, read_yaml_config, token_store
from hinode.mobility import STATE_FILE, JsonlServiceLog, StateFile
from hinode.mqtt_commands import PahoCommands
from messages import ConfigError, WallClock

# The name the service's log lines have always carried.
log = logging.getLogger("hinode.commands.mobility")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``hinode mobility`` group."""
    app.command("run")(run_command)


def run_command(
    config_file: Annotated[
        Path, typer.Argument(metavar="CONFIG.yaml", help="The site's shuttles and booked rides.")
    ],
    broker: Annotated[str, typer.Option("--broker", help="mqtt://HOST:PORT of the broker.")],
    data_dir: Annotated[
        Path,
        typer.Option("--data-dir", help="Where the state file, the service log and the report go."),
    ],
    rounds: Annotated[
        int | None, typer.Option("--rounds", min=1, help="Stop after this many rounds.")
    ] = None,
    http_host: Annotated[
        str, typer.Option("--http-host", help="Address the booking API listens on.")
    ] = "127.0.0.1",
    http_port: Annotated[
        int,
        typer.Option("--http-port", min=0, max=65535, help="Booking API port (0: no API)."),
    ] = 8480,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help=f"Start over: move DATA_DIR/{STATE_FILE} aside (renamed with the time) and "
            "forget the rides and routes it holds.",
        ),
    ] = False,
    token_file: TokenFileOption = None,
    ca_file: CaFile = None,
    cert_file: CertFile = None,
    key_file: KeyFile = None,
) -> None:
    """Run a site's shuttle service: rides → routes as commands over MQTT, positions → progress.

    Rides are booked, followed and cancelled over HTTP (POST/GET/DELETE /rides, GET /shuttles)
    on --http-host:--http-port. Writes DATA_DIR/mobility-service.jsonl (assignments, routes
    sent and resent, pickups and drop-offs with waits and ride times) and, when it stops (after
    --rounds, SIGINT or SIGTERM), DATA_DIR/mobility-report.json. Keeps its rides, routes and
    promises in DATA_DIR/mobility-state.json: started again, it resumes from there and sends
    every shuttle its route again. With --token-file, every booking API endpoint but
    GET /health wants a bearer token from that file.
    """
    tokens = token_store(token_file)
    tls = broker_tls(ca_file, cert_file, key_file)
    config = _service_config(config_file)
    state_file = StateFile(data_dir / STATE_FILE)
    restored, news = _restored_state(state_file, config, config_file, fresh=fresh)
    logs.configure(level="info")
    for line in news:
        log.info(line)
    listening = _listen(http_host, http_port) if http_port else None
    try:
        commands = PahoCommands(
            broker, client_id=f"hinode-mobility-cmd-{config.site}"[:64], tls=tls
        )
    except ConfigError as exc:
        if listening is not None:
            listening.close()
        fail(str(exc))
    service_log = JsonlServiceLog(data_dir / "mobility-service.jsonl")
    clock = WallClock()
    loop = ShuttleServiceLoop(
        config,
        commands,
        now=clock.now(),
        service_log=service_log,
        restored=restored,
        state_store=state_file,
    )
    try:
        asyncio.run(_run_service(loop, broker, clock, rounds, listening, tokens=tokens, tls=tls))
    except KeyboardInterrupt:
        pass
    finally:
        commands.close()
        service_log.close()
        report = report_document(loop.report())
        (data_dir / "mobility-report.json").write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    typer.echo(
        f"{report['completed']} rides completed, {report['refused']} refused, "
        f"{report['cancelled']} cancelled, {loop.commands_sent} route commands sent "
        f"({loop.commands_resent} resent)"
    )


def _listen(host: str, port: int) -> socket.socket:
    """The booking API's socket, bound before anything starts: a taken port is one line."""
    try:
        address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(address[0], socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address[4])
    except OSError as exc:
        fail(f"--http-port: cannot listen on {host}:{port}: {exc.strerror or exc}")
    return sock


class _BookingServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the command's handlers stop the service and
    the API together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _run_service(
    loop: ShuttleServiceLoop,
    broker: str,
    clock: WallClock,
    rounds: int | None,
    listening: socket.socket | None,
    *,
    tokens: TokenStore | None,
    tls: BrokerTls | None,
) -> None:
    """The service loop and the booking API in one TaskGroup until --rounds or a signal."""
    server: _BookingServer | None = None
    if listening is not None:
        app = create_booking_app(loop, clock, tokens)
        server = _BookingServer(
            uvicorn.Config(
                app,
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_keep_alive=5,
                timeout_graceful_shutdown=5,
            )
        )

    async def service() -> None:
        try:
            await loop.serve(broker, clock, rounds=rounds, tls=tls)
        finally:
            if server is not None:
                server.should_exit = True

    events = asyncio.get_running_loop()
    try:
        async with asyncio.TaskGroup() as tasks:
            running = tasks.create_task(service(), name="mobility-service")

            def stop() -> None:
                running.cancel()
                if server is not None:
                    server.should_exit = True

            for signum in (signal.SIGINT, signal.SIGTERM):
                events.add_signal_handler(signum, stop)
            if server is not None and listening is not None:
                tasks.create_task(server.serve(sockets=[listening]), name="booking-api")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            events.remove_signal_handler(signum)


def _restored_state(
    state_file: StateFile, config: MobilityServiceConfig, config_file: Path, *, fresh: bool
) -> tuple[LoopState | None, list[str]]:
    """The state a previous run saved, fitted to the config, and what to log about it (once
    logging is set up); exits 2 when the state cannot be used."""
    path = state_file.path
    if fresh:
        try:
            aside = state_file.move_aside(datetime.now(UTC))
        except OSError as exc:
            fail(f"{path}: cannot move it aside: {exc.strerror or exc}")
        if aside is None:
            return None, []
        return None, [f"starting fresh (--fresh): the previous state was moved to {aside}"]
    hint = "--fresh sets it aside and starts over"
    try:
        saved = state_file.load()
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror or exc}")
    except StateDocumentError as exc:
        fail(f"{path}: {exc} ({hint})")
    if saved is None:
        return None, []
    try:
        fitted, changes = fit_to_config(saved, config)
    except StateConflictError as exc:
        fail(f"{config_file}: {exc}, as saved in {path} ({hint}, without them)")
    rides = fitted.service.rides
    ahead = sum(1 for ride in rides.values() if ride.dropoff_at is None)
    return fitted, [
        *(f"{path}: {change}" for change in changes),
        f"restored {len(rides)} rides ({ahead} not yet dropped off), "
        f"{len(fitted.service.result.routes)} shuttles from {path}",
    ]


def _service_config(path: Path) -> MobilityServiceConfig:
    return read_yaml_config(path, MobilityServiceConfig)
