"""Reading the fields of one characteristic value, with offsets for decode errors."""

import struct
from datetime import datetime

from edge.ble._errors import BleDecodeError
from edge.ble._ieee11073 import scaled, split_float, split_sfloat
from edge.ble._measurement import Value

_U16 = struct.Struct("<H")
_S16 = struct.Struct("<h")
_U32 = struct.Struct("<I")
_DATE_TIME = struct.Struct("<HBBBBB")


class Frame:
    """A cursor over one characteristic value; every read checks the length first."""

    __slots__ = ("characteristic", "data", "offset", "unavailable", "values")

    def __init__(self, characteristic: str, data: bytes) -> None:
        self.characteristic = characteristic
        self.data = data
        self.offset = 0
        self.values: dict[str, Value] = {}
        self.unavailable: dict[str, str] = {}

    def fail(self, reason: str, offset: int | None = None) -> BleDecodeError:
        """A decode error at *offset* (default: the current offset)."""
        return BleDecodeError(
            self.characteristic, self.offset if offset is None else offset, reason
        )

    def _need(self, size: int, what: str) -> int:
        start = self.offset
        if start + size > len(self.data):
            raise self.fail(
                f"truncated: {what} needs {size} byte(s), {len(self.data) - start} left", start
            )
        self.offset = start + size
        return start

    def remaining(self) -> int:
        return len(self.data) - self.offset

    def u8(self, what: str) -> int:
        return self.data[self._need(1, what)]

    def u16(self, what: str) -> int:
        value: int = _U16.unpack_from(self.data, self._need(2, what))[0]
        return value

    def s16(self, what: str) -> int:
        value: int = _S16.unpack_from(self.data, self._need(2, what))[0]
        return value

    def u24(self, what: str) -> int:
        start = self._need(3, what)
        return int.from_bytes(self.data[start : start + 3], "little")

    def sfloat(self, name: str, factor: float | None = None, shift: int = 0) -> None:
        """Read an SFLOAT into *name*: shifted by 10^shift exactly, or × factor (rounded)."""
        self._store(
            name, split_sfloat(_U16.unpack_from(self.data, self._need(2, name))[0]), factor, shift
        )

    def float32(self, name: str, factor: float | None = None, shift: int = 0) -> None:
        """Read a FLOAT into *name*, like :meth:`sfloat`."""
        self._store(
            name, split_float(_U32.unpack_from(self.data, self._need(4, name))[0]), factor, shift
        )

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

    def date_time(self, name: str = "timestamp") -> datetime | None:
        """Read a 7-byte Date Time (0x2A08) as device local time; None if a part is 'not known'."""
        start = self._need(7, name)
        year, month, day, hours, minutes, seconds = _DATE_TIME.unpack_from(self.data, start)
        if year == 0 or month == 0 or day == 0:
            self.values[name] = None
            self.unavailable[name] = "device date not known (year, month or day is 0)"
            return None
        if not (1582 <= year <= 9999) or hours > 23 or minutes > 59 or seconds > 59:
            raise self.fail(
                f"inconsistent: date-time {year:04d}-{month:02d}-{day:02d} "
                f"{hours:02d}:{minutes:02d}:{seconds:02d} out of range",
                start,
            )
        try:
            stamp = datetime(year, month, day, hours, minutes, seconds)  # noqa: DTZ001 - device local time, zone unknown
        except ValueError as error:
            raise self.fail(f"inconsistent: date-time {error}", start) from None
        self.values[name] = stamp.isoformat()
        return stamp


def convert(value: float, factor: float) -> float:
    """Multiply by a non-decimal unit factor and drop binary floating-point noise.

    Six decimals are far finer than any resolution these devices report, so rounding there
    changes no clinical digit while 98.6 °F reads as 37.0 °C and not 36.99999999999999.
    """
    return round(value * factor, 6)
