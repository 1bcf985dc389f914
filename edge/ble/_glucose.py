"""Glucose Measurement (0x2A18) and Glucose Measurement Context (0x2A34).

GATT Specification Supplement §3.102 and §3.103 (Glucose Service / Profile).
"""

from datetime import timedelta

from edge.ble._frame import Frame, as_datetime
from edge.ble._measurement import Measurement

MEASUREMENT = "glucose_measurement"
CONTEXT = "glucose_measurement_context"

_TIME_OFFSET = 0x01
_CONCENTRATION = 0x02
_MOL_PER_L = 0x04
_SENSOR_STATUS = 0x08
_CONTEXT_FOLLOWS = 0x10

#: kg/L → mg/dL is 10^6 mg/kg ÷ 10 dL/L = 10^5: an exact decimal shift of the exponent.
KG_PER_L_TO_MG_PER_DL_SHIFT = 5

#: Molar mass of glucose, C6H12O6, from the IUPAC conventional standard atomic weights
#: (C 12.011, H 1.008, O 15.999; CIAAW 2021): 6×12.011 + 12×1.008 + 6×15.999 = 180.156 g/mol.
GLUCOSE_MOLAR_MASS_G_PER_MOL = 180.156

#: mol/L → mg/dL: × 180.156 g/mol × 1000 mg/g ÷ 10 dL/L = × 18015.6 (that is, mmol/L × 18.0156).
MG_PER_DL_PER_MOL_PER_L = GLUCOSE_MOLAR_MASS_G_PER_MOL * 1000 / 10

SAMPLE_TYPES = {
    1: "capillary_whole_blood",
    2: "capillary_plasma",
    3: "venous_whole_blood",
    4: "venous_plasma",
    5: "arterial_whole_blood",
    6: "arterial_plasma",
    7: "undetermined_whole_blood",
    8: "undetermined_plasma",
    9: "interstitial_fluid",
    10: "control_solution",
}
SAMPLE_LOCATIONS = {
    1: "finger",
    2: "alternate_site_test",
    3: "earlobe",
    4: "control_solution",
}
_LOCATION_NOT_AVAILABLE = 15

SENSOR_STATUS = (
    (1 << 0, "device_battery_low"),
    (1 << 1, "sensor_malfunction"),
    (1 << 2, "sample_size_insufficient"),
    (1 << 3, "strip_insertion_error"),
    (1 << 4, "strip_type_incorrect"),
    (1 << 5, "result_higher_than_device_can_process"),
    (1 << 6, "result_lower_than_device_can_process"),
    (1 << 7, "sensor_temperature_too_high"),
    (1 << 8, "sensor_temperature_too_low"),
    (1 << 9, "sensor_read_interrupted"),
    (1 << 10, "general_device_fault"),
    (1 << 11, "time_fault"),
)


def decode_glucose_measurement(data: bytes) -> Measurement:
    frame = Frame(MEASUREMENT, data)
    values = frame.values
    flags = frame.u8("flags")
    values["sequence_number"] = frame.u16("sequence_number")
    base_time = frame.date_time("timestamp")
    if flags & _TIME_OFFSET:
        offset_min = frame.s16("time_offset_min")
        values["time_offset_min"] = offset_min
        # The record's time is the base time plus the offset (user-adjusted clock).
        if base_time is not None:
            moment = as_datetime(base_time) + timedelta(minutes=offset_min)
            values["timestamp"] = moment.isoformat()
    if flags & _CONCENTRATION:
        if flags & _MOL_PER_L:
            frame.sfloat("glucose_mg_dl", MG_PER_DL_PER_MOL_PER_L)
        else:
            frame.sfloat("glucose_mg_dl", shift=KG_PER_L_TO_MG_PER_DL_SHIFT)
        type_location = frame.u8("type and sample location")
        sample_type = type_location & 0x0F
        location = type_location >> 4
        values["sample_type"] = SAMPLE_TYPES.get(sample_type, f"reserved_{sample_type}")
        if location == _LOCATION_NOT_AVAILABLE:
            values["sample_location"] = None
            frame.unavailable["sample_location"] = "sample location not available"
        else:
            values["sample_location"] = SAMPLE_LOCATIONS.get(location, f"reserved_{location}")
    status: tuple[str, ...] = ()
    if flags & _SENSOR_STATUS:
        bits = frame.u16("sensor status annunciation")
        status = tuple(name for mask, name in SENSOR_STATUS if bits & mask)
    values["context_follows"] = bool(flags & _CONTEXT_FOLLOWS)
    return Measurement(MEASUREMENT, values, status, frame.unavailable)


