"""SunSpec register layout: the 'SunS' marker and a chain of models laid out from pysunspec2's JSON.

The model definitions (point names, types, sizes, order) come from the SunSpec Alliance's model
JSON shipped in pysunspec2; each simulator chooses the values and scale factors itself.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import sunspec2
from sunspec2 import mdef

from simulators.modbus._device import SimulatedDevice, TruthKey
from simulators.modbus._registers import Point, Table

SUNSPEC_BASE = 40000
SUNS_MARKER = (0x5375, 0x6E53)  # "SunS"
END_MODEL_ID = 0xFFFF

_MODEL_DIR = Path(sunspec2.__file__).parent / "models" / "json"
_DTYPES = {
    "uint16": "u16",
    "int16": "s16",
    "enum16": "u16",
    "bitfield16": "u16",
    "count": "u16",
    "sunssf": "s16",
    "pad": "u16",
    "acc16": "u16",
    "uint32": "u32",
    "int32": "s32",
    "acc32": "u32",
    "enum32": "u32",
    "bitfield32": "u32",
    "uint64": "u64",
    "int64": "s64",
    "acc64": "u64",
    "float32": "f32",
}
# What a SunSpec device shows for a point it does not implement.
_NOT_IMPLEMENTED = {
    "uint16": 0xFFFF,
    "enum16": 0xFFFF,
    "bitfield16": 0xFFFF,
    "int16": -0x8000,
    "sunssf": -0x8000,
    "pad": 0x8000,
    "acc16": 0,
    "uint32": 0xFFFF_FFFF,
    "enum32": 0xFFFF_FFFF,
    "bitfield32": 0xFFFF_FFFF,
    "int32": -0x8000_0000,
    "acc32": 0,
    "uint64": 0xFFFF_FFFF_FFFF_FFFF,
    "int64": -0x8000_0000_0000_0000,
    "acc64": 0,
    "count": 0,
}


@dataclass(frozen=True, slots=True)
class SunSpecPoint:
    """A point of a laid-out model: where it sits and its SunSpec type."""

    name: str
    address: int
    sunspec_type: str
    size: int
    scale_factor: str | None

    def point(self, scale: float = 1.0) -> Point:
        """This point as a register point (holding table), *scale* from its scale factor."""
        if self.sunspec_type == "string":
            return Point(Table.HOLDING, self.address, "string", words=self.size)
        return Point(Table.HOLDING, self.address, _DTYPES[self.sunspec_type], scale)

    @property
    def not_implemented(self) -> int:
        """The raw value meaning 'not implemented' (0 words for strings)."""
        return _NOT_IMPLEMENTED.get(self.sunspec_type, 0)


class SunSpecMap:
    """A SunSpec device's holding-register layout: marker, models in order, end model."""

    def __init__(self, model_ids: tuple[int, ...], base: int = SUNSPEC_BASE) -> None:
        self.base = base
        self.model_ids = model_ids
        self.models: dict[int, dict[str, SunSpecPoint]] = {}
        self.headers: list[tuple[int, int, int]] = []  # (address, model id, length)
        address = base + 2
        for model_id in model_ids:
            definition = mdef.from_json_file(str(_MODEL_DIR / mdef.to_json_filename(model_id)))
            points: dict[str, SunSpecPoint] = {}
            offset = address
            for point in definition["group"]["points"]:
                size = int(point.get("size", 1))
                points[point["name"]] = SunSpecPoint(
                    point["name"], offset, point["type"], size, point.get("sf")
                )
                offset += size
            length = offset - address - 2  # L excludes the ID and L registers
            self.models[model_id] = points
            self.headers.append((address, model_id, length))
            address = offset
        self.end_address = address
        self.register_count = address + 2 - base

    def block(self) -> tuple[Table, int, int]:
        """The one holding block covering marker, models and end model."""
        return (Table.HOLDING, self.base, self.register_count)

    def point(self, model_id: int, name: str) -> SunSpecPoint:
        """A point by model and name (KeyError when the model lacks it)."""
        return self.models[model_id][name]


class SunSpecDevice(SimulatedDevice):
    """A simulated device whose registers are a SunSpec model chain with fixed scale factors."""

    def __init__(
        self,
        *,
        now: Callable[[], float],
        seed: int,
        layout: SunSpecMap,
        scale_factors: Mapping[tuple[int, str], int],
    ) -> None:
        super().__init__(now=now, seed=seed, blocks=[layout.block()])
        self.layout = layout
        self._scale_factors = dict(scale_factors)
        self._scaled: dict[tuple[int, str, float], Point] = {}
        self._write_frame()

    def _write_frame(self) -> None:
        """Marker, model headers, 'not implemented' everywhere, scale factors, end model."""
        image = self._image
        image.set_words(Table.HOLDING, self.layout.base, list(SUNS_MARKER))
        for address, model_id, length in self.layout.headers:
            for point in self.layout.models[model_id].values():
                if point.sunspec_type == "string":
                    image.set_words(Table.HOLDING, point.address, [0] * point.size)
                else:
                    image.put(point.point(), point.not_implemented)
            image.set_words(Table.HOLDING, address, [model_id, length])
        for (model_id, name), exponent in self._scale_factors.items():
            image.put(self.layout.point(model_id, name).point(), exponent)
        image.set_words(Table.HOLDING, self.layout.end_address, [END_MODEL_ID, 0])

    def scaled_point(self, model_id: int, name: str, unit_scale: float = 1.0) -> Point:
        """The register point of *name*, scaled by its scale factor (and a unit conversion)."""
        key = (model_id, name, unit_scale)
        point = self._scaled.get(key)
        if point is None:
            sunspec_point = self.layout.point(model_id, name)
            exponent = 0
            if sunspec_point.scale_factor is not None:
                exponent = self._scale_factors[(model_id, sunspec_point.scale_factor)]
            point = self._scaled[key] = sunspec_point.point(unit_scale * 10.0**exponent)
        return point

    def show_point(
        self,
        model_id: int,
        name: str,
        value: float,
        key: TruthKey | None = None,
        unit_scale: float = 1.0,
    ) -> float:
        """Show a value in a SunSpec point; *unit_scale* converts register units (Pct → ratio)."""
        return self.show(self.scaled_point(model_id, name, unit_scale), value, key)

    def show_string(self, model_id: int, name: str, text: str) -> None:
        """Show text in a SunSpec string point."""
        self.show_text(self.layout.point(model_id, name).point(), text)
