"""Heart Rate Measurement (0x2A37), GATT Specification Supplement §3.113."""

from edge.ble._frame import Frame
from edge.ble._measurement import Measurement

NAME = "heart_rate_measurement"

_UINT16_VALUE = 0x01
_CONTACT_DETECTED = 0x02
_CONTACT_SUPPORTED = 0x04
_ENERGY_EXPENDED = 0x08
_RR_INTERVALS = 0x10


def decode_heart_rate_measurement(data: bytes) -> Measurement:
    frame = Frame(NAME, data)
    flags = frame.u8("flags")
    values = frame.values
    values["heart_rate_bpm"] = (
        frame.u16("heart_rate_bpm") if flags & _UINT16_VALUE else frame.u8("heart_rate_bpm")
    )
    # Bit 2 says whether the sensor can tell skin contact at all; only then does bit 1 mean it.
    if flags & _CONTACT_SUPPORTED:
        values["sensor_contact"] = bool(flags & _CONTACT_DETECTED)
    else:
        values["sensor_contact"] = None
        frame.unavailable["sensor_contact"] = "sensor contact detection not supported"
    if flags & _ENERGY_EXPENDED:
        values["energy_expended_kj"] = frame.u16("energy_expended_kj")
    if flags & _RR_INTERVALS:
        # The RR intervals fill the rest of the value; 1/1024 s resolution.
        if frame.remaining() == 0 or frame.remaining() % 2:
            raise frame.fail(
                f"inconsistent: RR-interval field has {frame.remaining()} byte(s), "
                "expected a non-zero even count"
            )
        values["rr_intervals_s"] = [
            frame.u16("rr_intervals_s") / 1024 for _ in range(frame.remaining() // 2)
        ]
    return Measurement(NAME, values, (), frame.unavailable)
