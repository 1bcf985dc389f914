"""Decoder vectors built from the GATT Specification Supplement's field tables.

Each characteristic is exercised with every combination of its flag bits: the test assembles
the value field by field in the order the specification lists them, then checks what the
decoder makes of it. A few literal frames pin the byte layout independently of the builder.
"""

import itertools
import struct

import pytest

from edge.ble import BleDecodeError, decode

# -- encoders for the test vectors (written from IEEE 11073-20601 and GSS §2 formats) ----------


def sfloat(mantissa: int, exponent: int) -> bytes:
    return struct.pack("<H", ((exponent & 0xF) << 12) | (mantissa & 0x0FFF))


def float32(mantissa: int, exponent: int) -> bytes:
    return struct.pack("<I", ((exponent & 0xFF) << 24) | (mantissa & 0xFFFFFF))


def date_time(year: int, month: int, day: int, hour: int, minute: int, second: int) -> bytes:
    return struct.pack("<HBBBBB", year, month, day, hour, minute, second)


NAN16 = b"\xff\x07"
NRES16 = b"\x00\x08"
PINF16 = b"\xfe\x07"
NINF16 = b"\x02\x08"
STAMP = date_time(2026, 11, 23, 8, 15, 30)
STAMP_ISO = "2026-11-23T08:15:30"


def combos(bits: int) -> list[int]:
    return list(range(1 << bits))


# -- Heart Rate Measurement 0x2A37 -----------------------------------------------------------


@pytest.mark.parametrize("flags", combos(5))
def test_heart_rate_every_flag_combination(flags: int) -> None:
    frame = bytes([flags]) + (struct.pack("<H", 300) if flags & 0x01 else bytes([72]))
    if flags & 0x08:
        frame += struct.pack("<H", 1234)
    if flags & 0x10:
        frame += struct.pack("<HH", 1024, 512)
    m = decode("heart_rate_measurement", frame)
    assert m.values["heart_rate_bpm"] == (300 if flags & 0x01 else 72)
    if flags & 0x04:
        assert m.values["sensor_contact"] is bool(flags & 0x02)
    else:
        assert m.values["sensor_contact"] is None
        assert "not supported" in m.unavailable["sensor_contact"]
    assert m.values.get("energy_expended_kj") == (1234 if flags & 0x08 else None)
    assert m.values.get("rr_intervals_s") == ([1.0, 0.5] if flags & 0x10 else None)


def test_heart_rate_literal_frame() -> None:
    # flags 0x16: uint8 value, contact supported and detected, RR present; 72 bpm; RR 800/1024 s
    m = decode("2a37", bytes.fromhex("164820 03"))
    assert m.values == {"heart_rate_bpm": 72, "sensor_contact": True, "rr_intervals_s": [0.78125]}


@pytest.mark.parametrize("rr_bytes", ["", "20"])
def test_heart_rate_rr_flag_without_whole_intervals_is_inconsistent(rr_bytes: str) -> None:
    with pytest.raises(BleDecodeError) as caught:
        decode("2a37", bytes.fromhex("1048" + rr_bytes))
    assert caught.value.offset == 2
    assert caught.value.characteristic == "heart_rate_measurement"


# -- Blood Pressure Measurement 0x2A35 / Intermediate Cuff Pressure 0x2A36 -------------------

KPA_PER_MMHG = 0.133322387415


