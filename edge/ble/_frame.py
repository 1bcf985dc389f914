"""Reading the fields of one characteristic value, with offsets for decode errors."""

import struct
from datetime import datetime

from edge.ble._errors import BleDecodeError
from edge.ble._ieee11073 import SFLOAT_TABLE, scaled, split_float, split_sfloat
from edge.ble._measurement import Value

_U16 = struct.Struct("<H").unpack_from
_S16 = struct.Struct("<h").unpack_from
_U32 = struct.Struct("<I").unpack_from
_DATE_TIME = struct.Struct("<HBBBBB").unpack_from
_DAYS_IN_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class Frame:
    """A cursor over one characteristic value; every read checks the length first."""

    __slots__ = ("characteristic", "data", "offset", "size", "unavailable", "values")

    def __init__(self, characteristic: str, data: bytes) -> None:
        self.characteristic = characteristic
        self.data = data
        self.size = len(data)
        self.offset = 0
        self.values: dict[str, Value] = {}
        self.unavailable: dict[str, str] = {}

    def fail(self, reason: str, offset: int | None = None) -> BleDecodeError:
        """A decode error at *offset* (default: the current offset)."""
        return BleDecodeError(
            self.characteristic, self.offset if offset is None else offset, reason
        )

    def _truncated(self, size: int, what: str) -> BleDecodeError:
        left = self.size - self.offset
        return self.fail(f"truncated: {what} needs {size} byte(s), {left} left")

    def remaining(self) -> int:
        return self.size - self.offset

    def u8(self, what: str) -> int:
        start = self.offset
        if start >= self.size:
            raise self._truncated(1, what)
        self.offset = start + 1
        return self.data[start]

    def u16(self, what: str) -> int:
        start = self.offset
        if start + 2 > self.size:
            raise self._truncated(2, what)
        self.offset = start + 2
        value: int = _U16(self.data, start)[0]
        return value

    def s16(self, what: str) -> int:
        start = self.offset
        if start + 2 > self.size:
            raise self._truncated(2, what)
        self.offset = start + 2
        value: int = _S16(self.data, start)[0]
        return value

    def u24(self, what: str) -> int:
        start = self.offset
        if start + 3 > self.size:
            raise self._truncated(3, what)
        self.offset = start + 3
        return int.from_bytes(self.data[start : start + 3], "little")

    def sfloat(self, name: str, factor: float | None = None, shift: int = 0) -> None:
        """Read an SFLOAT into *name*: shifted by 10^shift exactly, or × factor (rounded)."""
        start = self.offset
        if start + 2 > self.size:
            raise self._truncated(2, name)
        self.offset = start + 2
        raw: int = _U16(self.data, start)[0]
        if shift:
            self._store(name, split_sfloat(raw), factor, shift)
            return
        value = SFLOAT_TABLE[raw]
        if isinstance(value, str):
            self.values[name] = None
            self.unavailable[name] = value
        elif factor is None:
            self.values[name] = value
        else:
            self.values[name] = convert(value, factor)

    def float32(self, name: str, factor: float | None = None, shift: int = 0) -> None:
        """Read a FLOAT into *name*, like :meth:`sfloat`."""
        start = self.offset
        if start + 4 > self.size:
            raise self._truncated(4, name)
        self.offset = start + 4
        self._store(name, split_float(_U32(self.data, start)[0]), factor, shift)

    def _store(
        self, name: str, parts: tuple[int, int] | str, factor: float | None, shift: int
    ) -> None:
        if isinstance(parts, str):
            self.values[name] = None
            self.unavailable[name] = parts
            return
        mantissa, exponent = parts
        value = scaled(mantissa, exponent + shift)
        if factor is not None:
            value = convert(value, factor)
        self.values[name] = value

    def date_time(self, name: str = "timestamp") -> tuple[int, int, int, int, int, int] | None:
        """Read a 7-byte Date Time (0x2A08) as device local time; None if a part is 'not known'.

        Returns (year, month, day, hours, minutes, seconds) and stores the ISO 8601 text.
        """
        start = self.offset
        if start + 7 > self.size:
            raise self._truncated(7, name)
        self.offset = start + 7
        parts = _DATE_TIME(self.data, start)
        year, month, day, hours, minutes, seconds = parts
        if year == 0 or month == 0 or day == 0:
            self.values[name] = None
            self.unavailable[name] = "device date not known (year, month or day is 0)"
            return None
        if (
            not 1582 <= year <= 9999  # the range the Date Time field allows
            or month > 12
            or day > _DAYS_IN_MONTH[month]
            or (month == 2 and day == 29 and not _leap(year))
            or hours > 23
            or minutes > 59
            or seconds > 59
        ):
            raise self.fail(
                f"inconsistent: date-time {year:04d}-{month:02d}-{day:02d} "
                f"{hours:02d}:{minutes:02d}:{seconds:02d} out of range",
                start,
            )
        self.values[name] = (
            f"{year:04d}-{month:02d}-{day:02d}T{hours:02d}:{minutes:02d}:{seconds:02d}"
        )
        return parts


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def as_datetime(parts: tuple[int, int, int, int, int, int]) -> datetime:
    """The naive local datetime of validated Date Time parts."""
    return datetime(*parts)  # noqa: DTZ001 - device local time; its zone is the site's


def convert(value: float, factor: float) -> float:
    """Multiply by a non-decimal unit factor and drop binary floating-point noise.

    Six decimals are far finer than any resolution these devices report, so rounding there
    changes no clinical digit while 98.6 °F reads as 37.0 °C and not 36.99999999999999.
    """
    return round(value * factor, 6)
