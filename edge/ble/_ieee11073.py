"""IEEE 11073-20601 SFLOAT (16-bit) and FLOAT (32-bit) numbers as used by GATT health profiles.

Both are base-10: value = mantissa × 10^exponent, with a signed 4-bit exponent and 12-bit
mantissa (SFLOAT) or a signed 8-bit exponent and 24-bit mantissa (FLOAT). With exponent 0,
five mantissas are special values; they carry no number and must never be shown as one.
"""

from typing import Final

#: Raw SFLOAT words that are not numbers (exponent 0, ISO/IEEE 11073-20601 Annex F.8).
SFLOAT_SPECIAL: Final[dict[int, str]] = {
    0x07FF: "NaN (not a number)",
    0x0800: "NRes (not at this resolution)",
    0x07FE: "+INF (positive infinity)",
    0x0802: "-INF (negative infinity)",
    0x0801: "reserved for future use",
}

#: Raw FLOAT words that are not numbers (exponent 0, ISO/IEEE 11073-20601 Annex F.8).
FLOAT_SPECIAL: Final[dict[int, str]] = {
    0x007FFFFF: "NaN (not a number)",
    0x00800000: "NRes (not at this resolution)",
    0x007FFFFE: "+INF (positive infinity)",
    0x00800002: "-INF (negative infinity)",
    0x00800001: "reserved for future use",
}


def split_sfloat(raw: int) -> tuple[int, int] | str:
    """Return (mantissa, exponent) of a raw 16-bit SFLOAT, or the reason it holds no number."""
    special = SFLOAT_SPECIAL.get(raw)
    if special is not None:
        return special
    mantissa = raw & 0x0FFF
    if mantissa >= 0x0800:
        mantissa -= 0x1000
    exponent = raw >> 12
    if exponent >= 0x8:
        exponent -= 0x10
    return mantissa, exponent


def split_float(raw: int) -> tuple[int, int] | str:
    """Return (mantissa, exponent) of a raw 32-bit FLOAT, or the reason it holds no number."""
    special = FLOAT_SPECIAL.get(raw)
    if special is not None:
        return special
    mantissa = raw & 0x00FFFFFF
    if mantissa >= 0x00800000:
        mantissa -= 0x01000000
    exponent = raw >> 24
    if exponent >= 0x80:
        exponent -= 0x100
    return mantissa, exponent


def scaled(mantissa: int, exponent: int) -> float:
    """mantissa × 10^exponent, dividing for negative exponents so that 1281e-1 is 128.1."""
    power: int = 10 ** abs(exponent)
    return float(mantissa * power) if exponent >= 0 else mantissa / power


def _sfloat_table() -> tuple[float | str, ...]:
    table: list[float | str] = []
    for raw in range(0x10000):
        parts = split_sfloat(raw)
        table.append(parts if isinstance(parts, str) else scaled(*parts))
    return tuple(table)


#: Every 16-bit word → its number, or the reason it holds none. Decoding is the gateway's
#: hot path: one lookup instead of bit-twiddling per field (65,536 entries, built at import).
SFLOAT_TABLE: tuple[float | str, ...] = _sfloat_table()


def sfloat_value(raw: int) -> float | None:
    """The number a raw SFLOAT holds, or None for a special value."""
    parts = split_sfloat(raw)
    return None if isinstance(parts, str) else scaled(*parts)


def float_value(raw: int) -> float | None:
    """The number a raw FLOAT holds, or None for a special value."""
    parts = split_float(raw)
    return None if isinstance(parts, str) else scaled(*parts)
