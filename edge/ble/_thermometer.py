"""Temperature Measurement (0x2A1C), GATT Specification Supplement §3.216."""

from edge.ble._frame import Frame, convert
from edge.ble._measurement import Measurement

NAME = "temperature_measurement"

_FAHRENHEIT = 0x01
_TIME_STAMP = 0x02
_TEMPERATURE_TYPE = 0x04

#: Temperature Type (0x2A1D) enumeration; 0 and 10-255 are reserved.
TEMPERATURE_TYPES = {
    1: "armpit",
    2: "body",
    3: "ear",
    4: "finger",
    5: "gastrointestinal_tract",
    6: "mouth",
    7: "rectum",
    8: "toe",
    9: "tympanum",
}


def decode_temperature_measurement(data: bytes) -> Measurement:
    frame = Frame(NAME, data)
    flags = frame.u8("flags")
    frame.float32("body_temp_c")
    celsius_or_f = frame.values["body_temp_c"]
    if flags & _FAHRENHEIT and isinstance(celsius_or_f, float):
        frame.values["body_temp_c"] = convert(celsius_or_f - 32, 5 / 9)
    if flags & _TIME_STAMP:
        frame.date_time()
    if flags & _TEMPERATURE_TYPE:
        code = frame.u8("temperature_type")
        frame.values["temperature_type"] = TEMPERATURE_TYPES.get(code, f"reserved_{code}")
    return Measurement(NAME, frame.values, (), frame.unavailable)
