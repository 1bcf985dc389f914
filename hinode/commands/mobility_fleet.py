"""``hinode mobility fleet``: a real scooter fleet's GBFS 3.0 and MDS 2.0 feeds, from its reports.

The scooters report through their gateways like every vehicle (``position/{vehicle}``: GNSS fixes,
battery and lock). The command follows a site's positions over MQTT in a persistent session, turns
them into the fleet's MDS events and trips (:class:`ScooterTracker`) and serves the feeds with
:class:`FeedServer`, whose lock guards the fleet while a document is built. At start it replays
the fixes the collector stored (the time-series store), so a restart loses no trip or event.
"""

import asyncio
import logging
import os
import secrets
import signal
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from cloud import BrokerTls, ReadingQuery, StoredReading, TimeSeriesStore
from cloud._mqtt import BrokerAddress, Inbound, Subscriber
from cloud.mobility import (
    FeedServer,
    FeedService,
    FleetConfig,
    ScooterTracker,
    StoredFix,
    replay,
    stored_fixes,
)
from hinode import logs
from hinode.commands._broker_tls import CaFile, CertFile, KeyFile, broker_tls
from hinode.commands._errors import fail
from hinode.commands._mobility_options import TokenFileOption, read_yaml_config, token_store
from messages import (
    ConfigError,
    ContractError,
    HinodeError,
    PositionPayload,
    WallClock,
    decode,
    now_ms,
)
from messages.topics import TopicKind, subscription

log = logging.getLogger(__name__)

#: The replay of stored fixes at start gives up after this long (the feeds would be incomplete).
REPLAY_TIMEOUT_S = 300.0
#: A long replay says how far it got this often.
REPLAY_PROGRESS_S = 10.0
#: Bytes of a new GBFS id secret; a given one must hold at least half as many.
ID_SECRET_BYTES = 32


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``hinode mobility`` group."""
    app.command("fleet")(fleet_command)


def fleet_command(
    config_file: Annotated[
        Path,
        typer.Argument(
            metavar="CONFIG.yaml", help="The site, its scooters, vehicle types, hubs and zones."
        ),
    ],
    broker: Annotated[str, typer.Option("--broker", help="mqtt://HOST:PORT of the broker.")],
    http_host: Annotated[
        str, typer.Option("--http-host", help="Address the feeds listen on.")
    ] = "127.0.0.1",
    http_port: Annotated[
        int, typer.Option("--http-port", min=0, max=65535, help="Feeds port (0: any free port).")
    ] = 8490,
    token_file: TokenFileOption = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Data directory of the collector's stores (the replay)."),
    ] = None,
    store_url: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Time-series store URL instead (sqlite:///PATH or influx://HOST:PORT?…).",
        ),
    ] = None,
    history_days: Annotated[
        int,
        typer.Option(
            "--history-days", min=1, max=366, help="Days of stored fixes replayed at start."
        ),
    ] = 14,
    id_secret_file: Annotated[
        Path | None,
        typer.Option(
            "--id-secret-file",
            help="File of the secret behind the GBFS vehicle ids (created if missing).",
        ),
    ] = None,
    ca_file: CaFile = None,
    cert_file: CertFile = None,
    key_file: KeyFile = None,
) -> None:
    """Serve a site's scooter fleet as GBFS 3.0 and MDS 2.0 feeds, from the scooters' reports.

    Follows position/{vehicle} of the site's gateways (a persistent session: reports sent while
    the service was away arrive when it is back). A configured scooter joins the fleet with its
    first fix and battery reading; unlocking it starts a trip, locking it again ends the trip.
    GBFS is public; MDS wants an agency's bearer token from --token-file (without: open to
    anyone, a warning says so). Runs until SIGINT or SIGTERM.

    With the collector's store (--data-dir or --store) the fleet starts from the fixes stored in
    the last --history-days, so past trips, events and telemetry survive a restart. With
    --id-secret-file (or id_secret_file in the config) the public GBFS vehicle ids do too;
    without it they change at each start.
    """
    tokens = token_store(token_file)
    tls = broker_tls(ca_file, cert_file, key_file)
    config = _fleet_config(config_file)
    try:
        BrokerAddress.parse(broker)
    except ConfigError as exc:
        fail(f"--broker: {exc}")
    if data_dir is not None and store_url is not None:
        fail("--data-dir or --store: give at most one")
    if id_secret_file is None and config.id_secret_file is not None:
        id_secret_file = config_file.parent / config.id_secret_file
    id_secret = None if id_secret_file is None else _id_secret(id_secret_file)
    logs.configure(level="info")
    if id_secret is None:
        log.warning(
            "no --id-secret-file: a fresh secret, so the GBFS vehicle ids change at restart"
        )
        id_secret = secrets.token_bytes(ID_SECRET_BYTES)
    fleet = config.fleet(id_secret)
    tracker = ScooterTracker(fleet, config.tracked())
    lock = threading.Lock()
    service = FeedService(fleet, config.system_info(), "", config.zones(), tokens)
    clock = WallClock()
    try:
        server = FeedServer(
            service, lambda: now_ms(clock), host=http_host, port=http_port, lock=lock
        )
    except OSError as exc:
        fail(f"--http-port: cannot listen on {http_host}:{http_port}: {exc.strerror or exc}")
    service.base_url = server.url
    if data_dir is not None or store_url is not None:
        since_ms = now_ms(clock) - history_days * 86_400_000
        _replay_store(store_url or str(data_dir), config.site, tracker, since_ms)
    with server:
        for name, url in service.urls().items():
            typer.echo(f"{name}: {url}", err=True)
        try:
            asyncio.run(_follow(config.site, broker, tracker, lock, tls))
        except ConfigError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            pass
    typer.echo(
        f"{len(fleet.scooters)} scooters in the fleet, {len(fleet.trips)} trips, "
        f"{tracker.fixes_applied} fixes applied ({tracker.fixes_ignored} stale ignored)"
    )


async def _follow(
    site: str, broker: str, tracker: ScooterTracker, lock: threading.Lock, tls: BrokerTls | None
) -> None:
    """Feed the site's position messages to *tracker* until SIGINT or SIGTERM."""

    def inbound(message: Inbound) -> None:
        try:
            payload = decode(message.topic, message.payload).payload
        except ContractError as exc:
            log.warning(
                "invalid position message", extra={"topic": message.topic, "reason": str(exc)}
            )
        else:
            if isinstance(payload, PositionPayload):
                try:
                    with lock:
                        tracker.position(payload)
                except ValueError:
                    # One report the fleet cannot take must not stop the feeds.
                    log.exception("position not applied", extra={"topic": message.topic})
        subscriber.ack(message)

    subscriber = Subscriber(
        broker,
        client_id=f"hinode-fleet-{site}"[:64],
        data_filters=(),
        plain_filters=(subscription(TopicKind.POSITION, site=site),),
        shared_group=None,
        protocol="auto",
        on_message=inbound,
        tls=tls,
    )
    stopping = asyncio.Event()
    events = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        events.add_signal_handler(signum, stopping.set)
    try:
        async with asyncio.TaskGroup() as tasks:
            listening = tasks.create_task(subscriber.run(), name="fleet-positions")
            await stopping.wait()
            await subscriber.close()
            listening.cancel()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            events.remove_signal_handler(signum)


