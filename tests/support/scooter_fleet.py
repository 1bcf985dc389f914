"""A site's scooter fleet config for ``hinode mobility fleet`` tests: one scooter, one hub."""

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