@pytest.mark.parametrize("flags", combos(5))
def test_blood_pressure_every_flag_combination(flags: int) -> None:
    kpa = flags & 0x01
    if kpa:  # 16.0 / 10.7 / 12.5 kPa
        frame = bytes([flags]) + sfloat(160, -1) + sfloat(107, -1) + sfloat(125, -1)
    else:  # 128 / 82 / 97 mmHg
        frame = bytes([flags]) + sfloat(128, 0) + sfloat(82, 0) + sfloat(97, 0)
    if flags & 0x02:
        frame += STAMP
    if flags & 0x04:
        frame += sfloat(71, 0)
    if flags & 0x08:
        frame += bytes([3])
    if flags & 0x10:
        frame += struct.pack("<H", 0x0004 | (1 << 3))  # irregular pulse, rate above upper limit
    m = decode("blood_pressure_measurement", frame)
    if kpa:
        assert m.values["systolic_mmhg"] == pytest.approx(16.0 / KPA_PER_MMHG, abs=1e-5)
        assert m.values["diastolic_mmhg"] == pytest.approx(10.7 / KPA_PER_MMHG, abs=1e-5)
        assert m.values["mean_arterial_pressure_mmhg"] == pytest.approx(
            12.5 / KPA_PER_MMHG, abs=1e-5
        )
    else:
        assert (m.values["systolic_mmhg"], m.values["diastolic_mmhg"]) == (128, 82)
        assert m.values["mean_arterial_pressure_mmhg"] == 97
    assert m.values.get("timestamp") == (STAMP_ISO if flags & 0x02 else None)
    assert m.values.get("pulse_rate_bpm") == (71 if flags & 0x04 else None)
    assert m.values.get("user_id") == (3 if flags & 0x08 else None)
    expected_status = (
        ("irregular_pulse_detected", "pulse_rate_exceeds_upper_limit") if flags & 0x10 else ()
    )
    assert m.status == expected_status


def test_blood_pressure_kpa_conversion_is_exact_to_the_definition_of_mmhg() -> None:
    # 13.3322387415 kPa is exactly 100 mmHg: mantissa 1333, exponent -2 → 13.33 kPa
    m = decode("2a35", b"\x01" + sfloat(1333, -2) + NAN16 + NAN16)
    assert m.values["systolic_mmhg"] == pytest.approx(99.983209, abs=1e-6)


@pytest.mark.parametrize(
    ("bits", "expected"),
    [
        (0x0001, ("body_movement_detected",)),
        (0x0002, ("cuff_too_loose",)),
        (0x0004, ("irregular_pulse_detected",)),
        (0x0008, ("pulse_rate_exceeds_upper_limit",)),
        (0x0010, ("pulse_rate_below_lower_limit",)),
        (0x0018, ("pulse_rate_range_reserved_value",)),
        (0x0020, ("improper_measurement_position",)),
        (0xFFC0, ()),  # reserved bits are ignored
    ],
)
def test_blood_pressure_status_bits(bits: int, expected: tuple[str, ...]) -> None:
    frame = b"\x10" + sfloat(120, 0) + sfloat(80, 0) + sfloat(93, 0) + struct.pack("<H", bits)
    assert decode("2a35", frame).status == expected


def test_blood_pressure_literal_frame_with_special_values() -> None:
    # flags 0x0E: time stamp, pulse rate and user id; MAP is NaN; user 255 = unknown user
    frame = bytes.fromhex("0e 8000 5200 ff07 ea07 0b 17 08 0f 1e 4700 ff".replace(" ", ""))
    m = decode("2a35", frame)
    assert m.values == {
        "systolic_mmhg": 128.0,
        "diastolic_mmhg": 82.0,
        "mean_arterial_pressure_mmhg": None,
        "timestamp": STAMP_ISO,
        "pulse_rate_bpm": 71.0,
        "user_id": None,
    }
    assert m.unavailable["mean_arterial_pressure_mmhg"].startswith("NaN")
    assert m.unavailable["user_id"] == "unknown user (255)"


@pytest.mark.parametrize(("raw", "reason"), [(NRES16, "NRes"), (PINF16, "+INF"), (NINF16, "-INF")])
def test_blood_pressure_special_systolic_is_none_with_reason(raw: bytes, reason: str) -> None:
    m = decode("2a35", b"\x00" + raw + sfloat(80, 0) + sfloat(93, 0))
    assert m.values["systolic_mmhg"] is None
    assert m.unavailable["systolic_mmhg"].startswith(reason)