def _fleet_config(path: Path) -> FleetConfig:
    return read_yaml_config(path, FleetConfig)


def _id_secret(path: Path) -> bytes:
    """The secret in *path* (hex), or a new one written there (0600) if there is no file."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        fail(f"--id-secret-file {path}: cannot create: {exc.strerror or exc}")
    else:
        secret = secrets.token_bytes(ID_SECRET_BYTES)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(secret.hex() + "\n")
        return secret
    try:
        text = path.read_text(encoding="ascii").strip()
        secret = bytes.fromhex(text)
    except OSError as exc:
        fail(f"--id-secret-file {path}: cannot read: {exc.strerror or exc}")
    except ValueError:
        fail(f"--id-secret-file {path}: expected the secret as hex digits on one line")
    if len(secret) < ID_SECRET_BYTES // 2:
        fail(
            f"--id-secret-file {path}: the secret is {len(secret)} bytes, "
            f"at least {ID_SECRET_BYTES // 2} wanted"
        )
    return secret


def _replay_store(where: str, site: str, tracker: ScooterTracker, since_ms: int) -> None:
    """Rebuild the fleet from the fixes stored since *since_ms*, before any message arrives."""
    # Here, not at the top: the stores (SQLAlchemy, the InfluxDB client) load only for a replay.
    from cloud import open_timeseries  # noqa: PLC0415

    try:
        store = open_timeseries(where)
    except ConfigError as exc:
        fail(str(exc))
    except HinodeError as exc:
        fail(str(exc), code=1)
    started = time.monotonic()
    try:
        fixes = _read_fixes(store, site, tracker, since_ms, started + REPLAY_TIMEOUT_S)
    except HinodeError as exc:
        fail(f"{store.url}: cannot replay the stored fixes: {exc}", code=1)
    except TimeoutError:
        fail(
            f"{store.url}: the stored fixes were not read within {REPLAY_TIMEOUT_S:.0f} s "
            "(fewer --history-days?)",
            code=1,
        )
    finally:
        store.close()
    last_said = time.monotonic()
    for done, fix in enumerate(fixes):
        try:
            replay(tracker, (fix,))
        except ValueError:
            # As for a live report: one fix the fleet cannot take must not stop the feeds.
            log.exception("stored fix not applied", extra={"vehicle": fix.vehicle, "ts": fix.ts})
        if time.monotonic() - last_said >= REPLAY_PROGRESS_S:
            last_said = time.monotonic()
            log.info("replayed %s of %s stored fixes", f"{done + 1:,}", f"{len(fixes):,}")
    log.info(
        "replayed %s fixes of %s scooters",
        f"{len(fixes):,}",
        f"{len(tracker.fleet.scooters):,}",
        extra={
            "store": store.url,
            "since_ms": since_ms,
            "trips": len(tracker.fleet.trips),
            "seconds": round(time.monotonic() - started, 1),
        },
    )


def _read_fixes(
    store: TimeSeriesStore, site: str, tracker: ScooterTracker, since_ms: int, deadline: float
) -> list[StoredFix]:
    """Every configured scooter's stored fixes since *since_ms*, oldest first across the fleet."""
    fixes: list[StoredFix] = []
    last_said = time.monotonic()
    for done, vehicle in enumerate(tracker.scooters):
        rows: list[StoredReading] = []
        for row in store.query(ReadingQuery(since=since_ms, device=vehicle)):
            rows.append(row)
            if len(rows) % 1000 == 0 and time.monotonic() > deadline:
                raise TimeoutError
        if time.monotonic() > deadline:
            raise TimeoutError
        fixes += stored_fixes(rows, site, (vehicle,))
        if time.monotonic() - last_said >= REPLAY_PROGRESS_S:
            last_said = time.monotonic()
            log.info(
                "read the stored fixes of %s of %s scooters",
                f"{done + 1:,}",
                f"{len(tracker.scooters):,}",
            )
    fixes.sort(key=lambda fix: (fix.ts, fix.vehicle))
    return fixes
