"""The collector's stored position readings as a scooter fleet's fixes, replayed through the
tracker at start (so that a restarted fleet service loses no trip or event), pure."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from cloud._model import StoredReading
from cloud.mobility._scooter_tracker import ScooterTracker


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
