"""Weight Measurement (0x2A9D), GATT Specification Supplement §3.255 (Weight Scale Service)."""

from edge.ble._frame import Frame, convert
from edge.ble._measurement import Measurement

NAME = "weight_measurement"

_IMPERIAL = 0x01
_TIME_STAMP = 0x02
_USER_ID = 0x04
_BMI_AND_HEIGHT = 0x08

#: The scale sends 0xFFFF as weight when the measurement was unsuccessful.
MEASUREMENT_UNSUCCESSFUL = 0xFFFF
UNKNOWN_USER = 0xFF

#: International avoirdupois pound and inch (exact by definition, 1959 agreement).
KG_PER_LB = 0.45359237
M_PER_INCH = 0.0254


def decode_weight_measurement(data: bytes) -> Measurement:
    frame = Frame(NAME, data)
    values = frame.values
    flags = frame.u8("flags")
    imperial = flags & _IMPERIAL
    raw_weight = frame.u16("weight_kg")
    if raw_weight == MEASUREMENT_UNSUCCESSFUL:
        values["weight_kg"] = None
        frame.unavailable["weight_kg"] = "measurement unsuccessful (0xFFFF)"
    elif imperial:
        values["weight_kg"] = convert(raw_weight / 100, KG_PER_LB)  # 0.01 lb resolution
    else:
        values["weight_kg"] = raw_weight / 200  # 0.005 kg resolution
    if flags & _TIME_STAMP:
        frame.date_time()
    if flags & _USER_ID:
        user = frame.u8("user_id")
        values["user_id"] = None if user == UNKNOWN_USER else user
        if user == UNKNOWN_USER:
            frame.unavailable["user_id"] = "unknown user (255)"
    if flags & _BMI_AND_HEIGHT:
        values["bmi"] = frame.u16("bmi") / 10  # 0.1 kg/m² resolution
        raw_height = frame.u16("height_m")
        if imperial:
            values["height_m"] = convert(raw_height / 10, M_PER_INCH)  # 0.1 in resolution
        else:
            values["height_m"] = raw_height / 1000  # 1 mm resolution
    return Measurement(NAME, values, (), frame.unavailable)
