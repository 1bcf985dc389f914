"""A site's shuttle service as configured (``hinode mobility run CONFIG``): shuttles, booked rides,
travel model, timeouts."""

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from cloud.mobility._geo import TravelModel
from cloud.mobility._progress import ARRIVAL_RADIUS_M
from cloud.mobility._routes import RideRequest
from messages.ids import Identifier
from messages.topics import TopicKind, subscription

Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Position = tuple[Annotated[float, Field(ge=-90, le=90)], Annotated[float, Field(ge=-180, le=180)]]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class ServiceShuttle(_Model):
    """A shuttle of the fleet: its vehicle id, the gateway it reports through, where it starts."""

    id: Identifier
    gateway: Identifier
    position: Position
    capacity: Annotated[int, Field(ge=1, le=100)]


class ServiceRide(_Model):
    """A ride booked ahead, requested when the service starts."""

    id: Ident
    pickup: Position
    dropoff: Position
    passengers: Annotated[int, Field(ge=1, le=100)] = 1
    earliest_pickup: AwareDatetime
    latest_dropoff: AwareDatetime
    max_ride_minutes: Annotated[float, Field(gt=0, le=600)] | None = None

    def request(self) -> RideRequest:
        return RideRequest(
            self.id,
            self.pickup,
            self.dropoff,
            self.passengers,
            self.earliest_pickup.timestamp(),
            self.latest_dropoff.timestamp(),
            None if self.max_ride_minutes is None else self.max_ride_minutes * 60,
        )


class MobilityServiceConfig(_Model):
    """One site's shuttle service (``hinode mobility run CONFIG``)."""

    site: Identifier
    speed_kmh: Annotated[float, Field(gt=0, le=6)] = 5.0
    detour_factor: Annotated[float, Field(ge=1, le=5)] = 1.3
    dwell_s: Annotated[float, Field(ge=0, le=600)] = 20.0
    arrival_radius_m: Annotated[float, Field(gt=0, le=500)] = ARRIVAL_RADIUS_M
    #: A route command older than this is refused by the gateway (the plan has moved on).
    command_ttl_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    #: A route command with no ``accepted`` within this long is sent again.
    resend_after_s: Annotated[float, Field(gt=0, le=3600)] = 15.0
    #: Each further attempt at the same route waits twice as long, up to this.
    max_resend_after_s: Annotated[float, Field(gt=0, le=86_400)] = 300.0
    interval_s: Annotated[float, Field(gt=0, le=60)] = 1.0
    reoptimise_every_s: Annotated[float, Field(gt=0)] = 300.0
    shuttles: Annotated[list[ServiceShuttle], Field(min_length=1, max_length=1000)]
    rides: Annotated[list[ServiceRide], Field(max_length=10_000)] = []

    @model_validator(mode="after")
    def _unique_shuttles(self) -> "MobilityServiceConfig":
        ids = [shuttle.id for shuttle in self.shuttles]
        if len(set(ids)) != len(ids):
            msg = "shuttle ids must be unique"
            raise ValueError(msg)
        return self

    @property
    def travel(self) -> TravelModel:
        return TravelModel(self.speed_kmh, self.detour_factor, self.dwell_s)

    @property
    def position_filter(self) -> str:
        return subscription(TopicKind.POSITION, site=self.site)

    @property
    def cmd_result_filter(self) -> str:
        return subscription(TopicKind.CMD_RESULT, site=self.site)
