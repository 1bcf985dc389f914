"""A site's scooter fleet as configured (``hinode mobility fleet CONFIG``), pure."""

from pathlib import Path
from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from cloud.mobility._fleet import Hub, ScooterFleet, ScooterType
from cloud.mobility._gbfs import NoRideZone, SystemInfo
from cloud.mobility._scooter_tracker import TrackedScooter
from messages.ids import Identifier

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
