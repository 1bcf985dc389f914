"""NMEA 0183 parser for RMC, GGA, VTG and GSA: checksum first, then every field checked.

Any malformed input raises :class:`NmeaError` naming the sentence and the field; nothing else
escapes, so a receiver's line noise can never take the reader down.
"""

import re
from collections.abc import Callable, Sequence
from datetime import date, time

from edge.gnss._errors import NmeaError
from edge.gnss._sentences import KNOT_MPS, Gga, Gsa, Rmc, Sentence, Vtg

#: NMEA allows 82 characters; some receivers' 4.x extensions run longer, noise runs much longer.
MAX_SENTENCE_CHARS = 128
_ADDRESS = re.compile(r"^[A-Z][A-Z0-9]{4}$")
_NUMBER = re.compile(r"^[0-9]+(\.[0-9]*)?$")
_UNKNOWN = "sentence"
#: Two-digit years from 80 on are 19xx (GPS began in 1980), the rest 20xx.
_CENTURY_PIVOT = 80

RMC_FIELDS = (
    "time",
    "status",
    "latitude",
    "latitude_hemisphere",
    "longitude",
    "longitude_hemisphere",
    "speed_knots",
    "course",
    "date",
    "magnetic_variation",
    "variation_direction",
    "mode",
    "navigational_status",
)
GGA_FIELDS = (
    "time",
    "latitude",
    "latitude_hemisphere",
    "longitude",
    "longitude_hemisphere",
    "quality",
    "satellites",
    "hdop",
    "altitude",
    "altitude_unit",
    "geoid_separation",
    "separation_unit",
    "differential_age",
    "differential_station",
)
VTG_FIELDS = (
    "course_true",
    "course_true_unit",
    "course_magnetic",
    "course_magnetic_unit",
    "speed_knots",
    "speed_knots_unit",
    "speed_kmh",
    "speed_kmh_unit",
    "mode",
)
GSA_FIELDS = (
    "selection_mode",
    "fix_type",
    *(f"satellite_{index}" for index in range(1, 13)),
    "pdop",
    "hdop",
    "vdop",
    "system_id",
)
#: How many fields each sentence needs at least (older NMEA versions end earlier).
_REQUIRED_FIELDS = {"RMC": 11, "GGA": 14, "VTG": 8, "GSA": 17}
_FIELD_NAMES = {"RMC": RMC_FIELDS, "GGA": GGA_FIELDS, "VTG": VTG_FIELDS, "GSA": GSA_FIELDS}


def checksum(body: str) -> int:
    """XOR of every character between ``$`` and ``*``."""
    value = 0
    for char in body.encode("ascii"):
        value ^= char
    return value


def parse_sentence(line: str) -> Sentence:
    """Parse one NMEA line (with or without its CR LF) into a sentence value."""
    text = line.rstrip("\r\n")
    if len(text) > MAX_SENTENCE_CHARS:
        raise NmeaError(_UNKNOWN, "length", f"{len(text)} characters, at most {MAX_SENTENCE_CHARS}")
    if not text.isascii():
        raise NmeaError(_UNKNOWN, "characters", "not ASCII")
    if not text.startswith("$"):
        raise NmeaError(_UNKNOWN, "start", "does not start with '$'")
    body, star, given = text[1:].rpartition("*")
    address = (body if star else text[1:]).split(",", 1)[0]
    name = address if _ADDRESS.match(address) else _UNKNOWN
    if not star:
        raise NmeaError(name, "checksum", "missing: partial sentence?")
    if len(given) != 2 or not all(c in "0123456789ABCDEFabcdef" for c in given):
        raise NmeaError(name, "checksum", f"{given!r} is not two hex digits")
    if int(given, 16) != checksum(body):
        raise NmeaError(name, "checksum", f"is {given.upper()}, content gives {checksum(body):02X}")
    if name == _UNKNOWN:
        raise NmeaError(_UNKNOWN, "address", f"{address!r} is not a talker and sentence type")
    kind = address[2:]
    decode = _DECODERS.get(kind)
    if decode is None:
        raise NmeaError(address, "address", f"sentence type {kind} is not supported")
    fields = body.split(",")[1:]
    names = _FIELD_NAMES[kind]
    if len(fields) < _REQUIRED_FIELDS[kind]:
        raise NmeaError(address, names[len(fields)], "missing: partial sentence")
    if len(fields) > len(names):
        raise NmeaError(address, "fields", f"{len(fields)} fields, at most {len(names)}")
    return decode(_Fields(address, dict(zip(names, fields, strict=False))))


