"""Register words to values and back, through pymodbus' own converters. Pure, no I/O.

Only the converter classmethods of pymodbus' client mixin are used here; no client is made.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

from pymodbus.client.mixin import ModbusClientMixin
from pymodbus.exceptions import ModbusException

from edge.modbus._profile import DataType, WordOrder
from messages import DeviceError

_DATATYPE = ModbusClientMixin.DATATYPE
_TYPE_OF: dict[str, ModbusClientMixin.DATATYPE] = {
    "u16": _DATATYPE.UINT16,
    "s16": _DATATYPE.INT16,
    "u32": _DATATYPE.UINT32,
    "s32": _DATATYPE.INT32,
    "u64": _DATATYPE.UINT64,
    "f32": _DATATYPE.FLOAT32,
    "f64": _DATATYPE.FLOAT64,
    "string": _DATATYPE.STRING,
}
_INTEGER_RANGE: dict[str, tuple[int, int]] = {
    "u16": (0, 0xFFFF),
    "s16": (-0x8000, 0x7FFF),
    "u32": (0, 0xFFFF_FFFF),
    "s32": (-0x8000_0000, 0x7FFF_FFFF),
    "u64": (0, 0xFFFF_FFFF_FFFF_FFFF),
}


def decode_number(words: Sequence[int], data_type: DataType, word_order: WordOrder) -> float:
    """The number held in *words*; DeviceError when they do not make one of *data_type*."""
    if data_type == "string":
        msg = "decode_number called for a string register"
        raise ValueError(msg)
    try:
        value = ModbusClientMixin.convert_from_registers(
            list(words), _TYPE_OF[data_type], word_order=word_order
        )
    except (ModbusException, struct.error, ValueError, TypeError, UnicodeDecodeError) as exc:
        msg = f"cannot decode {len(words)} register(s) as {data_type}: {exc}"
        raise DeviceError(msg) from None
    if not isinstance(value, int | float):
        msg = f"{len(words)} register(s) do not hold one {data_type}"
        raise DeviceError(msg)
    return value


def decode_text(words: Sequence[int], word_order: WordOrder = "big") -> str:
    """Text packed two ASCII characters per register, trailing NULs and spaces removed."""
    try:
        value = ModbusClientMixin.convert_from_registers(
            list(words), _DATATYPE.STRING, word_order=word_order, string_encoding="latin-1"
        )
    except (ModbusException, struct.error, ValueError, TypeError, UnicodeDecodeError) as exc:
        msg = f"cannot decode {len(words)} register(s) as text: {exc}"
        raise DeviceError(msg) from None
    return str(value).rstrip("\x00 ")


def encode_number(value: float, data_type: DataType, word_order: WordOrder) -> list[int]:
    """The register words that hold *value* as *data_type* (ValueError when it cannot)."""
    if data_type == "string":
        msg = "encode_number called for a string data type"
        raise ValueError(msg)
    if data_type in _INTEGER_RANGE:
        low, high = _INTEGER_RANGE[data_type]
        whole = round(value)
        if not low <= whole <= high:
            msg = f"{value} does not fit {data_type} ({low}..{high})"
            raise ValueError(msg)
        number: int | float = whole
    else:
        if not math.isfinite(value):
            msg = f"{value} is not a finite number"
            raise ValueError(msg)
        number = float(value)
    data = _TYPE_OF[data_type]
    return ModbusClientMixin.convert_to_registers(number, data, word_order=word_order)
