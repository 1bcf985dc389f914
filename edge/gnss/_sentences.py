"""Decoded NMEA 0183 sentences as plain values (angles in degrees, speeds in m/s)."""

from dataclasses import dataclass
from datetime import date, time

KNOT_MPS = 1852 / 3600


@dataclass(frozen=True, slots=True)
class Rmc:
    """Recommended minimum data: time, date, status, position, speed and course over ground."""

    talker: str
    utc_time: time
    valid: bool
    lat: float | None
    lon: float | None
    speed_mps: float | None
    course_deg: float | None
    utc_date: date
    mode: str | None


@dataclass(frozen=True, slots=True)
class Gga:
    """Fix data: time, position, quality indicator, satellites in use, HDOP and altitude."""

    talker: str
    utc_time: time
    lat: float | None
    lon: float | None
    quality: int
    satellites: int | None
    hdop: float | None
    altitude_m: float | None


@dataclass(frozen=True, slots=True)
class Vtg:
    """Course and speed over ground."""

    talker: str
    course_deg: float | None
    speed_mps: float | None
    mode: str | None


@dataclass(frozen=True, slots=True)
class Gsa:
    """DOP and active satellites: fix type 1 = none, 2 = 2D, 3 = 3D."""

    talker: str
    fix_type: int
    satellite_ids: tuple[int, ...]
    pdop: float | None
    hdop: float | None
    vdop: float | None


Sentence = Rmc | Gga | Vtg | Gsa
