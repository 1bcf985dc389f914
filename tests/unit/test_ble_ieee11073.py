"""IEEE 11073-20601 SFLOAT and FLOAT: numbers, signs, exponents and the special values."""

import pytest

from edge.ble import FLOAT_SPECIAL, SFLOAT_SPECIAL, float_value, sfloat_value
from edge.ble._ieee11073 import split_float, split_sfloat


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0x0002, 2.0),  # exponent 0, mantissa 2
        (0xF014, 2.0),  # exponent -1, mantissa 20 → 2.0
        (0xE0C8, 2.0),  # exponent -2, mantissa 200
        (0x1002, 20.0),  # exponent 1
        (0x2002, 200.0),
        (0x04D2, 1234.0),
        (0x0B2E, -1234.0),  # mantissa 0xB2E is -1234 in 12-bit two's complement
        (0xF501, 128.1),  # exponent -1, mantissa 1281: exactly 128.1, not 128.10000000000002
        (0x0000, 0.0),
        (0x07FD, 2045.0),  # largest positive mantissa that is not special
        (0x0803, -2045.0),  # most negative mantissa that is not special
        (0x87FF, 2047e-8),  # exponent -8 with mantissa 2047 is a number, not NaN
    ],
)
def test_sfloat_numbers(raw: int, expected: float) -> None:
    assert sfloat_value(raw) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0x00000002, 2.0),
        (0xFF000014, 2.0),  # exponent -1, mantissa 20
        (0xFE0000C8, 2.0),
        (0x01000002, 20.0),
        (0x00FFFB2E, -1234.0),  # 24-bit two's complement
        (0xFF000172, 37.0),  # 370 × 10^-1
        (0xFD008F9C, 36.764),  # 36764 × 10^-3
        (0x80000001, 1e-128),
    ],
)
def test_float_numbers(raw: int, expected: float) -> None:
    assert float_value(raw) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (0x07FF, "NaN"),
        (0x0800, "NRes"),
        (0x07FE, "+INF"),
        (0x0802, "-INF"),
        (0x0801, "reserved"),
    ],
)
def test_sfloat_special_values_hold_no_number(raw: int, reason: str) -> None:
    assert sfloat_value(raw) is None
    parts = split_sfloat(raw)
    assert isinstance(parts, str)
    assert parts.startswith(reason)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (0x007FFFFF, "NaN"),
        (0x00800000, "NRes"),
        (0x007FFFFE, "+INF"),
        (0x00800002, "-INF"),
        (0x00800001, "reserved"),
    ],
)
def test_float_special_values_hold_no_number(raw: int, reason: str) -> None:
    assert float_value(raw) is None
    parts = split_float(raw)
    assert isinstance(parts, str)
    assert parts.startswith(reason)


def test_special_tables_are_complete() -> None:
    assert len(SFLOAT_SPECIAL) == 5
    assert len(FLOAT_SPECIAL) == 5
