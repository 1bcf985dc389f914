"""Finding the units on a bus and what they appear to be (SunSpec chain or profile signature)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from edge.modbus._bus import ModbusBus
from edge.modbus._codec import decode_number, decode_text
from edge.modbus._profile import Profile, SignatureCheck, available_profiles, load_profile
from edge.modbus._sunspec import COMMON, SUNSPEC_BASES, describe_common, walk_chain
from messages import DeviceError, HinodeError, TransportError


@dataclass(frozen=True, slots=True)
class ScanResult:
    """A unit that answered, and what it appears to be."""

    unit: int
    sunspec_models: tuple[int, ...] = ()
    profiles: tuple[str, ...] = ()
    info: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        parts: list[str] = []
        if self.sunspec_models:
            who = " ".join(v for k, v in self.info.items() if k in {"manufacturer", "model"})
            chain = ", ".join(str(m) for m in self.sunspec_models)
            parts.append(f"SunSpec models {chain}" + (f" ({who})" if who else ""))
        if self.profiles:
            parts.append("matches " + ", ".join(self.profiles))
        return "; ".join(parts) or "answers, unknown model"


async def identify(bus: ModbusBus, unit: int, profiles: Iterable[Profile]) -> ScanResult | None:
    """What *unit* appears to be; None when it does not answer at all."""
    answered = False

    async def read(address: int, count: int) -> list[int]:
        nonlocal answered
        words = await bus.read(unit, "holding", address, count, track=False)
        answered = True
        return words

    models: tuple[int, ...] = ()
    info: dict[str, str] = {}
    try:
        # One probe first, so that an absent unit costs one timeout rather than one per check.
        await read(SUNSPEC_BASES[0], 2)
    except TransportError:
        return None
    except DeviceError:
        answered = True  # an exception response is an answer
    try:
        chain = await walk_chain(read)
    except DeviceError:
        answered = True  # an exception response is an answer
    except TransportError:
        pass
    else:
        models = tuple(m.model_id for m in chain)
        for model in chain:
            if model.model_id == COMMON:
                body = await read(model.address, model.length + 2)
                info = describe_common(body)
                break
    matches: list[str] = []
    for profile in profiles:
        if not profile.signature:
            continue
        outcome = await _matches(bus, unit, profile.signature)
        if outcome is not None:
            answered = True
            if outcome:
                matches.append(profile.model)
    if not answered and not models:
        return None
    return ScanResult(unit, models, tuple(matches), info)


async def _matches(bus: ModbusBus, unit: int, checks: list[SignatureCheck]) -> bool | None:
    """True/False whether every check holds; None if the unit never answered."""
    for check in checks:
        try:
            words = await bus.read(unit, check.table, check.address, check.words, track=False)
        except DeviceError:
            return False
        except TransportError:
            return None
        if check.data_type == "string":
            value: float | str = decode_text(words, check.word_order)
        else:
            try:
                value = decode_number(words, check.data_type, check.word_order)
            except DeviceError:
                return False
        if check.equals is not None and value != check.equals:
            return False
        if isinstance(value, float | int):
            if check.min is not None and value < check.min:
                return False
            if check.max is not None and value > check.max:
                return False
    return True


async def scan(
    bus: ModbusBus,
    units: Iterable[int],
    *,
    profiles: Iterable[Profile] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[ScanResult]:
    """Probe each of *units* on *bus*; *progress* is called with each unit once it is done."""
    candidates = (
        list(profiles)
        if profiles is not None
        else [load_profile(name) for name in available_profiles()]
    )
    found: list[ScanResult] = []
    for unit in units:
        try:
            result = await identify(bus, unit, candidates)
        except HinodeError:
            result = None
        if result is not None:
            found.append(result)
        if progress is not None:
            progress(unit)
    return found
