"""``hinode mobility fleet``: a real scooter fleet's GBFS 3.0 and MDS 2.0 feeds, from its reports.

The scooters report through their gateways like every vehicle (``position/{vehicle}``: GNSS fixes,
battery and lock). The command follows a site's positions over MQTT in a persistent session, turns
them into the fleet's MDS events and trips (:class:`ScooterTracker`) and serves the feeds with
:class:`FeedServer`, whose lock guards the fleet while a document is built.
"""

import asyncio
import logging
import secrets
import signal
import threading
from pathlib import Path
from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from cloud import BrokerTls
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
from messages import ConfigError, ContractError, PositionPayload, WallClock, decode, now_ms
from messages.ids import Identifier
from messages.topics import TopicKind, subscription

log = logging.getLogger(__name__)

Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Text = Annotated[str, Field(min_length=1, max_length=200)]
Position = tuple[Annotated[float, Field(ge=-90, le=90)], Annotated[float, Field(ge=-180, le=180)]]


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
    ca_file: CaFile = None,
    cert_file: CertFile = None,
    key_file: KeyFile = None,
) -> None:
    """Serve a site's scooter fleet as GBFS 3.0 and MDS 2.0 feeds, from the scooters' reports.

    Follows position/{vehicle} of the site's gateways (a persistent session: reports sent while
    the service was away arrive when it is back). A configured scooter joins the fleet with its
    first fix and battery reading; unlocking it starts a trip, locking it again ends the trip.
    GBFS is public; MDS wants an agency's bearer token from --token-file (without: open to
    anyone, a warning says so). Runs until SIGINT or SIGTERM. The fleet lives in memory: a
    restarted service starts a new ledger, and the public GBFS vehicle ids change.
    """
    tokens = token_store(token_file)
    tls = broker_tls(ca_file, cert_file, key_file)
    config = _fleet_config(config_file)
    try:
        BrokerAddress.parse(broker)
    except ConfigError as exc:
        fail(f"--broker: {exc}")
    logs.configure(level="info")
    fleet = config.fleet(secrets.token_bytes(32))
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
