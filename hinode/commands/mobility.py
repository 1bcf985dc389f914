"""``hinode mobility``: shuttle dispatch, scooter feeds and rebalancing."""

import asyncio
import contextlib
import heapq
import itertools
import json
import logging
import os
import random
import signal
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from cloud import BrokerTls
from cloud.mobility import (
    JST,
    DispatchInput,
    DispatchInputError,
    FeedServer,
    FeedService,
    Hub,
    LoopState,
    MobilityServiceConfig,
    NoRideZone,
    RebalanceInput,
    RebalancePlan,
    ScooterFleet,
    ScooterType,
    ShuttleServiceLoop,
    StateConflictError,
    StateDocumentError,
    SystemInfo,
    TokenFileError,
    TokenStore,
    Van,
    create_booking_app,
    decode_state,
    demand_profile,
    describe_validation_error,
    dispatch,
    dispatch_document,
    distance_m,
    encode_state,
    fit_to_config,
    new_bearer_token,
    plan_rebalancing,
    reoptimise,
    report_document,
    token_file_line,
    valid_caller_name,
)
from edge.gnss import GnssReceiver, NoFix, ReceiverStats, SerialNmeaPort
from hinode import logs
from hinode.commands._broker_tls import CaFile, CertFile, KeyFile, broker_tls
from hinode.commands._errors import fail
from hinode.energy.charging import PahoCommands
from messages import ConfigError, Fix, TransportError, WallClock
from simulators.vehicles import (
    NmeaPty,
    city_roads,
    drive_receiver,
    scooter_at,
    scooter_trips,
    shuttle_at,
)

app = typer.Typer(no_args_is_help=True)
log = logging.getLogger(__name__)


@app.callback()
def mobility() -> None:
    """Shuttle ride dispatch, scooter fleet feeds (MDS 2.0, GBFS 3.0) and rebalancing."""


JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror or exc}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")


def _jst(instant: str) -> str:
    """People read Japan time; the JSON keeps UTC."""
    return f"{datetime.fromisoformat(instant).astimezone(JST):%m-%d %H:%M}"


def _print_json(document: object) -> None:
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


@app.command("dispatch")
def dispatch_command(
    input_file: Annotated[
        Path, typer.Argument(metavar="INPUT.json", help="now, speed, shuttles and ride requests.")
    ],
    as_json: JsonFlag = False,
    batch: Annotated[
        bool,
        typer.Option(
            "--batch/--no-batch",
            help="After inserting the new requests, re-optimise the whole plan (promises kept).",
        ),
    ] = False,
    budget_s: Annotated[
        float, typer.Option("--budget-s", min=0.0, help="Time budget of --batch, seconds.")
    ] = 5.0,
) -> None:
    """Assign ride requests to shuttles: routes with ETAs, refusals with reason and alternative."""
    try:
        document = DispatchInput.model_validate(_read_json(input_file))
    except ValidationError as exc:
        fail(describe_validation_error(exc))
    try:
        connections = document.connections()
        result = dispatch(document.problem())
    except DispatchInputError as exc:
        fail(str(exc))
    if batch:
        result = reoptimise(result, time_budget_s=budget_s)
    output = dispatch_document(result, connections)
    if as_json:
        _print_json(output)
        return
    console = Console()
    table = Table(title=f"Shuttle dispatch at {_jst(document.now.isoformat())} JST")
    for column in ("request", "shuttle", "pickup", "drop-off"):
        table.add_column(column)
    for row in output["assignments"]:
        pickup = _jst(row["pickup_eta"]) if row["pickup_eta"] else "aboard"
        table.add_row(row["request"], row["shuttle"], pickup, _jst(row["dropoff_eta"]))
    console.print(table)
    for row in output["unassigned"]:
        line = f"refused {row['request']}: {row['reason']}"
        if row["alternative"]:
            alt = row["alternative"]
            line += (
                f"; earliest alternative: pickup from {_jst(alt['earliest_pickup'])}"
                f" (shuttle {alt['shuttle']}, drop-off {_jst(alt['dropoff_eta'])})"
            )
        console.print(line, markup=False)


# --- scooters: a simulated fleet around the station -----------------------------------------