@pytest.mark.parametrize("flags", combos(5))
def test_intermediate_cuff_pressure_every_flag_combination(flags: int) -> None:
    frame = bytes([flags]) + sfloat(145, 0 if not flags & 1 else -1) + NAN16 + NAN16
    if flags & 0x02:
        frame += STAMP
    if flags & 0x04:
        frame += sfloat(66, 0)
    if flags & 0x08:
        frame += b"\x01"
    if flags & 0x10:
        frame += b"\x00\x00"
    m = decode("intermediate_cuff_pressure", frame)
    expected = 145.0 if not flags & 1 else 14.5 / KPA_PER_MMHG
    assert m.values["cuff_pressure_mmhg"] == pytest.approx(expected, abs=1e-5)
    assert "systolic_mmhg" not in m.values
    assert m.values.get("pulse_rate_bpm") == (66 if flags & 0x04 else None)


# -- Temperature Measurement 0x2A1C ----------------------------------------------------------


@pytest.mark.parametrize("flags", combos(3))
def test_temperature_every_flag_combination(flags: int) -> None:
    value = float32(986, -1) if flags & 0x01 else float32(3700, -2)  # 98.6 °F or 37.00 °C
    frame = bytes([flags]) + value
    if flags & 0x02:
        frame += STAMP
    if flags & 0x04:
        frame += b"\x06"  # mouth
    m = decode("temperature_measurement", frame)
    assert m.values["body_temp_c"] == 37.0
    assert m.values.get("timestamp") == (STAMP_ISO if flags & 0x02 else None)
    assert m.values.get("temperature_type") == ("mouth" if flags & 0x04 else None)


@pytest.mark.parametrize(
    ("code", "name"),
    [(1, "armpit"), (2, "body"), (3, "ear"), (4, "finger"), (5, "gastrointestinal_tract"),
     (7, "rectum"), (8, "toe"), (9, "tympanum"), (0, "reserved_0"), (10, "reserved_10")],
)  # fmt: skip
def test_temperature_types(code: int, name: str) -> None:
    frame = b"\x04" + float32(365, -1) + bytes([code])
    assert decode("2a1c", frame).values["temperature_type"] == name


def test_temperature_literal_fahrenheit_frame() -> None:
    # 0x01 Fahrenheit; FLOAT exponent -1 mantissa 1004 → 100.4 °F = 38.0 °C (fever threshold)
    m = decode("2a1c", bytes.fromhex("01ec0300ff"))
    assert m.values["body_temp_c"] == 38.0


@pytest.mark.parametrize("raw", [0x007FFFFF, 0x00800000, 0x007FFFFE, 0x00800002, 0x00800001])
def test_temperature_float_special_values(raw: int) -> None:
    m = decode("2a1c", b"\x01" + struct.pack("<I", raw))  # even in °F no arithmetic on NaN
    assert m.values["body_temp_c"] is None
    assert m.unavailable["body_temp_c"]


# -- PLX Spot-Check 0x2A5E and Continuous 0x2A5F ---------------------------------------------


@pytest.mark.parametrize("flags", combos(5))
def test_plx_spot_check_every_flag_combination(flags: int) -> None:
    frame = bytes([flags]) + sfloat(97, 0) + sfloat(64, 0)
    if flags & 0x01:
        frame += STAMP
    if flags & 0x02:
        frame += struct.pack("<H", 1 << 7)  # validated data
    if flags & 0x04:
        frame += (1 << 5).to_bytes(3, "little")  # low perfusion
    if flags & 0x08:
        frame += sfloat(35, -1)
    m = decode("plx_spot_check_measurement", frame)
    assert (m.values["spo2_pct"], m.values["pulse_rate_bpm"]) == (97, 64)
    assert m.values.get("timestamp") == (STAMP_ISO if flags & 0x01 else None)
    assert m.values.get("pulse_amplitude_index_pct") == (3.5 if flags & 0x08 else None)
    expected: list[str] = []
    if flags & 0x02:
        expected.append("validated_data")
    if flags & 0x04:
        expected.append("low_perfusion_detected")
    if flags & 0x10:
        expected.append("device_clock_not_set")
    assert list(m.status) == expected


