"""A simulated device's register image: typed points encoded into 16-bit words, as a meter would."""

import enum
import struct
from collections.abc import Iterable
from dataclasses import dataclass


class Table(enum.StrEnum):
    """The two Modbus register tables a simulated device serves."""

    HOLDING = "holding"
    INPUT = "input"


class ModbusError(enum.IntEnum):
    """Modbus exception codes a simulated device answers with (Modbus Application Protocol §7)."""

    ILLEGAL_FUNCTION = 1
    ILLEGAL_ADDRESS = 2
    ILLEGAL_VALUE = 3
    DEVICE_FAILURE = 4


# Per data type: the value's struct, the struct of its words, and its integer range.
_CODECS: dict[str, tuple[struct.Struct, struct.Struct]] = {
    dtype: (struct.Struct(">" + fmt), struct.Struct(f">{count}H"))
    for dtype, fmt, count in (
        ("u16", "H", 1),
        ("s16", "h", 1),
        ("u32", "I", 2),
        ("s32", "i", 2),
        ("u64", "Q", 4),
        ("s64", "q", 4),
        ("f32", "f", 2),
        ("f64", "d", 4),
    )
}
_INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "u16": (0, 0xFFFF),
    "s16": (-0x8000, 0x7FFF),
    "u32": (0, 0xFFFF_FFFF),
    "s32": (-0x8000_0000, 0x7FFF_FFFF),
    "u64": (0, 0xFFFF_FFFF_FFFF_FFFF),
    "s64": (-0x8000_0000_0000_0000, 0x7FFF_FFFF_FFFF_FFFF),
}


@dataclass(frozen=True, slots=True)
class Point:
    """One value in a register table: where it lives, how it is encoded, and its scale.

    ``scale`` multiplies the raw register value into the canonical unit, e.g. 0.1 for a
    voltage in tenths of a volt or 1000 for an energy register counted in kWh.
    ``low_word_first`` is the word order of multi-register values (Carlo Gavazzi's INT32).
    """

    table: Table
    address: int
    dtype: str
    scale: float = 1.0
    low_word_first: bool = False
    words: int = 0  # only for "string": its length in registers

    @property
    def size(self) -> int:
        """Number of 16-bit registers the point occupies."""
        if self.dtype == "string":
            return self.words
        return _CODECS[self.dtype][1].size // 2

    def encode(self, value: float) -> tuple[list[int], float]:
        """Encode a canonical value; return the registers and the value a reader decodes."""
        value_codec, words_codec = _CODECS[self.dtype]
        if self.dtype in ("f32", "f64"):
            packed = value_codec.pack(value / self.scale)
            decoded = float(value_codec.unpack(packed)[0]) * self.scale
        else:
            low, high = _INTEGER_RANGES[self.dtype]
            raw = min(max(round(value / self.scale), low), high)
            packed = value_codec.pack(raw)
            # Rounded so 785 × 0.01 reads 7.85, as a reader dividing by 100 would see it.
            decoded = round(raw * self.scale, 9)
        words = list(words_codec.unpack(packed))
        if self.low_word_first:
            words.reverse()
        return words, decoded

    def decode(self, words: list[int]) -> float:
        """Decode this point's registers into the canonical unit (writes arrive this way)."""
        value_codec, words_codec = _CODECS[self.dtype]
        ordered = list(reversed(words)) if self.low_word_first else list(words)
        packed = words_codec.pack(*ordered[: words_codec.size // 2])
        return float(value_codec.unpack(packed)[0]) * self.scale


def encode_string(text: str, words: int) -> list[int]:
    """ASCII text padded with NULs into *words* registers, first character in the high byte."""
    data = text.encode("ascii")[: 2 * words].ljust(2 * words, b"\0")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, 2 * words, 2)]


class RegisterImage:
    """The registers a device shows, in contiguous blocks per table; gaps inside a block read 0.

    Real meters answer a block read that spans undocumented registers with zeros, which is what
    lets a read planner bridge small gaps; addresses outside every block are illegal.
    """

    def __init__(self, blocks: Iterable[tuple[Table, int, int]]) -> None:
        self._blocks: dict[Table, list[tuple[int, list[int]]]] = {table: [] for table in Table}
        for table, start, count in blocks:
            self._blocks[table].append((start, [0] * count))
        for entries in self._blocks.values():
            entries.sort(key=lambda entry: entry[0])
        # Points and polls ask for the same ranges over and over: remember where they live.
        self._slots: dict[tuple[Table, int, int], tuple[int, list[int]]] = {}

    def blocks(self) -> list[tuple[Table, int, int]]:
        """Every (table, first address, register count) this device serves."""
        return [
            (table, start, len(words))
            for table, entries in self._blocks.items()
            for start, words in entries
        ]

    def _find(self, table: Table, address: int, count: int) -> tuple[int, list[int]] | None:
        key = (table, address, count)
        found = self._slots.get(key)
        if found is None:
            for start, words in self._blocks[table]:
                if start <= address and address + count <= start + len(words):
                    found = self._slots[key] = (start, words)
                    break
        return found

    def serves(self, table: Table) -> bool:
        """Whether the device has any register in *table*."""
        return bool(self._blocks[table])

    def covers(self, table: Table, address: int, count: int) -> bool:
        """Whether one block holds every register of the range."""
        return self._find(table, address, count) is not None

    def set_words(self, table: Table, address: int, words: list[int]) -> None:
        """Store raw registers."""
        found = self._find(table, address, len(words))
        if found is None:
            msg = f"{table.value} {address}+{len(words)} lies outside the register map"
            raise KeyError(msg)
        start, block = found
        block[address - start : address - start + len(words)] = words

    def put(self, point: Point, value: float) -> float:
        """Encode *value* into the point's registers; return what a reader will decode."""
        words, decoded = point.encode(value)
        self.set_words(point.table, point.address, words)
        return decoded

    def put_string(self, point: Point, text: str) -> None:
        """Store a string point."""
        self.set_words(point.table, point.address, encode_string(text, point.words))

    def read(self, table: Table, address: int, count: int) -> list[int] | None:
        """The registers of a range, or None when the range is not served."""
        found = self._find(table, address, count)
        if found is None:
            return None
        start, block = found
        return block[address - start : address - start + count]