class _Fields:
    """The raw fields of one sentence, read by name with their checks."""

    def __init__(self, address: str, raw: dict[str, str]) -> None:
        self.address = address
        self.talker = address[:2]
        self._raw = raw

    def error(self, field: str, problem: str) -> NmeaError:
        return NmeaError(self.address, field, problem)

    def text(self, field: str) -> str:
        return self._raw.get(field, "")

    def number(self, field: str, *, signed: bool = False) -> float | None:
        raw = self.text(field)
        if raw == "":
            return None
        digits = raw[1:] if signed and raw.startswith("-") else raw
        if not _NUMBER.match(digits):
            raise self.error(field, f"{raw!r} is not a number")
        return float(raw)

    def integer(self, field: str) -> int | None:
        raw = self.text(field)
        if raw == "":
            return None
        if not raw.isdigit():
            raise self.error(field, f"{raw!r} is not an integer")
        return int(raw)

    def choice(self, field: str, allowed: str) -> str | None:
        raw = self.text(field)
        if raw == "":
            return None
        if len(raw) != 1 or raw not in allowed:
            raise self.error(field, f"{raw!r} is not one of {', '.join(allowed)}")
        return raw

    def utc_time(self, field: str = "time") -> time:
        raw = self.text(field)
        whole, _, fraction = raw.partition(".")
        if len(whole) != 6 or not whole.isdigit() or (fraction and not fraction.isdigit()):
            raise self.error(field, f"{raw!r} is not hhmmss.ss")
        hour, minute, second = int(whole[:2]), int(whole[2:4]), int(whole[4:])
        if hour > 23 or minute > 59 or second > 59:
            raise self.error(field, f"{raw!r} is not a time of day")
        microsecond = int((fraction + "000000")[:6]) if fraction else 0
        return time(hour, minute, second, microsecond)

    def utc_date(self, field: str = "date") -> date:
        raw = self.text(field)
        if len(raw) != 6 or not raw.isdigit():
            raise self.error(field, f"{raw!r} is not ddmmyy")
        try:
            year = int(raw[4:])
            century = 1900 if year >= _CENTURY_PIVOT else 2000
            return date(century + year, int(raw[2:4]), int(raw[:2]))
        except ValueError:
            raise self.error(field, f"{raw!r} is not a calendar date") from None

    def coordinate(self, field: str, hemisphere_field: str, max_degrees: int) -> float | None:
        raw, hemisphere = self.text(field), self.text(hemisphere_field)
        if raw == "" and hemisphere == "":
            return None
        degree_digits = 2 if max_degrees == 90 else 3
        whole = raw.partition(".")[0]
        if len(whole) != degree_digits + 2 or not _NUMBER.match(raw):
            pattern = "d" * degree_digits + "mm.mmmm"
            raise self.error(field, f"{raw!r} is not {pattern}")
        degrees, minutes = int(raw[:degree_digits]), float(raw[degree_digits:])
        if minutes >= 60 or degrees + minutes / 60 > max_degrees:
            raise self.error(field, f"{raw!r} is out of range")
        positive, negative = ("N", "S") if max_degrees == 90 else ("E", "W")
        if hemisphere not in (positive, negative):
            raise self.error(hemisphere_field, f"{hemisphere!r} is not {positive} or {negative}")
        value = degrees + minutes / 60
        return -value if hemisphere == negative else value

    def unit(self, field: str, expected: str) -> None:
        if self.text(field) not in ("", expected):
            raise self.error(field, f"{self.text(field)!r} is not {expected}")


def _course(fields: _Fields, field: str) -> float | None:
    course = fields.number(field)
    if course is not None and course > 360:
        raise fields.error(field, f"{course} is more than 360 degrees")
    return None if course is None else course % 360


def _rmc(fields: _Fields) -> Rmc:
    status = fields.choice("status", "AV")
    if status is None:
        raise fields.error("status", "empty")
    knots = fields.number("speed_knots")
    fields.number("magnetic_variation")
    fields.choice("variation_direction", "EW")
    return Rmc(
        talker=fields.talker,
        utc_time=fields.utc_time(),
        valid=status == "A",
        lat=fields.coordinate("latitude", "latitude_hemisphere", 90),
        lon=fields.coordinate("longitude", "longitude_hemisphere", 180),
        speed_mps=None if knots is None else knots * KNOT_MPS,
        course_deg=_course(fields, "course"),
        utc_date=fields.utc_date(),
        mode=fields.choice("mode", "ADEFMNPRSV"),
    )


def _gga(fields: _Fields) -> Gga:
    quality = fields.integer("quality")
    if quality is None or quality > 8:
        raise fields.error("quality", f"{fields.text('quality')!r} is not 0..8")
    fields.unit("altitude_unit", "M")
    fields.unit("separation_unit", "M")
    fields.number("geoid_separation", signed=True)
    return Gga(
        talker=fields.talker,
        utc_time=fields.utc_time(),
        lat=fields.coordinate("latitude", "latitude_hemisphere", 90),
        lon=fields.coordinate("longitude", "longitude_hemisphere", 180),
        quality=quality,
        satellites=fields.integer("satellites"),
        hdop=fields.number("hdop"),
        altitude_m=fields.number("altitude", signed=True),
    )


def _vtg(fields: _Fields) -> Vtg:
    for field, expected in (
        ("course_true_unit", "T"),
        ("course_magnetic_unit", "M"),
        ("speed_knots_unit", "N"),
        ("speed_kmh_unit", "K"),
    ):
        fields.unit(field, expected)
    _course(fields, "course_magnetic")
    knots = fields.number("speed_knots")
    kmh = fields.number("speed_kmh")
    speed = kmh / 3.6 if kmh is not None else None if knots is None else knots * KNOT_MPS
    return Vtg(
        talker=fields.talker,
        course_deg=_course(fields, "course_true"),
        speed_mps=speed,
        mode=fields.choice("mode", "ADEFMNPRSV"),
    )


def _gsa(fields: _Fields) -> Gsa:
    fields.choice("selection_mode", "AM")
    fix_type = fields.integer("fix_type")
    if fix_type not in (1, 2, 3):
        raise fields.error("fix_type", f"{fields.text('fix_type')!r} is not 1, 2 or 3")
    satellites = tuple(
        number
        for index in range(1, 13)
        if (number := fields.integer(f"satellite_{index}")) is not None
    )
    fields.choice("system_id", "0123456789ABCDEF")
    return Gsa(
        talker=fields.talker,
        fix_type=fix_type,
        satellite_ids=satellites,
        pdop=fields.number("pdop"),
        hdop=fields.number("hdop"),
        vdop=fields.number("vdop"),
    )


_DECODERS: dict[str, Callable[[_Fields], Sentence]] = {
    "RMC": _rmc,
    "GGA": _gga,
    "VTG": _vtg,
    "GSA": _gsa,
}
SUPPORTED: Sequence[str] = tuple(_DECODERS)