@pytest.mark.parametrize("flags", combos(5))
def test_plx_continuous_every_flag_combination(flags: int) -> None:
    frame = bytes([flags]) + sfloat(96, 0) + sfloat(70, 0)
    if flags & 0x01:
        frame += sfloat(95, 0) + sfloat(72, 0)
    if flags & 0x02:
        frame += sfloat(965, -1) + sfloat(69, 0)
    if flags & 0x04:
        frame += struct.pack("<H", 1 << 15)  # invalid measurement detected
    if flags & 0x08:
        frame += (1 << 15).to_bytes(3, "little")  # sensor disconnected
    if flags & 0x10:
        frame += NAN16
    m = decode("plx_continuous_measurement", frame)
    assert (m.values["spo2_pct"], m.values["pulse_rate_bpm"]) == (96, 70)
    assert m.values.get("spo2_fast_pct") == (95 if flags & 0x01 else None)
    assert m.values.get("pulse_rate_fast_bpm") == (72 if flags & 0x01 else None)
    assert m.values.get("spo2_slow_pct") == (96.5 if flags & 0x02 else None)
    assert m.values.get("pulse_rate_slow_bpm") == (69 if flags & 0x02 else None)
    if flags & 0x10:
        assert m.values["pulse_amplitude_index_pct"] is None
        assert "pulse_amplitude_index_pct" in m.unavailable
    expected = (["invalid_measurement_detected"] if flags & 0x04 else []) + (
        ["sensor_disconnected"] if flags & 0x08 else []
    )
    assert list(m.status) == expected


def test_plx_all_status_bits_are_named() -> None:
    frame = b"\x06" + sfloat(97, 0) + sfloat(64, 0) + b"\xff\xff" + b"\xff\xff\xff"
    m = decode("2a5e", frame)
    assert len(m.status) == 11 + 16  # bits 0-4 and 16-23 are reserved


# -- Glucose Measurement 0x2A18 and Context 0x2A34 -------------------------------------------


@pytest.mark.parametrize("flags", combos(5))
def test_glucose_every_flag_combination(flags: int) -> None:
    frame = bytes([flags]) + struct.pack("<H", 42) + STAMP
    if flags & 0x01:
        frame += struct.pack("<h", -90)
    if flags & 0x02:
        # 95 mg/dL: 0.00095 kg/L = 95e-5 ; 5.3 mmol/L = 53e-4 mol/L
        frame += sfloat(53, -4) if flags & 0x04 else sfloat(95, -5)
        frame += bytes([0x12])  # type 2 capillary plasma, location 1 finger
    if flags & 0x08:
        frame += struct.pack("<H", 0x0001)
    m = decode("glucose_measurement", frame)
    assert m.values["sequence_number"] == 42
    assert m.values["timestamp"] == ("2026-11-23T06:45:30" if flags & 0x01 else STAMP_ISO)
    if flags & 0x02:
        expected = 5.3e-3 * 18015.6 if flags & 0x04 else 95.0
        assert m.values["glucose_mg_dl"] == pytest.approx(expected, abs=1e-6)
        assert m.values["sample_type"] == "capillary_plasma"
        assert m.values["sample_location"] == "finger"
    else:
        assert "glucose_mg_dl" not in m.values
    assert m.status == (("device_battery_low",) if flags & 0x08 else ())
    assert m.values["context_follows"] is bool(flags & 0x10)


def test_glucose_literal_frame_kg_per_litre_is_an_exact_decimal_shift() -> None:
    # seq 1, 2026-11-23 08:15:30, 0.00112 kg/L (mantissa 112, exponent -5), venous plasma, earlobe
    m = decode("2a18", bytes.fromhex("0201 00 ea070b17080f1e 70b0 34".replace(" ", "")))
    assert m.values["glucose_mg_dl"] == 112.0
    assert m.values["sample_type"] == "venous_plasma"
    assert m.values["sample_location"] == "earlobe"