#: Parking hubs at these road nodes: (node, capacity).
HUB_NODES = (
    ("station", 24),
    ("station-south", 16),
    ("bus-stop", 10),
    ("office-1", 12),
    ("factory-gate", 12),
    ("east-2", 10),
    ("city-hall", 10),
    ("estate-gate", 10),
    ("library", 8),
)
SCOOTER_TYPE = ScooterType("kickboard-s1", "Hinode kickboard", max_range_m=40_000)
DRAIN_PCT_PER_KM = 2.5
_PICK_RADIUS_M = 300.0


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class ScooterCity:
    """A simulated scooter fleet living through simulated trips; ``advance_to`` moves it on.

    Trips, mid-trip telemetry, trip ends and the night crew's battery swaps (04:00 JST) happen
    in time order, so the ledger's events are chronological.
    """

    def __init__(self, start: datetime, *, days: int, scooters: int = 40, seed: int = 7) -> None:
        roads = city_roads()
        hubs = tuple(
            Hub(
                f"hub-{node}",
                roads.nodes[node].name,
                (roads.nodes[node].lat, roads.nodes[node].lon),
                capacity,
            )
            for node, capacity in HUB_NODES
        )
        self.fleet = ScooterFleet(
            provider_id=str(uuid.uuid5(uuid.NAMESPACE_DNS, "scooters.hinode.example")),
            id_secret=b"hinode-demo-rotation-secret",
            types=(SCOOTER_TYPE,),
            hubs=hubs,
        )
        rng = random.Random(seed)
        start = start.astimezone(JST).replace(minute=0, second=0, microsecond=0)
        for index in range(scooters):
            hub = hubs[index % len(hubs)]
            self.fleet.deploy(
                f"{uuid.uuid5(uuid.NAMESPACE_DNS, f'scooter-{index}.hinode.example')}",
                f"HN-{index + 1:04d}",
                SCOOTER_TYPE.vehicle_type_id,
                hub.position,
                rng.uniform(50, 100),
                _ms(start),
            )
        self._trips = iter(scooter_trips(roads, start, days * 24, seed=seed))
        self._next_trip = next(self._trips, None)
        self._next_swap = start.replace(hour=4) + timedelta(days=1)
        #: (when, order, action, device, position, battery): telemetry and trip ends to come
        self._pending: list[tuple[int, int, str, str, tuple[float, float], float]] = []
        self._order = 0
        self.unserved_trips = 0

    def advance_to(self, moment: datetime) -> None:
        until = _ms(moment)
        while True:
            candidates = []
            if self._pending:
                candidates.append(self._pending[0][0])
            if self._next_trip is not None:
                candidates.append(_ms(self._next_trip.start))
            candidates.append(_ms(self._next_swap))
            when = min(candidates)
            if when > until:
                return
            if self._pending and self._pending[0][0] == when:
                _, _, action, device, position, battery = heapq.heappop(self._pending)
                if action == "end":
                    self.fleet.end_trip(device, when, position, battery)
                else:
                    self.fleet.report(device, when, position, 15 / 3.6, None, battery)
            elif when == _ms(self._next_swap):
                self._swap_flat_batteries(when)
            else:
                self._start_trip()

    def _swap_flat_batteries(self, when: int) -> None:
        for device, scooter in self.fleet.scooters.items():
            if scooter.state == "non_operational":
                self.fleet.record(device, ("battery_charged",), when, scooter.position, 100)
        self._next_swap += timedelta(days=1)

    def _start_trip(self) -> None:
        trip = self._next_trip
        assert trip is not None
        self._next_trip = next(self._trips, None)
        rider = _nearest_rentable(self.fleet, trip.path[0])
        if rider is None:
            self.unserved_trips += 1  # no scooter near: what rebalancing should learn about
            return
        scooter = self.fleet.scooters[rider]
        self.fleet.start_trip(rider, _ms(trip.start))
        battery = max(0.0, scooter.battery_pct - DRAIN_PCT_PER_KM * trip.distance_m / 1000)
        halfway = _ms(trip.start + (trip.end - trip.start) / 2)
        middle = trip.path[len(trip.path) // 2]
        for when, action, position, level in (
            (halfway, "telemetry", middle, (scooter.battery_pct + battery) / 2),
            (_ms(trip.end), "end", trip.path[-1], battery),
        ):
            self._order += 1
            heapq.heappush(self._pending, (when, self._order, action, rider, position, level))


def scooter_city(
    at: datetime, *, days: int = 28, scooters: int = 40, seed: int = 7
) -> ScooterFleet:
    """The simulated fleet as it stands at *at*, after *days* of simulated trips."""
    city = ScooterCity(at - timedelta(days=days), days=days + 1, scooters=scooters, seed=seed)
    city.advance_to(at)
    return city.fleet


def _nearest_rentable(fleet: ScooterFleet, position: tuple[float, float]) -> str | None:
    best: tuple[float, str] | None = None
    for device, scooter in fleet.scooters.items():
        if scooter.state != "available" or scooter.battery_pct < 20:
            continue
        gap = distance_m(scooter.position, position)
        if gap <= _PICK_RADIUS_M and (best is None or gap < best[0]):
            best = (gap, device)
    return None if best is None else best[1]


def _instant(value: str | None, option: str) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value!r} is not an ISO 8601 date and time")
    if moment.tzinfo is None:
        fail(f"{option}: {value!r} needs a UTC offset, e.g. +09:00")
    return moment


