"""A site's scooter fleet config for ``hinode mobility fleet`` tests: one scooter, one hub; and
the readings the collector stores for a scooter's fix."""

from datetime import datetime

from cloud import StoredReading

SITE = "midorigaoka"
GATEWAY = "gw-depot"
DEVICE = "7c1e0a4e-3d2b-4f8a-9c61-0e5b2a7d9f31"
STATION = (36.5871, 136.6296)
OFFICE = (36.5930, 136.6350)
CONFIG = f"""\
site: {SITE}
provider_id: 2f0c6a9e-8b1d-4c3e-a7f5-1d9e4b6c8a20
system:
  id: hinode-scooters
  name: Hinode scooters
  operator: Hinode City Mobility
  email: mobility@hinode.example
  timezone: Asia/Tokyo
vehicle_types:
  - {{id: kickboard-s1, name: Hinode kickboard, max_range_m: 40000}}
hubs:
  - {{id: hub-station, name: Station, position: {list(STATION)}, capacity: 12}}
no_ride_zones:
  - name: Station concourse
    ring: [[36.5868, 136.6290], [36.5868, 136.6300], [36.5874, 136.6300], [36.5874, 136.6290]]
scooters:
  scooter-1: {{device_id: {DEVICE}, vehicle_id: HN-0001, type: kickboard-s1}}
"""


def stored_position(
    at: datetime,
    where: tuple[float, float],
    *,
    locked: bool | None = None,
    soc_pct: float | None = None,
    vehicle: str = "scooter-1",
    site: str = SITE,
) -> list[StoredReading]:
    """The readings the collector stores for one fix of a scooter's report (with the report's
    state when given: it is stored at the instant of the report's newest fix)."""
    ts = int(at.timestamp() * 1000)
    values = {"lat_deg": where[0], "lon_deg": where[1], "speed_mps": 2.5}
    if locked is not None:
        values["locked"] = float(locked)
    if soc_pct is not None:
        values["soc_pct"] = soc_pct
    return [
        StoredReading(site, GATEWAY, vehicle, quantity, None, ts, value, 1, "position")
        for quantity, value in values.items()
    ]
