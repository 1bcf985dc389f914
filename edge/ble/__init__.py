"""Bluetooth LE vital-sign devices: spec-exact GATT decoders, pseudonyms and the bleak link."""

from typing import TYPE_CHECKING

from edge.ble._characteristics import CHARACTERISTICS, Characteristic, decode, find_characteristic
from edge.ble._errors import BleDecodeError, BleLinkError
from edge.ble._ieee11073 import FLOAT_SPECIAL, SFLOAT_SPECIAL, float_value, sfloat_value
from edge.ble._measurement import Measurement, Value
from edge.ble._observations import observations
from edge.ble._port import Advertisement, BleConnection, BleTransport, ValueHandler
from edge.ble._pseudonym import subject_pseudonym
from edge.ble._session import (
    DEVICE_KINDS,
    Backoff,
    DeviceKind,
    DeviceSession,
    MemoryCursor,
    Received,
    RecordCursor,
    kind_of,
)

if TYPE_CHECKING:
    from edge.ble._bleak_adapter import BleakTransport


def __getattr__(name: str) -> object:
    # bleak (and D-Bus on Linux) is loaded only by code that talks to devices, not by decoding.
    if name == "BleakTransport":
        from edge.ble._bleak_adapter import BleakTransport  # noqa: PLC0415

        return BleakTransport
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = [
    "CHARACTERISTICS",
    "DEVICE_KINDS",
    "FLOAT_SPECIAL",
    "SFLOAT_SPECIAL",
    "Advertisement",
    "Backoff",
    "BleConnection",
    "BleDecodeError",
    "BleLinkError",
    "BleTransport",
    "BleakTransport",
    "Characteristic",
    "DeviceKind",
    "DeviceSession",
    "Measurement",
    "MemoryCursor",
    "Received",
    "RecordCursor",
    "Value",
    "ValueHandler",
    "decode",
    "find_characteristic",
    "float_value",
    "kind_of",
    "observations",
    "sfloat_value",
    "subject_pseudonym",
]
