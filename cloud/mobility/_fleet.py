"""The scooter fleet ledger: vehicles, MDS events, trips and telemetry, driven by what happens.

Pure: every call takes the instant (epoch ms); identifiers are derived, not random, so a replay
gives the same feeds. The public GBFS ``vehicle_id`` is an HMAC of the device and its trip count
under a secret: it changes after every trip and cannot be linked back without the secret.
"""

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field

from cloud.mobility._geo import LatLon, distance_m
from cloud.mobility._scooter_states import EventType, VehicleStatus, next_state

_IDS = uuid.UUID("6f1d3c5e-2b7a-4f3e-9a51-4c8e2d7b9f10")
#: Events that say the vehicle did not report: their position is not a fix, so no telemetry.
_UNHEARD: frozenset[EventType] = frozenset({"comms_lost", "not_located"})
#: Below this charge a scooter that ends a trip is taken out of service until swapped.
BATTERY_LOW_PCT = 15.0


@dataclass(frozen=True, slots=True)
class ScooterType:
    vehicle_type_id: str
    name: str
    form_factor: str = "scooter_standing"
    propulsion_type: str = "electric"
    max_range_m: float = 40_000.0
    max_speed_kmh: float = 20.0


@dataclass(frozen=True, slots=True)
class Hub:
    """A parking hub (a GBFS virtual station), also a rebalancing zone."""

    id: str
    name: str
    position: LatLon
    capacity: int
    radius_m: float = 60.0


@dataclass(frozen=True, slots=True)
class MdsEvent:
    event_id: str
    device_id: str
    vehicle_state: VehicleStatus
    event_types: tuple[EventType, ...]
    timestamp: int
    position: LatLon
    battery_pct: float
    trip_id: str | None = None


@dataclass(frozen=True, slots=True)
class MdsTelemetry:
    telemetry_id: str
    device_id: str
    timestamp: int
    position: LatLon
    speed_mps: float | None
    heading_deg: float | None
    battery_pct: float
    trip_id: str | None = None


@dataclass(frozen=True, slots=True)
class MdsTrip:
    trip_id: str
    device_id: str
    start_time: int
    end_time: int
    start: LatLon
    end: LatLon
    distance_m: float


@dataclass(slots=True)
class Scooter:
    device_id: str
    vehicle_id: str  # the label on the vehicle, for the MDS agency
    vehicle_type_id: str
    state: VehicleStatus
    battery_pct: float
    position: LatLon
    last_event: MdsEvent | None = None
    last_telemetry: MdsTelemetry | None = None
    trips_completed: int = 0
    trip_id: str | None = None
    trip_start: tuple[int, LatLon] | None = None
    trip_distance_m: float = 0.0


