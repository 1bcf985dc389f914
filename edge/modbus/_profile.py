"""Device profiles: the YAML register maps of firmware_configs/modbus/, validated on load."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from messages import QUANTITIES, ConfigError

Table = Literal["holding", "input"]
DataType = Literal["u16", "s16", "u32", "s32", "u64", "f32", "f64", "string"]
WordOrder = Literal["big", "little"]
Phase = Literal["l1", "l2", "l3"]
Address = Annotated[int, Field(ge=0, le=0xFFFF)]
Name = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,64}$")]

#: The Modbus application protocol's limit for one read of holding or input registers.
MAX_READ_REGISTERS = 125

WORDS_OF: dict[str, int] = {
    "u16": 1,
    "s16": 1,
    "u32": 2,
    "s32": 2,
    "u64": 4,
    "f32": 2,
    "f64": 4,
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _canonical(name: str | None) -> str | None:
    if name is not None and name not in QUANTITIES:
        msg = f"unknown quantity {name!r}: expected a canonical name from messages/quantities.py"
        raise ValueError(msg)
    return name


class Register(_Frozen):
    """One value in the device's register map and how it becomes a canonical reading.

    ``value = raw * scale * 10**sf`` where ``sf`` is the s16 read from ``scale_factor_register``
    (SunSpec's ``*_SF`` points). For a status register ``(raw & mask) >> shift`` picks the field
    and ``value_map`` translates device codes (e.g. a charger's state) into the canonical
    quantity's codes; unmapped codes produce no reading. A register without a quantity is
    informational (serial number, model name) and is read only on request.
    """

    name: Name
    table: Table = "holding"
    address: Address
    data_type: DataType
    word_order: WordOrder = "big"
    count: Annotated[int, Field(ge=1, le=MAX_READ_REGISTERS)] | None = None
    scale: float = 1.0
    scale_factor_register: Address | None = None
    unit: str = ""
    quantity: str | None = None
    phase: Phase | None = None
    group: Name | None = None
    not_implemented: int | None = None
    mask: Annotated[int, Field(ge=1)] | None = None
    shift: Annotated[int, Field(ge=0, le=63)] = 0
    value_map: dict[int, float] | None = None

    _quantity = field_validator("quantity")(_canonical)

    @model_validator(mode="after")
    def _size(self) -> Self:
        if (self.mask is not None or self.shift) and self.data_type in {"f32", "f64", "string"}:
            msg = "mask and shift apply to integer registers only"
            raise ValueError(msg)
        if self.data_type == "string":
            if self.count is None:
                msg = "a string register needs 'count' (its length in registers)"
                raise ValueError(msg)
            if self.quantity is not None:
                msg = "a string register cannot carry a numeric quantity"
                raise ValueError(msg)
        elif self.count is not None and self.count != WORDS_OF[self.data_type]:
            msg = f"{self.data_type} takes {WORDS_OF[self.data_type]} registers, not {self.count}"
            raise ValueError(msg)
        if self.end > 0xFFFF:
            msg = f"register runs past address 65535 (ends at {self.end})"
            raise ValueError(msg)
        return self

    @property
    def words(self) -> int:
        """Number of 16-bit registers this value occupies."""
        return self.count if self.count is not None else WORDS_OF[self.data_type]

    @property
    def end(self) -> int:
        """Last address this value occupies (inclusive)."""
        return self.address + self.words - 1


class AllowedRange(_Frozen):
    """A closed interval of values a writable point accepts; min == max for a discrete value."""

    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            msg = f"min {self.min} is above max {self.max}"
            raise ValueError(msg)
        return self

    def __contains__(self, value: float) -> bool:
        return self.min <= value <= self.max


class WritablePoint(_Frozen):
    """A setpoint the cloud or a technician may write, with the limits checked before the wire."""

    name: Name
    quantity: str | None = None
    address: Address
    data_type: DataType
    word_order: WordOrder = "big"
    scale: float = 1.0
    unit: str = ""
    allowed: Annotated[list[AllowedRange], Field(min_length=1)]
    fail_safe_value: float | None = None
    read_back: Name | None = None
    function: Literal["single", "multiple"] = "multiple"

    _quantity = field_validator("quantity")(_canonical)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.data_type == "string":
            msg = "a writable point must be numeric"
            raise ValueError(msg)
        if self.function == "single" and WORDS_OF[self.data_type] != 1:
            msg = "function 'single' (FC06) writes one register: use a 16-bit data_type"
            raise ValueError(msg)
        if self.fail_safe_value is not None and not self.accepts(self.fail_safe_value):
            msg = f"fail_safe_value {self.fail_safe_value} is outside the allowed values"
            raise ValueError(msg)
        return self

    @property
    def words(self) -> int:
        return WORDS_OF[self.data_type]

    def accepts(self, value: float) -> bool:
        """Whether *value* (in canonical units) is one the device accepts."""
        return any(value in allowed for allowed in self.allowed)

    def describe_allowed(self) -> str:
        """The accepted values as a person would say them, e.g. ``0 or 6–32``."""
        parts = [
            f"{_num(r.min)}" if r.min == r.max else f"{_num(r.min)}–{_num(r.max)}"
            for r in self.allowed
        ]
        return " or ".join(parts)


def _num(value: float) -> str:
    return f"{value:g}"


class FailSafe(_Frozen):
    """The device's own fallback when its controller falls silent: a current and/or a timeout."""

    current_point: Name | None = None
    timeout_point: Name | None = None
    default_timeout_s: float = Field(default=60.0, gt=0)


class PollGroup(_Frozen):
    """Registers read together at their own interval (fast power values, slow energy counters)."""

    interval_s: float = Field(gt=0)


class ForbiddenRange(_Frozen):
    """Addresses that must never be read (the device answers with an exception or misbehaves)."""

    table: Table | None = None
    start: Address
    end: Address

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.start > self.end:
            msg = f"start {self.start} is above end {self.end}"
            raise ValueError(msg)
        return self

    def covers(self, table: Table, first: int, last: int) -> bool:
        """Whether any address of ``first..last`` in *table* falls in this range."""
        if self.table is not None and self.table != table:
            return False
        return first <= self.end and last >= self.start


class SignatureCheck(_Frozen):
    """One register whose value identifies the model during a scan."""

    table: Table = "holding"
    address: Address
    data_type: DataType
    word_order: WordOrder = "big"
    count: int | None = None
    equals: float | str | None = None
    min: float | None = None
    max: float | None = None

    @property
    def words(self) -> int:
        return self.count if self.count is not None else WORDS_OF[self.data_type]


class Profile(_Frozen):
    """A device model's register map, writable points, poll groups and scan signature."""

    model: Name
    manufacturer: str
    description: str = ""
    source: str
    discovery: Literal["static", "sunspec"] = "static"
    max_registers_per_request: Annotated[int, Field(ge=1, le=MAX_READ_REGISTERS)] = (
        MAX_READ_REGISTERS
    )
    max_gap: Annotated[int, Field(ge=0, le=MAX_READ_REGISTERS)] = 16
    forbidden: list[ForbiddenRange] = []
    poll_groups: Annotated[dict[Name, PollGroup], Field(min_length=1)] = {
        "default": PollGroup(interval_s=5.0)
    }
    registers: list[Register] = []
    writable: list[WritablePoint] = []
    fail_safe: FailSafe | None = None
    signature: list[SignatureCheck] = []

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [r.name for r in self.registers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            msg = f"register names must be unique, repeated: {', '.join(duplicates)}"
            raise ValueError(msg)
        for register in self.registers:
            if register.group is not None and register.group not in self.poll_groups:
                msg = f"register {register.name!r} names unknown poll group {register.group!r}"
                raise ValueError(msg)
            if register.words > self.max_registers_per_request:
                msg = (
                    f"register {register.name!r} spans {register.words} registers, more than "
                    f"max_registers_per_request {self.max_registers_per_request}"
                )
                raise ValueError(msg)
            for span in (register.address, register.end), _sf_span(register):
                if span is not None and self.is_forbidden(register.table, *span):
                    msg = f"register {register.name!r} lies in a forbidden address range"
                    raise ValueError(msg)
        points = {p.name for p in self.writable}
        for point in self.writable:
            if point.read_back is not None and point.read_back not in names:
                msg = f"writable {point.name!r} reads back unknown register {point.read_back!r}"
                raise ValueError(msg)
        if self.fail_safe is not None:
            for ref in (self.fail_safe.current_point, self.fail_safe.timeout_point):
                if ref is not None and ref not in points:
                    msg = f"fail_safe names unknown writable point {ref!r}"
                    raise ValueError(msg)
        return self

    def is_forbidden(self, table: Table, first: int, last: int) -> bool:
        """Whether reading ``first..last`` of *table* would touch a forbidden address."""
        return any(f.covers(table, first, last) for f in self.forbidden)

    def point(self, name: str) -> WritablePoint:
        """The writable point *name*; ConfigError if the profile has none by that name."""
        for point in self.writable:
            if point.name == name:
                return point
        known = ", ".join(p.name for p in self.writable) or "none"
        msg = f"{self.model} has no writable point {name!r} (writable: {known})"
        raise ConfigError(msg)

    def register(self, name: str) -> Register:
        for register in self.registers:
            if register.name == name:
                return register
        msg = f"{self.model} has no register {name!r}"
        raise ConfigError(msg)

    def measured(self, groups: Iterable[str] | None = None) -> list[Register]:
        """Registers that produce readings, optionally only those of *groups*."""
        wanted = None if groups is None else set(groups)
        return [
            r
            for r in self.registers
            if r.quantity is not None and (wanted is None or self.group_of(r) in wanted)
        ]

    def group_of(self, register: Register) -> str:
        """The poll group of *register*: its own, else the profile's first."""
        return register.group if register.group is not None else next(iter(self.poll_groups))


def _sf_span(register: Register) -> tuple[int, int] | None:
    if register.scale_factor_register is None:
        return None
    return register.scale_factor_register, register.scale_factor_register


# --- loading ----------------------------------------------------------------------------------


def profile_dir() -> Path:
    """Where shipped profiles live: the repository's, else the copy inside an installed wheel."""
    here = Path(__file__).resolve()
    in_repo = here.parents[2] / "firmware_configs" / "modbus"
    if in_repo.is_dir():
        return in_repo
    return here.parents[2] / "hinode" / "_firmware_configs" / "modbus"


def available_profiles() -> list[str]:
    """Names of the shipped profiles, sorted."""
    return sorted(p.stem for p in profile_dir().glob("*.yaml"))


_NAME_RE = re.compile(r"^[a-z0-9_]{1,64}$")


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a shipped profile by name (``"sdm630"``) or any profile file by path."""
    if isinstance(name_or_path, str) and _NAME_RE.fullmatch(name_or_path):
        path = profile_dir() / f"{name_or_path}.yaml"
        if not path.is_file():
            known = ", ".join(available_profiles())
            msg = f"no profile named {name_or_path!r} (shipped: {known})"
            raise ConfigError(msg)
        return _load_cached(path)
    return _load_cached(Path(name_or_path).resolve())


@cache
def _load_cached(path: Path) -> Profile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"{path}: cannot read profile ({exc.strerror or exc})"
        raise ConfigError(msg) from None
    return parse_profile(text, source=str(path))


def parse_profile(text: str, *, source: str = "<profile>") -> Profile:
    """Validate YAML text as a profile; a ConfigError names *source*, the YAML path and why."""
    try:
        document: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        msg = f"{source}:{where} not valid YAML ({getattr(exc, 'problem', exc)})"
        raise ConfigError(msg) from None
    if not isinstance(document, dict):
        msg = f"{source}: expected a mapping at the top level, got {type(document).__name__}"
        raise ConfigError(msg)
    try:
        return Profile.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe_validation_error(exc)}") from None


def describe_validation_error(exc: ValidationError) -> str:
    """``registers[3].data_type: expected one of …`` for the first error, and how many more."""
    first = exc.errors(include_url=False)[0]
    where = _yaml_path(first["loc"]) or "(top level)"
    message = first["msg"].removeprefix("Value error, ")
    more = exc.error_count() - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{where}: {message}{suffix}"


def _yaml_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif "[" in part or "-" in part or "," in part:
            # pydantic's names for union / constrained branches, not a YAML key
            continue
        else:
            path += f".{part}" if path else part
    return path