def test_glucose_mol_per_litre_uses_the_molar_mass_of_glucose() -> None:
    # 1 mmol/L of glucose (180.156 g/mol) is 18.0156 mg/dL
    m = decode("2a18", b"\x06\x01\x00" + STAMP + sfloat(1, -3) + b"\x11")
    assert m.values["glucose_mg_dl"] == pytest.approx(18.0156, abs=1e-9)


def test_glucose_sample_location_not_available() -> None:
    m = decode("2a18", b"\x02\x01\x00" + STAMP + sfloat(95, -5) + b"\xf1")
    assert m.values["sample_location"] is None
    assert m.unavailable["sample_location"] == "sample location not available"


@pytest.mark.parametrize(
    ("nibble", "name"),
    [(1, "capillary_whole_blood"), (3, "venous_whole_blood"), (5, "arterial_whole_blood"),
     (6, "arterial_plasma"), (7, "undetermined_whole_blood"), (8, "undetermined_plasma"),
     (9, "interstitial_fluid"), (10, "control_solution"), (0, "reserved_0"), (11, "reserved_11")],
)  # fmt: skip
def test_glucose_sample_types(nibble: int, name: str) -> None:
    m = decode("2a18", b"\x02\x01\x00" + STAMP + sfloat(95, -5) + bytes([0x10 | nibble]))
    assert m.values["sample_type"] == name


def test_glucose_unknown_base_time_gives_no_timestamp() -> None:
    m = decode("2a18", b"\x01\x07\x00" + date_time(0, 0, 0, 0, 0, 0) + b"\x05\x00")
    assert m.values["timestamp"] is None
    assert "not known" in m.unavailable["timestamp"]


@pytest.mark.parametrize("flags", combos(8))
def test_glucose_context_every_flag_combination(flags: int) -> None:
    frame = bytes([flags]) + struct.pack("<H", 42)
    if flags & 0x80:
        frame += b"\x00"
    if flags & 0x01:
        frame += b"\x01" + sfloat(45, -3)  # breakfast, 45 g (0.045 kg)
    if flags & 0x02:
        frame += b"\x02"  # postprandial
    if flags & 0x04:
        frame += b"\x51"  # self, no health issues
    if flags & 0x08:
        frame += struct.pack("<H", 1800) + b"\x32"
    if flags & 0x10:
        # 5 mL (0.005 L) or 3 mg (0.000003 kg)
        frame += b"\x01" + (sfloat(5, -3) if flags & 0x20 else sfloat(3, -6))
    if flags & 0x40:
        frame += sfloat(65, -1)
    m = decode("glucose_measurement_context", frame)
    v = m.values
    assert v["sequence_number"] == 42
    assert v.get("carbohydrate_id") == ("breakfast" if flags & 0x01 else None)
    assert v.get("carbohydrate_g") == (45 if flags & 0x01 else None)
    assert v.get("meal") == ("postprandial" if flags & 0x02 else None)
    assert v.get("tester") == ("self" if flags & 0x04 else None)
    assert v.get("health") == ("no_health_issues" if flags & 0x04 else None)
    assert v.get("exercise_duration_s") == (1800 if flags & 0x08 else None)
    assert v.get("exercise_intensity_pct") == (50 if flags & 0x08 else None)
    if flags & 0x10:
        assert v["medication_id"] == "rapid_acting_insulin"
        if flags & 0x20:
            assert v["medication_ml"] == 5
        else:
            assert v["medication_mg"] == 3
    assert v.get("hba1c_pct") == (6.5 if flags & 0x40 else None)


def test_glucose_context_not_available_and_overrun_values() -> None:
    frame = b"\x0c\x01\x00" + b"\xff" + b"\xff\xff" + b"\x64"
    m = decode("2a34", frame)
    assert m.values["tester"] is None
    assert m.values["health"] is None
    assert m.values["exercise_duration_s"] is None
    assert m.unavailable["exercise_duration_s"] == "overrun (65535)"


# -- Weight Measurement 0x2A9D ---------------------------------------------------------------