SYSTEM = SystemInfo(
    system_id="hinode-scooters",
    name="Hinode Scooters",
    operator="Hinode City Mobility",
    feed_contact_email="mobility@hinode.example",
)
NO_RIDE_ZONES = (
    NoRideZone(
        "Station concourse",
        ((36.5874, 136.6292), (36.5874, 136.6300), (36.5868, 136.6300), (36.5868, 136.6292)),
    ),
)


TokenFileOption = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        help="Callers' tokens, NAME:sha256:HEX lines (`hinode mobility token`); without: open.",
    ),
]


def _token_store(path: Path | None) -> TokenStore | None:
    if path is None:
        return None
    try:
        return TokenStore.load(path)
    except TokenFileError as exc:
        fail(f"--token-file: {exc}")


@app.command("serve")
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
    tokens = _token_store(token_file)
    moment = _instant(at, "--at")
    history_days = 28
    city = ScooterCity(moment - timedelta(days=history_days), days=history_days + 2)
    city.advance_to(moment)
    started = time.monotonic()

    def simulated_now() -> datetime:
        return moment + timedelta(seconds=(time.monotonic() - started) * speed)

    lock = threading.Lock()
    service = FeedService(city.fleet, SYSTEM, "", NO_RIDE_ZONES, tokens)
    try:
        server = FeedServer(service, lambda: _ms(simulated_now()), host=host, port=port, lock=lock)
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


@app.command("token")
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


