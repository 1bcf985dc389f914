"""A device on a bus: polls its profile's registers as planned blocks and writes its setpoints."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from edge.modbus._codec import decode_number, decode_text, encode_number
from edge.modbus._planner import BlockRead, Span, plan_reads
from edge.modbus._profile import Profile, Register, WritablePoint
from edge.modbus._sunspec import registers_for, walk_chain
from messages import ConfigError, DeviceError, Reading, now_ms

if TYPE_CHECKING:
    from edge.modbus._bus import ModbusBus

log = logging.getLogger("edge.modbus")


class SetpointRejectedError(ConfigError):
    """A write was refused before reaching the wire: the value is not one the device accepts."""


class ModbusDevice:
    """One unit on a bus, read and written through its profile. Made by ``ModbusBus.device``."""

    def __init__(
        self,
        bus: ModbusBus,
        unit: int,
        profile: Profile,
        *,
        name: str,
        limits: Mapping[str, float] | None = None,
    ) -> None:
        self.bus = bus
        self.unit = unit
        self.name = name
        self._declared = profile
        self.limits = dict(limits or {})
        for point_name, maximum in self.limits.items():
            point = profile.point(point_name)  # ConfigError for an unknown point
            if not point.accepts(maximum):
                msg = (
                    f"{name}: limit {maximum:g} for {point_name} is not a value the "
                    f"{profile.model} accepts ({point.describe_allowed()})"
                )
                raise ConfigError(msg)
        self._profile: Profile | None = profile if profile.discovery == "static" else None
        self._plans: dict[frozenset[str] | None, list[BlockRead]] = {}

    @property
    def profile(self) -> Profile:
        """The concrete profile (for SunSpec: after discovery, with the discovered registers)."""
        if self._profile is None:
            msg = f"{self.name}: SunSpec discovery has not run yet (await device.discover())"
            raise ConfigError(msg)
        return self._profile

    @property
    def online(self) -> bool | None:
        return self.bus.is_online(self.unit)

    async def discover(self) -> Profile:
        """Resolve the register map: SunSpec walks the model chain; a static profile is as is."""
        if self._profile is not None:
            return self._profile
        models = await walk_chain(self._probe_holding)
        registers = [r for model in models for r in registers_for(model)]
        if not any(r.quantity for r in registers):
            found = ", ".join(str(m.model_id) for m in models) or "none"
            msg = f"{self.name}: no supported SunSpec model in the chain (found: {found})"
            raise DeviceError(msg)
        document = self._declared.model_dump()
        document["registers"] = [r.model_dump() for r in registers]
        document["discovery"] = "static"
        self._profile = Profile.model_validate(document)
        self._plans.clear()
        log.info(
            "sunspec chain discovered",
            extra={
                "device": self.name,
                "unit": self.unit,
                "models": [m.model_id for m in models],
                "registers": len(registers),
            },
        )
        return self._profile

    def plan(self, groups: Iterable[str] | None = None) -> list[BlockRead]:
        """The block reads one poll of *groups* (default: every measured register) takes."""
        key = None if groups is None else frozenset(groups)
        plan = self._plans.get(key)
        if plan is None:
            profile = self.profile
            plan = plan_reads(
                spans_of(profile.measured(key)),
                max_registers=profile.max_registers_per_request,
                max_gap=profile.max_gap,
                forbidden=profile.is_forbidden,
            )
            self._plans[key] = plan
        return plan

    async def poll(self, groups: Iterable[str] | None = None) -> list[Reading]:
        """Read every measured register of *groups* and return canonical readings.

        Raises TransportError (no answer, or backed off) or DeviceError (bad answer).
        """
        await self.discover()
        key = None if groups is None else frozenset(groups)
        registers = self.profile.measured(key)
        words: dict[tuple[str, int], int] = {}
        for block in self.plan(key):
            values = await self.bus.read(self.unit, block.table, block.address, block.count)
            for offset, word in enumerate(values):
                words[(block.table, block.address + offset)] = word
        ts = now_ms(self.bus.clock)
        readings: list[Reading] = []
        for register in registers:
            value = value_of(register, words)
            if value is not None:
                quantity, phase = register.quantity or "", register.phase
                readings.append(Reading(quantity=quantity, phase=phase, value=value, ts=ts))
        return readings

    async def read_info(self) -> dict[str, str | float]:
        """Informational registers (those without a quantity): serial number, model name…"""
        await self.discover()
        info: dict[str, str | float] = {}
        for register in self.profile.registers:
            if register.quantity is not None:
                continue
            raw = await self.bus.read(self.unit, register.table, register.address, register.words)
            if register.data_type == "string":
                info[register.name] = decode_text(raw, register.word_order)
            else:
                info[register.name] = decode_number(raw, register.data_type, register.word_order)
        return info

    def check_setpoint(self, point_name: str, value: float) -> WritablePoint:
        """Validate a setpoint against the profile; SetpointRejectedError says why it is refused."""
        point = self._declared.point(point_name)
        if not math.isfinite(value) or not point.accepts(value):
            unit = f" {point.unit}" if point.unit else ""
            msg = (
                f"{self.name}: {point_name} = {value:g}{unit} rejected: the {self._declared.model} "
                f"accepts {point.describe_allowed()}{unit}"
            )
            raise SetpointRejectedError(msg)
        limit = self.limits.get(point_name)
        if limit is not None and value > limit:
            unit = f" {point.unit}" if point.unit else ""
            msg = (
                f"{self.name}: {point_name} = {value:g}{unit} rejected: above this "
                f"installation's limit of {limit:g}{unit}"
            )
            raise SetpointRejectedError(msg)
        return point

    async def write(self, point_name: str, value: float, *, read_back: bool = True) -> float | None:
        """Write a setpoint after checking it; return the value read back (None if not asked).

        The check happens before anything is queued, so a refused value never reaches the wire.
        """
        point = self.check_setpoint(point_name, value)
        raw = value / point.scale
        try:
            words = encode_number(raw, point.data_type, point.word_order)
        except ValueError as exc:
            raise SetpointRejectedError(f"{self.name}: {point_name} = {value:g}: {exc}") from None
        await self.bus.write(self.unit, point.address, words, single=point.function == "single")
        log.info(
            "setpoint written",
            extra={"device": self.name, "unit": self.unit, "point": point_name, "value": value},
        )
        if not read_back:
            return None
        return await self.read_point(point_name)

    async def read_point(self, point_name: str) -> float:
        """The current value of a writable point, from its read-back register or itself."""
        point = self._declared.point(point_name)
        if point.read_back is not None:
            register = self._declared.register(point.read_back)
            raw = await self.bus.read(self.unit, register.table, register.address, register.words)
            words: dict[tuple[str, int], int] = {
                (register.table, register.address + i): w for i, w in enumerate(raw)
            }
            value = value_of(register, words)
            if value is None:
                msg = f"{self.name}: {point.read_back} reads as not available"
                raise DeviceError(msg)
            return value
        raw = await self.bus.read(self.unit, "holding", point.address, point.words)
        return decode_number(raw, point.data_type, point.word_order) * point.scale

    async def configure_fail_safe(self, timeout_s: float | None = None) -> None:
        """Program the device's own fallback: its fail-safe current and communication timeout."""
        fail_safe = self._declared.fail_safe
        if fail_safe is None:
            msg = f"{self._declared.model} has no fail-safe registers"
            raise ConfigError(msg)
        if fail_safe.current_point is not None:
            current = self._declared.point(fail_safe.current_point)
            if current.fail_safe_value is None:
                msg = f"{self._declared.model}: {current.name} has no fail_safe_value"
                raise ConfigError(msg)
            await self.write(current.name, current.fail_safe_value, read_back=False)
        if fail_safe.timeout_point is not None:
            seconds = fail_safe.default_timeout_s if timeout_s is None else timeout_s
            await self.write(fail_safe.timeout_point, seconds, read_back=False)

    async def _probe_holding(self, address: int, count: int) -> list[int]:
        # discovery asks where the device may have nothing: an exception there is an answer
        return await self.bus.read(self.unit, "holding", address, count, probe=True)