# Context flags
_CARBOHYDRATE = 0x01
_MEAL = 0x02
_TESTER_HEALTH = 0x04
_EXERCISE = 0x08
_MEDICATION = 0x10
_MEDICATION_LITRES = 0x20
_HBA1C = 0x40
_EXTENDED_FLAGS = 0x80

CARBOHYDRATE_IDS = {
    1: "breakfast",
    2: "lunch",
    3: "dinner",
    4: "snack",
    5: "drink",
    6: "supper",
    7: "brunch",
}
MEALS = {1: "preprandial", 2: "postprandial", 3: "fasting", 4: "casual", 5: "bedtime"}
TESTERS = {1: "self", 2: "health_care_professional", 3: "lab_test"}
HEALTH = {
    1: "minor_health_issues",
    2: "major_health_issues",
    3: "during_menses",
    4: "under_stress",
    5: "no_health_issues",
}
MEDICATION_IDS = {
    1: "rapid_acting_insulin",
    2: "short_acting_insulin",
    3: "intermediate_acting_insulin",
    4: "long_acting_insulin",
    5: "pre_mixed_insulin",
}
_NIBBLE_NOT_AVAILABLE = 15
_EXERCISE_OVERRUN = 0xFFFF


def _enum(table: dict[int, str], code: int) -> str:
    return table.get(code, f"reserved_{code}")


def decode_glucose_measurement_context(data: bytes) -> Measurement:
    frame = Frame(CONTEXT, data)
    values = frame.values
    flags = frame.u8("flags")
    values["sequence_number"] = frame.u16("sequence_number")
    if flags & _EXTENDED_FLAGS:
        frame.u8("extended flags")  # all bits reserved for future use
    if flags & _CARBOHYDRATE:
        values["carbohydrate_id"] = _enum(CARBOHYDRATE_IDS, frame.u8("carbohydrate_id"))
        frame.sfloat("carbohydrate_g", shift=3)  # kilograms on the wire
    if flags & _MEAL:
        values["meal"] = _enum(MEALS, frame.u8("meal"))
    if flags & _TESTER_HEALTH:
        tester_health = frame.u8("tester and health")
        for name, code, table in (
            ("tester", tester_health & 0x0F, TESTERS),
            ("health", tester_health >> 4, HEALTH),
        ):
            if code == _NIBBLE_NOT_AVAILABLE:
                values[name] = None
                frame.unavailable[name] = f"{name} value not available"
            else:
                values[name] = _enum(table, code)
    if flags & _EXERCISE:
        duration = frame.u16("exercise_duration_s")
        if duration == _EXERCISE_OVERRUN:
            values["exercise_duration_s"] = None
            frame.unavailable["exercise_duration_s"] = "overrun (65535)"
        else:
            values["exercise_duration_s"] = duration
        values["exercise_intensity_pct"] = frame.u8("exercise_intensity_pct")
    if flags & _MEDICATION:
        values["medication_id"] = _enum(MEDICATION_IDS, frame.u8("medication_id"))
        if flags & _MEDICATION_LITRES:
            frame.sfloat("medication_ml", shift=3)
        else:
            frame.sfloat("medication_mg", shift=6)
    if flags & _HBA1C:
        frame.sfloat("hba1c_pct")
    return Measurement(CONTEXT, values, (), frame.unavailable)
