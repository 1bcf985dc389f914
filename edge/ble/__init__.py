"""Bluetooth LE vital-sign devices: spec-exact GATT decoders, pseudonyms and the bleak link."""

from edge.ble._characteristics import CHARACTERISTICS, Characteristic, decode, find_characteristic
from edge.ble._errors import BleDecodeError, BleLinkError
from edge.ble._ieee11073 import FLOAT_SPECIAL, SFLOAT_SPECIAL, float_value, sfloat_value
from edge.ble._measurement import Measurement, Value
from edge.ble._observations import observations
from edge.ble._pseudonym import subject_pseudonym

__all__ = [
    "CHARACTERISTICS",
    "FLOAT_SPECIAL",
    "SFLOAT_SPECIAL",
    "BleDecodeError",
    "BleLinkError",
    "Characteristic",
    "Measurement",
    "Value",
    "decode",
    "find_characteristic",
    "float_value",
    "observations",
    "sfloat_value",
    "subject_pseudonym",
]