def spans_of(registers: Sequence[Register]) -> list[Span]:
    """The register spans a set of values (and their scale-factor registers) occupy."""
    spans = [Span(r.table, r.address, r.end) for r in registers]
    spans += [
        Span(r.table, r.scale_factor_register, r.scale_factor_register)
        for r in registers
        if r.scale_factor_register is not None
    ]
    return spans


def value_of(register: Register, words: Mapping[tuple[str, int], int]) -> float | None:
    """The canonical value of *register* from read words; None when the device marks it n/a."""
    try:
        raw_words = [words[(register.table, register.address + i)] for i in range(register.words)]
    except KeyError:
        return None
    raw = decode_number(raw_words, register.data_type, register.word_order)
    if register.not_implemented is not None and raw == register.not_implemented:
        return None
    if not math.isfinite(raw):
        return None
    if register.mask is not None or register.shift:
        field = int(raw) & register.mask if register.mask is not None else int(raw)
        raw = field >> register.shift
    if register.value_map is not None:
        mapped = register.value_map.get(int(raw))
        if mapped is None:
            return None
        return mapped
    value = raw * register.scale
    if register.scale_factor_register is not None:
        sf_word = words.get((register.table, register.scale_factor_register))
        if sf_word is None:
            return None
        sf = decode_number([sf_word], "s16", "big")
        if sf == -0x8000 or not -10 <= sf <= 10:
            return None
        value *= 10.0**sf
    value = round(value, 9)
    return value if math.isfinite(value) else None
