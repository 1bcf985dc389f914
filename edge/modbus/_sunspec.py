"""SunSpec: find the 'SunS' marker, walk the model chain, and turn models into registers.

Point layouts come from the model definitions shipped with pysunspec2 (sunspec2/models/json);
only the choice of which points become which canonical quantities is ours. Pure except for
``walk_chain``, which takes the read function as an argument.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from edge.modbus._codec import decode_text
from edge.modbus._profile import DataType, Phase, Register
from messages import DeviceError

#: Where the 'SunS' marker may sit, in the order the specification says to look.
SUNSPEC_BASES = (40000, 0, 50000)
SUNS_MARKER = (0x5375, 0x6E53)
END_OF_CHAIN = 0xFFFF
MAX_MODELS = 64

COMMON = 1
INVERTERS = frozenset({101, 102, 103, 111, 112, 113})
NAMEPLATE_SETTINGS = frozenset({120, 121})
METERS = frozenset({201, 202, 203, 204, 211, 212, 213, 214})
SUPPORTED = frozenset({COMMON}) | INVERTERS | NAMEPLATE_SETTINGS | METERS

_TYPES: dict[str, DataType] = {
    "int16": "s16",
    "uint16": "u16",
    "enum16": "u16",
    "bitfield16": "u16",
    "count": "u16",
    "sunssf": "s16",
    "pad": "u16",
    "int32": "s32",
    "uint32": "u32",
    "acc32": "u32",
    "enum32": "u32",
    "bitfield32": "u32",
    "float32": "f32",
    "uint64": "u64",
    "acc64": "u64",
    "float64": "f64",
    "string": "string",
}

#: SunSpec's "not implemented" value of each integer type.
_NOT_IMPLEMENTED: dict[str, int] = {
    "int16": -0x8000,
    "sunssf": -0x8000,
    "uint16": 0xFFFF,
    "enum16": 0xFFFF,
    "int32": -0x8000_0000,
    "uint32": 0xFFFF_FFFF,
    "enum32": 0xFFFF_FFFF,
}

_PHASES: dict[str, Phase] = {"A": "l1", "B": "l2", "C": "l3"}

_Meaning = tuple[str, Phase | None, float]


def _meanings() -> dict[str, _Meaning]:
    """SunSpec point name → (canonical quantity, phase, extra scale) for inverters and meters."""
    table: dict[str, _Meaning] = {
        "A": ("current_a", None, 1.0),
        "W": ("active_power_w", None, 1.0),
        "VA": ("apparent_power_va", None, 1.0),
        "VAr": ("reactive_power_var", None, 1.0),
        "VAR": ("reactive_power_var", None, 1.0),
        "Hz": ("frequency_hz", None, 1.0),
        "PF": ("power_factor", None, 0.01),  # SunSpec PF is in percent
        "WH": ("energy_export_wh", None, 1.0),  # an inverter's lifetime production
        "TotWhExp": ("energy_export_wh", None, 1.0),
        "TotWhImp": ("energy_import_wh", None, 1.0),
        "TotVArhImpQ1": ("reactive_energy_import_varh", None, 1.0),
        "DCA": ("dc_current_a", None, 1.0),
        "DCV": ("dc_voltage_v", None, 1.0),
        "DCW": ("dc_power_w", None, 1.0),
        "TmpCab": ("temperature_c", None, 1.0),
        "St": ("operating_state", None, 1.0),
    }
    for letter, phase in _PHASES.items():
        table[f"Aph{letter}"] = ("current_a", phase, 1.0)
        table[f"PhVph{letter}"] = ("voltage_v", phase, 1.0)
        table[f"Wph{letter}"] = ("active_power_w", phase, 1.0)
        table[f"VAph{letter}"] = ("apparent_power_va", phase, 1.0)
        table[f"VARph{letter}"] = ("reactive_power_var", phase, 1.0)
        table[f"PFph{letter}"] = ("power_factor", phase, 0.01)
    # Line-to-line voltages: the inverter models call them PPVph.., the meter models PhVph..
    for pair, phase in (("AB", "l1"), ("BC", "l2"), ("CA", "l3")):
        table[f"PPVph{pair}"] = ("voltage_ll_v", phase, 1.0)
        table[f"PhVph{pair}"] = ("voltage_ll_v", phase, 1.0)
    return table


MEANINGS = _meanings()


@dataclass(frozen=True, slots=True)
class ModelInstance:
    """A model found in the chain: its id, the address of its ID register and body length."""

    model_id: int
    address: int
    length: int


@dataclass(frozen=True, slots=True)
class PointLayout:
    name: str
    offset: int
    sunspec_type: str
    size: int
    scale_factor: str | None


@cache
def model_layout(model_id: int) -> tuple[PointLayout, ...]:
    """The fixed (top-level) points of a model, with offsets from its ID register."""
    document = _model_json(model_id)
    offset = 0
    points: list[PointLayout] = []
    for point in document["group"]["points"]:
        size = int(point.get("size", 1))
        sf = point.get("sf")
        points.append(
            PointLayout(
                point["name"], offset, point["type"], size, sf if isinstance(sf, str) else None
            )
        )
        offset += size
    return tuple(points)


def _model_json(model_id: int) -> dict[str, Any]:
    try:
        text = (
            resources.files("sunspec2")
            .joinpath("models", "json", f"model_{model_id}.json")
            .read_text(encoding="utf-8")
        )
    except FileNotFoundError:
        msg = f"SunSpec model {model_id} is not defined by pysunspec2"
        raise KeyError(msg) from None
    document: dict[str, Any] = json.loads(text)
    return document


def registers_for(model: ModelInstance) -> list[Register]:
    """Registers that read *model*'s canonical quantities, with their scale-factor registers.

    Informational points of the common model (manufacturer, model, serial) are included
    without a quantity so that a scan can show them.
    """
    if model.model_id not in SUPPORTED:
        return []
    layout = model_layout(model.model_id)
    by_name = {p.name: p for p in layout}
    prefix = f"m{model.model_id}_{model.address}"
    registers: list[Register] = []
    if model.model_id == COMMON:
        for name in ("Mn", "Md", "SN", "Vr"):
            point = by_name[name]
            registers.append(
                Register(
                    name=f"{prefix}_{name.lower()}",
                    table="holding",
                    address=model.address + point.offset,
                    data_type="string",
                    count=point.size,
                )
            )
        return registers
    if model.model_id in NAMEPLATE_SETTINGS:
        return []  # ratings and settings: not telemetry; read by scan only
    for point in layout:
        meaning = MEANINGS.get(point.name)
        if meaning is None or point.offset + point.size > model.length + 2:
            continue
        quantity, phase, extra_scale = meaning
        if model.model_id in INVERTERS and point.name == "W":
            # An inverter's W is what it produces; the canonical sign is positive when consuming.
            extra_scale = -extra_scale
        sf_address = None
        if point.scale_factor is not None and point.scale_factor in by_name:
            sf_address = model.address + by_name[point.scale_factor].offset
        registers.append(
            Register(
                name=f"{prefix}_{point.name.lower()}",
                table="holding",
                address=model.address + point.offset,
                data_type=_TYPES[point.sunspec_type],
                scale=extra_scale,
                scale_factor_register=sf_address,
                quantity=quantity,
                phase=phase,
                unit="",
                group=None,
                not_implemented=_NOT_IMPLEMENTED.get(point.sunspec_type),
            )
        )
    return registers


ReadHolding = Callable[[int, int], Awaitable[list[int]]]


async def find_base(read: ReadHolding) -> int:
    """The address of the 'SunS' marker; DeviceError when the device has none."""
    for base in SUNSPEC_BASES:
        try:
            words = await read(base, 2)
        except DeviceError:
            continue  # exception response: nothing at this base
        if tuple(words) == SUNS_MARKER:
            return base
    msg = "no SunSpec marker 'SunS' at 40000, 0 or 50000"
    raise DeviceError(msg)


async def walk_chain(read: ReadHolding) -> list[ModelInstance]:
    """Find the marker and list the models up to the end-of-chain marker."""
    base = await find_base(read)
    address = base + 2
    models: list[ModelInstance] = []
    for _ in range(MAX_MODELS):
        model_id, length = await read(address, 2)
        if model_id == END_OF_CHAIN:
            return models
        models.append(ModelInstance(model_id, address, length))
        address += 2 + length
        if address > 0xFFFF:
            break
    msg = f"SunSpec model chain does not end within {MAX_MODELS} models"
    raise DeviceError(msg)


def describe_common(words: list[int]) -> dict[str, str]:
    """Manufacturer, model and serial number from the body of a common model (1)."""
    layout = {p.name: p for p in model_layout(COMMON)}
    info: dict[str, str] = {}
    for name, key in (("Mn", "manufacturer"), ("Md", "model"), ("SN", "serial"), ("Vr", "version")):
        point = layout[name]
        chunk = words[point.offset : point.offset + point.size]
        if len(chunk) == point.size:
            info[key] = decode_text(chunk)
    return info
