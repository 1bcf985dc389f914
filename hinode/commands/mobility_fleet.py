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
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from cloud import BrokerTls, ReadingQuery, StoredReading, TimeSeriesStore, open_timeseries
from cloud._mqtt import BrokerAddress, Inbound, Subscriber
from cloud.mobility import (
    FeedServer,
    FeedService,
    Hub,
    NoRideZone,
    ScooterFleet,
    ScooterTracker,
    ScooterType,
    SystemInfo,
    TrackedScooter,
    describe_validation_error,
)
from hinode import logs
from hinode.commands._broker_tls import CaFile, CertFile, KeyFile, broker_tls
from hinode.commands._errors import fail
from hinode.commands._mobility_options import TokenFileOption, token_store
from messages import (
    ConfigError,
    ContractError,
    HinodeError,
    PositionPayload,
    WallClock,
    decode,
    now_ms,
)
from messages.ids import Identifier
from messages.topics import TopicKind, subscription

log = logging.getLogger(__name__)

Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Text = Annotated[str, Field(min_length=1, max_length=200)]
Position = tuple[Annotated[float, Field(ge=-90, le=90)], Annotated[float, Field(ge=-180, le=180)]]

#: The replay of stored fixes at start gives up after this long (the feeds would be incomplete).
REPLAY_TIMEOUT_S = 300.0
#: A long replay says how far it got this often.
REPLAY_PROGRESS_S = 10.0
#: Bytes of a new GBFS id secret; a given one must hold at least half as many.
ID_SECRET_BYTES = 32


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class FleetSystem(_Model):
    """The GBFS system: who runs it and whom to write to."""

    id: Ident
    name: Text
    operator: Text
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
    timezone: str = "Asia/Tokyo"
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] = "ja"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"{value!r} is not an IANA time zone, e.g. Asia/Tokyo"
            raise ValueError(msg) from None
        return value


class FleetVehicleType(_Model):
    id: Ident
    name: Text
    form_factor: Literal["scooter_standing", "scooter_seated", "bicycle", "cargo_bicycle"] = (
        "scooter_standing"
    )
    max_range_m: Annotated[float, Field(gt=0, le=500_000)] = 40_000.0
    max_speed_kmh: Annotated[float, Field(gt=0, le=100)] = 20.0


class FleetHub(_Model):
    """A parking hub (a GBFS virtual station)."""

    id: Ident
    name: Text
    position: Position
    capacity: Annotated[int, Field(ge=1, le=1000)]
    radius_m: Annotated[float, Field(gt=0, le=1000)] = 60.0


class FleetNoRideZone(_Model):
    """A polygon where rides may not end (or start, or pass)."""

    name: Text
    ring: Annotated[list[Position], Field(min_length=3, max_length=1000)]
    ride_start_allowed: bool = False
    ride_end_allowed: bool = False
    ride_through_allowed: bool = True
    maximum_speed_kph: Annotated[int, Field(ge=1, le=100)] | None = 6


class FleetScooter(_Model):
    """One scooter: its MDS device UUID, the label on it (``vehicle_id``) and its type."""

    device_id: UUID
    vehicle_id: Annotated[str, Field(min_length=1, max_length=64)]
    type: Ident