@dataclass
class ScooterFleet:
    """One operator's scooters and everything MDS asks it to publish."""

    provider_id: str
    id_secret: bytes
    types: tuple[ScooterType, ...]
    hubs: tuple[Hub, ...] = ()
    scooters: dict[str, Scooter] = field(default_factory=dict)
    events: list[MdsEvent] = field(default_factory=list)
    trips: list[MdsTrip] = field(default_factory=list)
    telemetry: list[MdsTelemetry] = field(default_factory=list)

    def gbfs_vehicle_id(self, device_id: str) -> str:
        """The public id of the scooter, new after each trip."""
        scooter = self.scooters[device_id]
        message = f"{device_id}:{scooter.trips_completed}".encode()
        digest = hmac.new(self.id_secret, message, hashlib.sha256).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def hub_at(self, position: LatLon) -> Hub | None:
        """The hub whose area holds *position*, if any."""
        for hub in self.hubs:
            if distance_m(hub.position, position) <= hub.radius_m:
                return hub
        return None

    def deploy(
        self,
        device_id: str,
        vehicle_id: str,
        vehicle_type_id: str,
        position: LatLon,
        battery_pct: float,
        at_ms: int,
    ) -> MdsEvent:
        """A scooter put on the street: removed → available by a provider drop-off."""
        if device_id in self.scooters:
            raise ValueError(f"scooter {device_id} is already in the fleet")
        if vehicle_type_id not in {t.vehicle_type_id for t in self.types}:
            raise ValueError(f"unknown vehicle type {vehicle_type_id!r}")
        self.scooters[device_id] = Scooter(
            device_id, vehicle_id, vehicle_type_id, "removed", battery_pct, position
        )
        return self.record(device_id, ("provider_drop_off",), at_ms, position, battery_pct)

    def record(
        self,
        device_id: str,
        event_types: tuple[EventType, ...],
        at_ms: int,
        position: LatLon,
        battery_pct: float | None = None,
    ) -> MdsEvent:
        """Apply one MDS event (InvalidTransitionError if the state machine forbids it)."""
        scooter = self.scooters[device_id]
        state = next_state(scooter.state, event_types)
        if battery_pct is not None:
            scooter.battery_pct = battery_pct
        if "trip_start" in event_types:
            scooter.trip_id = self._derived_id("trip", device_id, at_ms)
            scooter.trip_start = (at_ms, position)
            scooter.trip_distance_m = 0.0
        elif scooter.trip_id is not None:
            scooter.trip_distance_m += distance_m(scooter.position, position)
        event = MdsEvent(
            self._derived_id("event", device_id, at_ms, len(self.events)),
            device_id,
            state,
            event_types,
            at_ms,
            position,
            scooter.battery_pct,
            scooter.trip_id,
        )
        if ("trip_end" in event_types or "trip_cancel" in event_types) and scooter.trip_start:
            started_at, started = scooter.trip_start
            if "trip_end" in event_types and scooter.trip_id is not None:
                self.trips.append(
                    MdsTrip(
                        scooter.trip_id,
                        device_id,
                        started_at,
                        at_ms,
                        started,
                        position,
                        scooter.trip_distance_m,
                    )
                )
            scooter.trip_id, scooter.trip_start = None, None
            scooter.trips_completed += 1
        scooter.state, scooter.position, scooter.last_event = state, position, event
        self.events.append(event)
        if not _UNHEARD & set(event_types):
            # The event's position is a fix too: MDS wants a trip's telemetry to hold its start
            # and end points, and every vehicle status a last telemetry point.
            self._telemetry(scooter, at_ms, position, None, None, event.trip_id)
        return event

    def start_trip(self, device_id: str, at_ms: int) -> MdsEvent:
        scooter = self.scooters[device_id]
        return self.record(device_id, ("trip_start",), at_ms, scooter.position)

    def end_trip(
        self, device_id: str, at_ms: int, position: LatLon, battery_pct: float
    ) -> MdsEvent:
        """trip_end, then battery_low (→ non_operational) when the charge is too low to rent.

        Two events at the same instant, not one with both types: the MDS 2.0 definitions allow
        only the event types that lead into an event's ``vehicle_state``, and ``trip_end`` does
        not lead into ``non_operational``. Returns the last event (the scooter's state now).
        """
        event = self.record(device_id, ("trip_end",), at_ms, position, battery_pct)
        if battery_pct < BATTERY_LOW_PCT:
            event = self.record(device_id, ("battery_low",), at_ms, position)
        return event

    def report(
        self,
        device_id: str,
        at_ms: int,
        position: LatLon,
        speed_mps: float,
        heading_deg: float | None,
        battery_pct: float,
    ) -> MdsTelemetry:
        """A telemetry point (from the vehicle's GNSS and controller)."""
        scooter = self.scooters[device_id]
        if scooter.trip_id is not None:
            scooter.trip_distance_m += distance_m(scooter.position, position)
        scooter.position, scooter.battery_pct = position, battery_pct
        return self._telemetry(scooter, at_ms, position, speed_mps, heading_deg, scooter.trip_id)

    def _telemetry(
        self,
        scooter: Scooter,
        at_ms: int,
        position: LatLon,
        speed_mps: float | None,
        heading_deg: float | None,
        trip_id: str | None,
    ) -> MdsTelemetry:
        last = scooter.last_telemetry
        if speed_mps is None and last and (last.timestamp, last.position) == (at_ms, position):
            return last  # a second event at the same instant and place is not a new fix
        point = MdsTelemetry(
            self._derived_id("telemetry", scooter.device_id, at_ms, len(self.telemetry)),
            scooter.device_id,
            at_ms,
            position,
            speed_mps,
            heading_deg,
            scooter.battery_pct,
            trip_id,
        )
        scooter.last_telemetry = point
        self.telemetry.append(point)
        return point

    def _derived_id(self, kind: str, device_id: str, at_ms: int, sequence: int = 0) -> str:
        return str(uuid.uuid5(_IDS, f"{self.provider_id}:{kind}:{device_id}:{at_ms}:{sequence}"))