class JsonlServiceLog:
    """The service's decisions and the riders' stops, one JSON line each, flushed as written."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")

    def record(self, entry: dict[str, Any]) -> None:
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class StateFile:
    """The shuttle service's state in one JSON file, replaced whole on every save: written to a
    temporary file beside it, flushed and synced, then renamed over it, so that a crash leaves
    the old state or the new one, never half of one."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> LoopState | None:
        """The saved state; None if there is none. Raises ``OSError`` or
        :class:`StateDocumentError`."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError as exc:
            raise StateDocumentError("", f"not UTF-8 text: {exc.reason}") from None
        return decode_state(text)

    def save(self, state: LoopState) -> None:
        text = encode_state(state)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(
            prefix=f".{self.path.stem}.", suffix=".tmp", dir=self.path.parent
        )
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            Path(temporary).replace(self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
            raise
        # The rename itself survives a power cut only once the directory is synced.
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def move_aside(self, at: datetime) -> Path | None:
        """Rename the file to ``NAME.YYYYmmddTHHMMSSZ.json`` beside it; None if there is none."""
        if not self.path.exists():
            return None
        stamp = f"{at.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        aside = self.path.with_name(f"{self.path.stem}.{stamp}{self.path.suffix}")
        number = 1
        while aside.exists():
            number += 1
            aside = self.path.with_name(f"{self.path.stem}.{stamp}-{number}{self.path.suffix}")
        self.path.rename(aside)
        return aside


STATE_FILE = "mobility-state.json"


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
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror or exc}")
    except yaml.YAMLError as exc:
        fail(f"{path}: not valid YAML: {exc}")
    try:
        return MobilityServiceConfig.model_validate(document)
    except ValidationError as exc:
        fail(f"{path}: {describe_validation_error(exc)}")


@app.command("run")
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
    tokens = _token_store(token_file)
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


@app.command("rebalance")
def rebalance_command(
    at: Annotated[str, typer.Option("--at", help="When the van sets out (ISO 8601).")],
    as_json: JsonFlag = False,
    van_capacity: Annotated[int, typer.Option(min=1, help="Scooters the van carries.")] = 8,
    batteries: Annotated[int, typer.Option(min=0, help="Charged batteries aboard.")] = 10,
    stops: Annotated[int, typer.Option(min=1, help="Most stops in one round.")] = 12,
    horizon_h: Annotated[int, typer.Option(min=1, max=24, help="Hours of demand to cover.")] = 3,
    history_days: Annotated[
        int, typer.Option(min=1, max=365, help="Days of simulated trips (without --input).")
    ] = 28,
    input_file: Annotated[
        Path | None,
        typer.Option("--input", help="Hubs, scooters, trip history (and van) as JSON."),
    ] = None,
) -> None:
    """Plan the service van's moves and battery swaps at --at (default: the simulated fleet)."""
    moment = _instant(at, "--at")
    if input_file is not None:
        try:
            given = RebalanceInput.model_validate(_read_json(input_file))
        except ValidationError as exc:
            fail(describe_validation_error(exc))
        fleet = given.fleet()
        van = given.van_or(van_capacity, batteries, stops)
    else:
        fleet = scooter_city(moment, days=history_days)
        van = Van(fleet.hubs[0].position, van_capacity, batteries, stops)
    profile = demand_profile(fleet.trips, fleet.hubs, JST)
    plan = plan_rebalancing(fleet, profile, moment, van, horizon_h=horizon_h)
    document = rebalance_document(plan, fleet)
    if as_json:
        _print_json(document)
        return
    console = Console()
    table = Table(
        title=f"Scooter outlook {moment.astimezone(JST):%a %Y-%m-%d %H:%M} JST, next {horizon_h} h"
    )
    for column in (
        "zone",
        "expected starts",
        "expected ends",
        "rentable",
        "low battery",
        "unmet before",
        "unmet after",
    ):
        table.add_column(column, justify="left" if column == "zone" else "right")
    for zone in plan.zones:
        table.add_row(
            zone.zone,
            f"{zone.expected_starts:.1f}",
            f"{zone.expected_ends:.1f}",
            str(zone.rentable),
            str(zone.low_battery),
            f"{zone.unmet_before:.1f}",
            f"{zone.unmet_after:.1f}",
        )
    console.print(table)
    for number, action in enumerate(document["actions"], start=1):
        console.print(
            f"{number}. {action['action']} {len(action['vehicles'])} at {action['zone']}",
            markup=False,
        )
    console.print(
        f"expected unmet demand {plan.unmet_before:.1f} → {plan.unmet_after:.1f}; "
        f"van drives {plan.driving_m / 1000:.1f} km",
        markup=False,
    )


def rebalance_document(plan: RebalancePlan, fleet: ScooterFleet) -> dict[str, Any]:
    return {
        "actions": [
            {
                "action": action.kind,
                "zone": action.zone,
                "vehicles": [fleet.scooters[device].vehicle_id for device in action.vehicles],
                "van_load_after": action.load_after,
            }
            for action in plan.actions
        ],
        "zones": [
            {
                "zone": zone.zone,
                "expected_starts": zone.expected_starts,
                "expected_ends": zone.expected_ends,
                "rentable": zone.rentable,
                "low_battery": zone.low_battery,
                "unmet_before": zone.unmet_before,
                "unmet_after": zone.unmet_after,
            }
            for zone in plan.zones
        ],
        "unmet_before": round(plan.unmet_before, 2),
        "unmet_after": round(plan.unmet_after, 2),
        "van_driving_m": round(plan.driving_m),
    }


# --- GNSS: technician tools -----------------------------------------------------------------


@app.command("gnss")
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
        _print_json(
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


@app.command("simulate")
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
