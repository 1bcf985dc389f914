"""The ``hinode mobility rebalance --input`` document: hubs, scooters now, trip history, van."""

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from cloud.mobility._fleet import Hub, MdsTrip, Scooter, ScooterFleet, ScooterType
from cloud.mobility._rebalance import Van
from cloud.mobility._scooter_states import VehicleStatus

Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Position = tuple[Latitude, Longitude]
Ident = Annotated[str, Field(min_length=1, max_length=128)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class HubIn(_Model):
    id: Ident
    name: Annotated[str, Field(max_length=200)] = ""
    position: Position
    capacity: Annotated[int, Field(ge=0, le=1000)]
    radius_m: Annotated[float, Field(gt=0, le=1000)] = 60.0


class ScooterIn(_Model):
    device_id: Ident
    vehicle_id: Ident | None = None
    state: VehicleStatus
    battery_pct: Annotated[float, Field(ge=0, le=100)]
    position: Position


class TripIn(_Model):
    start_time: AwareDatetime
    end_time: AwareDatetime
    start: Position
    end: Position


class VanIn(_Model):
    position: Position
    capacity: Annotated[int, Field(ge=1, le=100)] = 8
    batteries: Annotated[int, Field(ge=0, le=500)] = 10
    max_stops: Annotated[int, Field(ge=1, le=200)] = 12


class RebalanceInput(_Model):
    hubs: Annotated[list[HubIn], Field(min_length=1, max_length=1000)]
    scooters: Annotated[list[ScooterIn], Field(max_length=100_000)]
    trips: Annotated[list[TripIn], Field(max_length=1_000_000)]
    van: VanIn | None = None

    def fleet(self) -> ScooterFleet:
        fleet = ScooterFleet(
            "rebalance-input",
            b"",
            (ScooterType("scooter", "scooter"),),
            tuple(Hub(h.id, h.name or h.id, h.position, h.capacity, h.radius_m) for h in self.hubs),
        )
        for scooter in self.scooters:
            fleet.scooters[scooter.device_id] = Scooter(
                scooter.device_id,
                scooter.vehicle_id or scooter.device_id,
                "scooter",
                scooter.state,
                scooter.battery_pct,
                scooter.position,
            )
        fleet.trips.extend(
            MdsTrip(
                f"trip-{index}",
                "",
                int(trip.start_time.timestamp() * 1000),
                int(trip.end_time.timestamp() * 1000),
                trip.start,
                trip.end,
                0.0,
            )
            for index, trip in enumerate(self.trips)
        )
        return fleet

    def van_or(self, capacity: int, batteries: int, max_stops: int) -> Van:
        """The document's van, or one at the first hub with the command line's numbers."""
        if self.van is not None:
            return Van(self.van.position, self.van.capacity, self.van.batteries, self.van.max_stops)
        return Van(self.hubs[0].position, capacity, batteries, max_stops)
