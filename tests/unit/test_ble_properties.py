"""Property tests: any bytes decode to a measurement or a decode error, never anything else."""

import contextlib
import json
import math
import struct
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.ble import CHARACTERISTICS, BleDecodeError, Characteristic, observations, sfloat_value
from edge.ble._ieee11073 import split_float

NAMES = [c.name for c in CHARACTERISTICS]


@pytest.mark.parametrize("characteristic", CHARACTERISTICS, ids=NAMES)
@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=40))
def test_any_bytes_give_a_measurement_or_a_decode_error(
    characteristic: Characteristic, data: bytes
) -> None:
    try:
        measurement = characteristic.decode(data)
    except BleDecodeError as error:
        failure = error
    else:
        failure = None
    if failure is not None:
        assert failure.characteristic == characteristic.name
        assert 0 <= failure.offset <= len(data)
        return
    # A decoded value is JSON-clean: no NaN or infinity ever passes as a number.
    text = json.dumps(measurement.as_dict(), allow_nan=False)
    assert measurement.characteristic == characteristic.name
    assert set(measurement.unavailable) <= set(measurement.values)
    for name, value in measurement.values.items():
        if value is None:
            assert name in measurement.unavailable or name.startswith("sensor_contact")
    assert text


@settings(max_examples=300, deadline=None)
@given(
    flags=st.integers(0, 255),
    tail=st.binary(min_size=0, max_size=30),
)
def test_frames_starting_with_any_flags_never_escape_as_other_errors(
    flags: int, tail: bytes
) -> None:
    for characteristic in CHARACTERISTICS:
        with contextlib.suppress(BleDecodeError):
            characteristic.decode(bytes([flags]) + tail)


@given(raw=st.integers(0, 0xFFFF))
def test_every_sfloat_word_is_a_finite_number_or_none(raw: int) -> None:
    value = sfloat_value(raw)
    assert value is None or math.isfinite(value)


@given(mantissa=st.integers(-2045, 2045), exponent=st.integers(-8, 7))
def test_sfloat_round_trips_its_mantissa_and_exponent(mantissa: int, exponent: int) -> None:
    raw = ((exponent & 0xF) << 12) | (mantissa & 0x0FFF)
    assert sfloat_value(raw) == pytest.approx(mantissa * 10.0**exponent, rel=1e-12)


@given(mantissa=st.integers(-(2**23) + 3, 2**23 - 3), exponent=st.integers(-128, 127))
def test_float_splits_into_its_mantissa_and_exponent(mantissa: int, exponent: int) -> None:
    raw = struct.unpack("<I", struct.pack("<I", ((exponent & 0xFF) << 24) | (mantissa & 0xFFFFFF)))[
        0
    ]
    assert split_float(raw) == (mantissa, exponent)


@pytest.mark.parametrize("characteristic", CHARACTERISTICS, ids=NAMES)
@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=40), received_at_ms=st.integers(946_684_800_000, 4_000_000_000_000))
def test_whatever_decodes_becomes_valid_observations(
    characteristic: Characteristic, data: bytes, received_at_ms: int
) -> None:
    try:
        measurement = characteristic.decode(data)
    except BleDecodeError:
        return
    # Observations are pydantic-validated: a bad value or time would raise here.
    for observation in observations(
        measurement, device="dev-1", received_at_ms=received_at_ms, device_tz=ZoneInfo("Asia/Tokyo")
    ):
        assert observation.quantity in measurement.values
