"""The supported characteristics: name ↔ UUID ↔ decoder, and one decode entry point."""

from collections.abc import Callable
from dataclasses import dataclass

from edge.ble._blood_pressure import (
    decode_blood_pressure_measurement,
    decode_intermediate_cuff_pressure,
)
from edge.ble._glucose import decode_glucose_measurement, decode_glucose_measurement_context
from edge.ble._heart_rate import decode_heart_rate_measurement
from edge.ble._measurement import Measurement
from edge.ble._pulse_oximeter import (
    decode_plx_continuous_measurement,
    decode_plx_spot_check_measurement,
)
from edge.ble._thermometer import decode_temperature_measurement
from edge.ble._weight import decode_weight_measurement

_BASE_UUID_SUFFIX = "-0000-1000-8000-00805f9b34fb"


@dataclass(frozen=True, slots=True)
class Characteristic:
    """A GATT characteristic Hinode decodes."""

    name: str
    short_uuid: int
    service: str
    decode: Callable[[bytes], Measurement]

    @property
    def uuid(self) -> str:
        """The full 128-bit UUID string, lower case, as bleak reports it."""
        return f"0000{self.short_uuid:04x}{_BASE_UUID_SUFFIX}"


CHARACTERISTICS: tuple[Characteristic, ...] = (
    Characteristic("heart_rate_measurement", 0x2A37, "heart_rate", decode_heart_rate_measurement),
    Characteristic(
        "blood_pressure_measurement", 0x2A35, "blood_pressure", decode_blood_pressure_measurement
    ),
    Characteristic(
        "intermediate_cuff_pressure", 0x2A36, "blood_pressure", decode_intermediate_cuff_pressure
    ),
    Characteristic(
        "temperature_measurement", 0x2A1C, "health_thermometer", decode_temperature_measurement
    ),
    Characteristic(
        "plx_spot_check_measurement", 0x2A5E, "pulse_oximeter", decode_plx_spot_check_measurement
    ),
    Characteristic(
        "plx_continuous_measurement", 0x2A5F, "pulse_oximeter", decode_plx_continuous_measurement
    ),
    Characteristic("glucose_measurement", 0x2A18, "glucose", decode_glucose_measurement),
    Characteristic(
        "glucose_measurement_context", 0x2A34, "glucose", decode_glucose_measurement_context
    ),
    Characteristic("weight_measurement", 0x2A9D, "weight_scale", decode_weight_measurement),
)

_BY_NAME = {c.name: c for c in CHARACTERISTICS}
_BY_SHORT_UUID = {c.short_uuid: c for c in CHARACTERISTICS}


def find_characteristic(name_or_uuid: str) -> Characteristic | None:
    """Look a characteristic up by name, 16-bit UUID (``2a35``, ``0x2A35``) or full UUID."""
    key = name_or_uuid.strip().lower()
    if key in _BY_NAME:
        return _BY_NAME[key]
    key = key.removeprefix("0x")
    if len(key) == 36 and key.endswith(_BASE_UUID_SUFFIX) and key.startswith("0000"):
        key = key[4:8]
    if len(key) == 4:
        try:
            return _BY_SHORT_UUID.get(int(key, 16))
        except ValueError:
            return None
    return None


def decode(name_or_uuid: str, data: bytes) -> Measurement:
    """Decode one value of a supported characteristic; raise KeyError for an unknown one."""
    characteristic = find_characteristic(name_or_uuid)
    if characteristic is None:
        raise KeyError(name_or_uuid)
    return characteristic.decode(data)
