"""PLX Spot-Check (0x2A5E) and PLX Continuous (0x2A5F) Measurements, Pulse Oximeter Service.

GATT Specification Supplement §3.169 and §3.168; status bit names from the same sections.
"""

from edge.ble._frame import Frame
from edge.ble._measurement import Measurement

SPOT_CHECK = "plx_spot_check_measurement"
CONTINUOUS = "plx_continuous_measurement"

# Spot-check flags
_SPOT_TIMESTAMP = 0x01
_SPOT_MEASUREMENT_STATUS = 0x02
_SPOT_DEVICE_STATUS = 0x04
_SPOT_PULSE_AMPLITUDE = 0x08
_SPOT_CLOCK_NOT_SET = 0x10

# Continuous flags
_FAST = 0x01
_SLOW = 0x02
_CONT_MEASUREMENT_STATUS = 0x04
_CONT_DEVICE_STATUS = 0x08
_CONT_PULSE_AMPLITUDE = 0x10

#: Measurement Status (16 bits); bits 0-4 are reserved.
MEASUREMENT_STATUS = (
    (1 << 5, "measurement_ongoing"),
    (1 << 6, "early_estimated_data"),
    (1 << 7, "validated_data"),
    (1 << 8, "fully_qualified_data"),
    (1 << 9, "data_from_measurement_storage"),
    (1 << 10, "data_for_demonstration"),
    (1 << 11, "data_for_testing"),
    (1 << 12, "calibration_ongoing"),
    (1 << 13, "measurement_unavailable"),
    (1 << 14, "questionable_measurement_detected"),
    (1 << 15, "invalid_measurement_detected"),
)

#: Device and Sensor Status (24 bits); bits 16-23 are reserved.
DEVICE_AND_SENSOR_STATUS = (
    (1 << 0, "extended_display_update_ongoing"),
    (1 << 1, "equipment_malfunction_detected"),
    (1 << 2, "signal_processing_irregularity_detected"),
    (1 << 3, "inadequate_signal_detected"),
    (1 << 4, "poor_signal_detected"),
    (1 << 5, "low_perfusion_detected"),
    (1 << 6, "erratic_signal_detected"),
    (1 << 7, "nonpulsatile_signal_detected"),
    (1 << 8, "questionable_pulse_detected"),
    (1 << 9, "signal_analysis_ongoing"),
    (1 << 10, "sensor_interference_detected"),
    (1 << 11, "sensor_unconnected_to_user"),
    (1 << 12, "unknown_sensor_connected"),
    (1 << 13, "sensor_displaced"),
    (1 << 14, "sensor_malfunctioning"),
    (1 << 15, "sensor_disconnected"),
)


def _named(bits: int, table: tuple[tuple[int, str], ...]) -> list[str]:
    return [name for mask, name in table if bits & mask]


def decode_plx_spot_check_measurement(data: bytes) -> Measurement:
    frame = Frame(SPOT_CHECK, data)
    flags = frame.u8("flags")
    frame.sfloat("spo2_pct")
    frame.sfloat("pulse_rate_bpm")
    if flags & _SPOT_TIMESTAMP:
        frame.date_time()
    status: list[str] = []
    if flags & _SPOT_MEASUREMENT_STATUS:
        status += _named(frame.u16("measurement status"), MEASUREMENT_STATUS)
    if flags & _SPOT_DEVICE_STATUS:
        status += _named(frame.u24("device and sensor status"), DEVICE_AND_SENSOR_STATUS)
    if flags & _SPOT_PULSE_AMPLITUDE:
        frame.sfloat("pulse_amplitude_index_pct")
    if flags & _SPOT_CLOCK_NOT_SET:
        # The timestamp field, if any, then counts from an arbitrary start: not a date.
        status.append("device_clock_not_set")
    return Measurement(SPOT_CHECK, frame.values, tuple(status), frame.unavailable)


def decode_plx_continuous_measurement(data: bytes) -> Measurement:
    frame = Frame(CONTINUOUS, data)
    flags = frame.u8("flags")
    frame.sfloat("spo2_pct")
    frame.sfloat("pulse_rate_bpm")
    if flags & _FAST:
        frame.sfloat("spo2_fast_pct")
        frame.sfloat("pulse_rate_fast_bpm")
    if flags & _SLOW:
        frame.sfloat("spo2_slow_pct")
        frame.sfloat("pulse_rate_slow_bpm")
    status: list[str] = []
    if flags & _CONT_MEASUREMENT_STATUS:
        status += _named(frame.u16("measurement status"), MEASUREMENT_STATUS)
    if flags & _CONT_DEVICE_STATUS:
        status += _named(frame.u24("device and sensor status"), DEVICE_AND_SENSOR_STATUS)
    if flags & _CONT_PULSE_AMPLITUDE:
        frame.sfloat("pulse_amplitude_index_pct")
    return Measurement(CONTINUOUS, frame.values, tuple(status), frame.unavailable)