class FleetConfig(_Model):
    """A site's scooter fleet (``hinode mobility fleet CONFIG``)."""

    site: Identifier
    provider_id: UUID
    system: FleetSystem
    vehicle_types: Annotated[list[FleetVehicleType], Field(min_length=1, max_length=100)]
    hubs: Annotated[list[FleetHub], Field(max_length=10_000)] = []
    no_ride_zones: Annotated[list[FleetNoRideZone], Field(max_length=1000)] = []
    #: Vehicle id as on the wire (``position/{vehicle}``) → the scooter.
    scooters: Annotated[dict[Identifier, FleetScooter], Field(min_length=1, max_length=100_000)]
    #: The secret behind the public GBFS vehicle ids (relative: to the config file's directory).
    id_secret_file: Path | None = None

    @field_validator("vehicle_types")
    @classmethod
    def _unique_types(cls, value: list[FleetVehicleType]) -> list[FleetVehicleType]:
        _unique("vehicle type ids", [kind.id for kind in value])
        return value

    @field_validator("hubs")
    @classmethod
    def _unique_hubs(cls, value: list[FleetHub]) -> list[FleetHub]:
        _unique("hub ids", [hub.id for hub in value])
        return value

    @field_validator("scooters")
    @classmethod
    def _known_types_and_unique_devices(
        cls, value: dict[str, FleetScooter], info: ValidationInfo
    ) -> dict[str, FleetScooter]:
        types = {kind.id for kind in info.data.get("vehicle_types", ())}
        for vehicle, scooter in value.items():
            if types and scooter.type not in types:
                msg = f"{vehicle}: type {scooter.type!r} is not one of vehicle_types"
                raise ValueError(msg)
        _unique("device_ids", [str(scooter.device_id) for scooter in value.values()])
        _unique("vehicle_ids", [scooter.vehicle_id for scooter in value.values()])
        return value

    def system_info(self) -> SystemInfo:
        system = self.system
        return SystemInfo(
            system.id, system.name, system.operator, system.email, system.language, system.timezone
        )

    def fleet(self, id_secret: bytes) -> ScooterFleet:
        return ScooterFleet(
            provider_id=str(self.provider_id),
            id_secret=id_secret,
            types=tuple(
                ScooterType(
                    kind.id,
                    kind.name,
                    form_factor=kind.form_factor,
                    max_range_m=kind.max_range_m,
                    max_speed_kmh=kind.max_speed_kmh,
                )
                for kind in self.vehicle_types
            ),
            hubs=tuple(
                Hub(hub.id, hub.name, hub.position, hub.capacity, hub.radius_m) for hub in self.hubs
            ),
        )

    def tracked(self) -> dict[str, TrackedScooter]:
        return {
            vehicle: TrackedScooter(str(scooter.device_id), scooter.vehicle_id, scooter.type)
            for vehicle, scooter in self.scooters.items()
        }

    def zones(self) -> tuple[NoRideZone, ...]:
        return tuple(
            NoRideZone(
                zone.name,
                tuple(zone.ring),
                zone.ride_start_allowed,
                zone.ride_end_allowed,
                zone.ride_through_allowed,
                zone.maximum_speed_kph,
            )
            for zone in self.no_ride_zones
        )


def _unique(what: str, values: list[str]) -> None:
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        msg = f"{what} must be unique; repeated: {', '.join(repeated)}"
        raise ValueError(msg)


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
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror or exc}")
    except yaml.YAMLError as exc:
        fail(f"{path}: not valid YAML: {exc}")
    try:
        return FleetConfig.model_validate(document)
    except ValidationError as exc:
        fail(f"{path}: {describe_validation_error(exc)}")


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


@dataclass(frozen=True, slots=True)
class StoredFix:
    """One stored fix of a vehicle with the state stored at its instant (quantity → value)."""

    vehicle: str
    ts: int
    values: dict[str, float]


def stored_fixes(
    rows: Iterable[StoredReading], site: str, vehicles: Collection[str]
) -> list[StoredFix]:
    """The stored position readings of *vehicles* at *site* as fixes, oldest first.

    The collector stores each field of a fix as a reading at the fix's instant, and the vehicle
    state of a message at the instant of its newest fix: the readings of one vehicle at one
    instant are one fix and its state.
    """
    by_fix: dict[tuple[int, str], dict[str, float]] = {}
    for row in rows:
        if row.kind == "position" and row.site == site and row.device in vehicles:
            by_fix.setdefault((row.ts, row.device), {})[row.quantity] = row.value
    return [StoredFix(vehicle, ts, values) for (ts, vehicle), values in sorted(by_fix.items())]


def replay(tracker: ScooterTracker, fixes: Iterable[StoredFix]) -> int:
    """Apply stored *fixes* (oldest first) to *tracker* as if they had just arrived; how many."""
    count = 0
    for fix in fixes:
        values = fix.values
        lat, lon = values.get("lat_deg"), values.get("lon_deg")
        locked = values.get("locked")
        tracker.fix(
            fix.vehicle,
            fix.ts,
            None if lat is None or lon is None else (lat, lon),
            locked=None if locked is None else locked >= 0.5,
            battery_pct=values.get("soc_pct"),
            speed_mps=values.get("speed_mps"),
            heading_deg=values.get("heading_deg"),
        )
        count += 1
    return count


def _replay_store(where: str, site: str, tracker: ScooterTracker, since_ms: int) -> None:
    """Rebuild the fleet from the fixes stored since *since_ms*, before any message arrives."""
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