@pytest.mark.parametrize("flags", combos(4))
def test_weight_every_flag_combination(flags: int) -> None:
    imperial = flags & 0x01
    frame = bytes([flags]) + struct.pack("<H", 15432 if imperial else 14000)
    if flags & 0x02:
        frame += STAMP
    if flags & 0x04:
        frame += b"\x02"
    if flags & 0x08:
        frame += struct.pack("<HH", 229, 650 if imperial else 1650)
    m = decode("weight_measurement", frame)
    if imperial:  # 154.32 lb, 65.0 in
        assert m.values["weight_kg"] == pytest.approx(154.32 * 0.45359237, abs=1e-6)
    else:  # 14000 × 0.005 kg
        assert m.values["weight_kg"] == 70.0
    assert m.values.get("timestamp") == (STAMP_ISO if flags & 0x02 else None)
    assert m.values.get("user_id") == (2 if flags & 0x04 else None)
    if flags & 0x08:
        assert m.values["bmi"] == 22.9
        assert m.values["height_m"] == (pytest.approx(1.651) if imperial else 1.65)


def test_weight_unsuccessful_measurement() -> None:
    m = decode("2a9d", b"\x00\xff\xff")
    assert m.values["weight_kg"] is None
    assert "unsuccessful" in m.unavailable["weight_kg"]


# -- Errors: truncated and inconsistent frames name the characteristic and the offset --------


@pytest.mark.parametrize(
    ("characteristic", "frame"),
    [
        ("heart_rate_measurement", "164820 03"),
        ("blood_pressure_measurement", "1e 8000 5000 6000 ea070b17080f1e 4700 03 0400"),
        ("temperature_measurement", "06 72 01 00 ff ea070b17080f1e 06"),
        ("plx_spot_check_measurement", "0f 6100 4000 ea070b17080f1e 8000 200000 2300"),
        ("plx_continuous_measurement", "1f 6000 4600 5f00 4800 c503 4500 0080 008000 ff07"),
        ("glucose_measurement", "1f 2a00 ea070b17080f1e a6ff 5fb0 12 0100"),
        ("glucose_measurement_context", "ff 2a00 00 01 2dd0 02 51 0807 32 01 0550 41f0"),
        ("weight_measurement", "0f b036 ea070b17080f1e 02 e500 7206"),
    ],
)
def test_every_truncation_raises_a_decode_error_naming_the_offset(
    characteristic: str, frame: str
) -> None:
    data = bytes.fromhex(frame.replace(" ", ""))
    decode(characteristic, data)  # the whole frame is valid
    for cut in range(len(data) - (1 if characteristic == "heart_rate_measurement" else 0)):
        if characteristic == "heart_rate_measurement" and cut == 2:
            continue  # flags + value alone is a valid frame only without the RR flag
        with pytest.raises(BleDecodeError) as caught:
            decode(characteristic, data[:cut])
        assert caught.value.characteristic == characteristic
        assert 0 <= caught.value.offset <= cut
        assert f"byte offset {caught.value.offset}" in str(caught.value)


@pytest.mark.parametrize(
    "stamp",
    [
        date_time(2026, 13, 1, 0, 0, 0),
        date_time(2026, 2, 30, 0, 0, 0),
        date_time(2026, 1, 1, 24, 0, 0),
        date_time(2026, 1, 1, 0, 60, 0),
        date_time(2026, 1, 1, 0, 0, 60),
        date_time(1000, 1, 1, 0, 0, 0),
    ],
)
def test_impossible_date_time_is_inconsistent(stamp: bytes) -> None:
    with pytest.raises(BleDecodeError) as caught:
        decode("2a35", b"\x02" + sfloat(120, 0) * 3 + stamp)
    assert caught.value.offset == 7
    assert "inconsistent" in str(caught.value)


def test_flags_combinations_cover_each_characteristic() -> None:
    # A guard that the parametrisations above really enumerate 2^n combinations.
    assert len(list(itertools.product((0, 1), repeat=5))) == len(combos(5))
