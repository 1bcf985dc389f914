"""Scooters' own reports (GNSS fixes, battery, lock) turned into the fleet's MDS events and trips.

Pure: each call takes the fix's instant. A scooter unlocked while available starts a trip, locked
again while on a trip ends it (``battery_low`` follows when the charge is too low to rent); the
fixes in between are the trip's telemetry. A fix no newer than the last one seen for the vehicle
is ignored, so a QoS 1 message delivered twice, or one overtaken by a newer one, changes
nothing. A configured scooter joins the fleet (``provider_drop_off``) with its first fix that has
a position and a battery reading.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from cloud.mobility._fleet import ScooterFleet
from cloud.mobility._geo import LatLon
from messages import PositionPayload

#: A scooter taken out for a low battery is back in service once it reports this much (a swap).
BATTERY_CHARGED_PCT = 80.0

#: What one fix did: ``deployed`` (joined the fleet), ``trip_start``, ``trip_end``,
#: ``telemetry`` (a point of a trip), ``battery_charged``, ``seen`` (nothing for MDS),
#: ``stale`` (no newer than the last fix), ``waiting`` (not yet deployable), ``unknown``
#: (a vehicle not in the config).
Outcome = Literal[
    "deployed",
    "trip_start",
    "trip_end",
    "telemetry",
    "battery_charged",
    "seen",
    "stale",
    "waiting",
    "unknown",
]


@dataclass(frozen=True, slots=True)
class TrackedScooter:
    """A scooter of the fleet: its MDS device UUID, the label on it and its vehicle type."""

    device_id: str
    vehicle_id: str
    vehicle_type_id: str


@dataclass(slots=True)
class _Seen:
    at_ms: int
    locked: bool = True  # a scooter is parked locked until it says otherwise
    battery_pct: float | None = None


@dataclass
class ScooterTracker:
    """Follows the scooters named in *scooters* (vehicle id on the wire → fleet identity)."""

    fleet: ScooterFleet
    scooters: Mapping[str, TrackedScooter]
    fixes_applied: int = 0
    fixes_ignored: int = 0
    _seen: dict[str, _Seen] = field(default_factory=dict)

    def fix(
        self,
        vehicle: str,
        at_ms: int,
        position: LatLon | None,
        *,
        locked: bool | None = None,
        battery_pct: float | None = None,
        speed_mps: float | None = None,
        heading_deg: float | None = None,
    ) -> tuple[Outcome, ...]:
        """One report of *vehicle* at *at_ms*: where it is (None: no GNSS fix, the lock and
        battery still count), and what its controller says (None: as last reported)."""
        tracked = self.scooters.get(vehicle)
        if tracked is None:
            return ("unknown",)
        seen = self._seen.get(vehicle)
        if seen is not None and at_ms <= seen.at_ms:
            self.fixes_ignored += 1
            return ("stale",)
        if seen is None:
            seen = self._seen[vehicle] = _Seen(at_ms)
        seen.at_ms = at_ms
        if locked is not None:
            seen.locked = locked
        if battery_pct is not None:
            seen.battery_pct = battery_pct
        self.fixes_applied += 1
        outcomes: list[Outcome] = []
        device = tracked.device_id
        if device not in self.fleet.scooters:
            if position is None or seen.battery_pct is None:
                return ("waiting",)
            self.fleet.deploy(
                device,
                tracked.vehicle_id,
                tracked.vehicle_type_id,
                position,
                seen.battery_pct,
                at_ms,
            )
            outcomes.append("deployed")
        scooter = self.fleet.scooters[device]
        battery = scooter.battery_pct if seen.battery_pct is None else seen.battery_pct
        where = scooter.position if position is None else position
        if scooter.state == "available" and not seen.locked:
            # The trip starts where the scooter stood; this fix is its first point.
            self.fleet.start_trip(device, at_ms)
            outcomes.append("trip_start")
        elif scooter.state == "on_trip" and seen.locked:
            self.fleet.end_trip(device, at_ms, where, battery)
            return (*outcomes, "trip_end")
        elif (
            scooter.state == "non_operational"
            and battery >= BATTERY_CHARGED_PCT
            and scooter.last_event is not None
            and scooter.last_event.event_types[-1] == "battery_low"
        ):
            self.fleet.record(device, ("battery_charged",), at_ms, where, battery)
            outcomes.append("battery_charged")
        if scooter.state == "on_trip" and position is not None:
            self.fleet.report(device, at_ms, position, speed_mps or 0.0, heading_deg, battery)
            outcomes.append("telemetry")
        return tuple(outcomes) or ("seen",)

    def position(self, message: PositionPayload) -> list[Outcome]:
        """A ``position/{vehicle}`` message: its fixes oldest first, the vehicle state (read
        when the batch was sent) with the last of them."""
        fixes = sorted(message.fixes, key=lambda fix: fix.ts)
        state = message.state
        outcomes: list[Outcome] = []
        for index, fix in enumerate(fixes):
            last = index == len(fixes) - 1
            outcomes += self.fix(
                message.vehicle,
                fix.ts,
                None if fix.fix_quality == "none" else (fix.lat, fix.lon),
                locked=state.locked if last and state is not None else None,
                battery_pct=state.battery_pct if last and state is not None else None,
                speed_mps=fix.speed_mps,
                heading_deg=fix.heading_deg,
            )
        return outcomes
