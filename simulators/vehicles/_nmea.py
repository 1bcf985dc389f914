"""NMEA 0183 encoder as a receiver writes it: RMC, VTG, GGA and GSA per one-second epoch.

Written from the NMEA 0183 sentence layouts, independently of the gateway's parser.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import reduce

KNOTS_PER_MPS = 3600 / 1852


@dataclass(frozen=True, slots=True)
class ReceiverEpoch:
    """What a receiver knows at one instant."""

    utc: datetime
    lat: float
    lon: float
    speed_mps: float
    course_deg: float
    has_fix: bool = True
    satellites: tuple[int, ...] = (2, 5, 12, 15, 18, 24, 25, 29)
    hdop: float = 0.9
    altitude_m: float = 48.0


def with_checksum(body: str) -> str:
    """``$body*HH`` with CR LF."""
    value = reduce(lambda acc, char: acc ^ char, body.encode("ascii"), 0)
    return f"${body}*{value:02X}\r\n"


def _angle(value: float, degree_digits: int, hemispheres: str) -> tuple[str, str]:
    hemisphere = hemispheres[0] if value >= 0 else hemispheres[1]
    magnitude = abs(value)
    degrees = int(magnitude)
    minutes = round((magnitude - degrees) * 60, 5)
    if minutes >= 60:
        degrees, minutes = degrees + 1, 0.0
    return f"{degrees:0{degree_digits}d}{minutes:08.5f}", hemisphere


def encode_epoch(epoch: ReceiverEpoch, talker: str = "GN") -> list[str]:
    """The epoch's sentences in a u-blox-like order: RMC, VTG, GGA, GSA."""
    clock = f"{epoch.utc:%H%M%S}.{epoch.utc.microsecond // 10_000:02d}"
    day = f"{epoch.utc:%d%m%y}"
    if not epoch.has_fix:
        return [
            with_checksum(f"{talker}RMC,{clock},V,,,,,,,{day},,,N"),
            with_checksum(f"{talker}VTG,,T,,M,,N,,K,N"),
            with_checksum(f"{talker}GGA,{clock},,,,,0,00,99.99,,,,,,"),
            with_checksum(f"{talker}GSA,A,1,,,,,,,,,,,,,99.99,99.99,99.99"),
        ]
    lat, ns = _angle(epoch.lat, 2, "NS")
    lon, ew = _angle(epoch.lon, 3, "EW")
    knots = epoch.speed_mps * KNOTS_PER_MPS
    kmh = epoch.speed_mps * 3.6
    course = f"{epoch.course_deg % 360:.2f}"
    used = [f"{number:02d}" for number in epoch.satellites[:12]]
    used += [""] * (12 - len(used))
    return [
        with_checksum(
            f"{talker}RMC,{clock},A,{lat},{ns},{lon},{ew},{knots:.3f},{course},{day},,,A"
        ),
        with_checksum(f"{talker}VTG,{course},T,,M,{knots:.3f},N,{kmh:.3f},K,A"),
        with_checksum(
            f"{talker}GGA,{clock},{lat},{ns},{lon},{ew},1,{len(epoch.satellites):02d},"
            f"{epoch.hdop:.2f},{epoch.altitude_m:.1f},M,34.5,M,,"
        ),
        with_checksum(
            f"{talker}GSA,A,3,{','.join(used)},{epoch.hdop * 1.6:.2f},{epoch.hdop:.2f},"
            f"{epoch.hdop * 1.3:.2f}"
        ),
    ]
