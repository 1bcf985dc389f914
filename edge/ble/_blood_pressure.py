"""Blood Pressure Measurement (0x2A35) and Intermediate Cuff Pressure (0x2A36).

GATT Specification Supplement §3.31 and §3.126: both share one layout; in the intermediate
value the systolic field carries the current cuff pressure and diastolic and MAP are unused.
"""

from edge.ble._frame import Frame
from edge.ble._measurement import Measurement

MEASUREMENT = "blood_pressure_measurement"
INTERMEDIATE = "intermediate_cuff_pressure"

_KPA = 0x01
_TIME_STAMP = 0x02
_PULSE_RATE = 0x04
_USER_ID = 0x08
_MEASUREMENT_STATUS = 0x10

#: 1 mmHg = 133.322387415 Pa (conventional millimetre of mercury; ISO 80000-4 / BIPM SI
#: brochure table 8): the kPa value × 1000 / 133.322387415.
MMHG_PER_KPA = 1000 / 133.322387415

UNKNOWN_USER = 0xFF

_STATUS_BITS = (
    (0x0001, "body_movement_detected"),
    (0x0002, "cuff_too_loose"),
    (0x0004, "irregular_pulse_detected"),
    (0x0020, "improper_measurement_position"),
)
_PULSE_RANGE_SHIFT = 3
_PULSE_RANGE = {
    1: "pulse_rate_exceeds_upper_limit",
    2: "pulse_rate_below_lower_limit",
    3: "pulse_rate_range_reserved_value",
}


def decode_blood_pressure_measurement(data: bytes) -> Measurement:
    return _decode(MEASUREMENT, data)


def decode_intermediate_cuff_pressure(data: bytes) -> Measurement:
    return _decode(INTERMEDIATE, data)


def _decode(name: str, data: bytes) -> Measurement:
    frame = Frame(name, data)
    flags = frame.u8("flags")
    factor = MMHG_PER_KPA if flags & _KPA else None
    if name == MEASUREMENT:
        frame.sfloat("systolic_mmhg", factor)
        frame.sfloat("diastolic_mmhg", factor)
        frame.sfloat("mean_arterial_pressure_mmhg", factor)
    else:
        frame.sfloat("cuff_pressure_mmhg", factor)
        frame.u16("unused diastolic field")
        frame.u16("unused mean arterial pressure field")
    if flags & _TIME_STAMP:
        frame.date_time()
    if flags & _PULSE_RATE:
        frame.sfloat("pulse_rate_bpm")
    if flags & _USER_ID:
        user = frame.u8("user_id")
        frame.values["user_id"] = None if user == UNKNOWN_USER else user
        if user == UNKNOWN_USER:
            frame.unavailable["user_id"] = "unknown user (255)"
    status: tuple[str, ...] = ()
    if flags & _MEASUREMENT_STATUS:
        bits = frame.u16("status")
        named = [flag for mask, flag in _STATUS_BITS if bits & mask]
        pulse_range = (bits >> _PULSE_RANGE_SHIFT) & 0x3
        if pulse_range:
            named.append(_PULSE_RANGE[pulse_range])
        status = tuple(named)
    return Measurement(name, frame.values, status, frame.unavailable)
