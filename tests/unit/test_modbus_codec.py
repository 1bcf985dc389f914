"""Decoding and encoding of register words for every data type and word order (vectors)."""

import math

import pytest

from edge.modbus._codec import decode_number, decode_text, encode_number
from messages import DeviceError

# (data type, word order, register words as a device sends them, value)
VECTORS = [
    ("u16", "big", [0x1234], 0x1234),
    ("s16", "big", [0xFFFE], -2),
    ("s16", "big", [0x8000], -32768),
    ("u32", "big", [0x0001, 0x0002], 0x0001_0002),
    ("u32", "little", [0x0002, 0x0001], 0x0001_0002),
    ("s32", "big", [0xFFFF, 0xFF38], -200),
    ("s32", "little", [0xFF38, 0xFFFF], -200),  # Carlo Gavazzi INT32, LSW first
    ("u64", "big", [0x0000, 0x0001, 0x0000, 0x0000], 1 << 32),
    ("u64", "little", [0x0000, 0x0000, 0x0001, 0x0000], 1 << 32),
    ("f32", "big", [0x4366, 0x0000], 230.0),  # Eastron float32, high word first
    ("f32", "little", [0x0000, 0x4366], 230.0),
    ("f32", "big", [0x4248, 0x0000], 50.0),
    ("f32", "big", [0xC2C8, 0x0000], -100.0),
    ("f64", "big", [0x4059, 0x0000, 0x0000, 0x0000], 100.0),
    ("f64", "little", [0x0000, 0x0000, 0x0000, 0x4059], 100.0),
]


@pytest.mark.parametrize(("data_type", "word_order", "words", "value"), VECTORS)
def test_decode_vectors(data_type: str, word_order: str, words: list[int], value: float) -> None:
    assert decode_number(words, data_type, word_order) == value  # type: ignore[arg-type]


@pytest.mark.parametrize(("data_type", "word_order", "words", "value"), VECTORS)
def test_encode_is_the_inverse(
    data_type: str, word_order: str, words: list[int], value: float
) -> None:
    assert encode_number(value, data_type, word_order) == words  # type: ignore[arg-type]


def test_float_nan_decodes_as_nan() -> None:
    assert math.isnan(decode_number([0x7FC0, 0x0000], "f32", "big"))


def test_wrong_number_of_words_is_a_device_error() -> None:
    with pytest.raises(DeviceError, match="cannot decode 3 register"):
        decode_number([1, 2, 3], "u32", "big")


def test_text_is_two_characters_per_register_without_padding() -> None:
    words = [0x5375, 0x6E53, 0x7065, 0x6300, 0x0000]
    assert decode_text(words) == "SunSpec"


def test_a_value_that_does_not_fit_cannot_be_encoded() -> None:
    with pytest.raises(ValueError, match="does not fit u16"):
        encode_number(70_000, "u16", "big")
    with pytest.raises(ValueError, match="does not fit s16"):
        encode_number(-40_000, "s16", "big")
