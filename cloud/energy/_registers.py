"""Energy per slot from cumulative meter registers, interpolated at the slot boundaries.

Registers (energy_import_wh, energy_export_wh) count up for the life of the meter, so the energy
of a slot is the register at its end minus the register at its start, and no reading lost between
two boundaries loses energy. A boundary is interpolated linearly between the readings on either
side, but only if they are close enough together for the straight line to be believable; a
register that runs backwards (meter exchanged or reset) makes the slot unusable.
"""

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

DEFAULT_MAX_GAP_S = 900.0
RegisterSample = tuple[int, float]
"""(epoch milliseconds UTC, register value in Wh)."""

MissingReason = Literal["no readings around a slot boundary", "register went backwards"]


@dataclass(frozen=True)
class SlotEnergy:
    """What a site's grid meter counted in one slot."""

    site: str
    slot_start: datetime
    import_wh: float
    export_wh: float


@dataclass(frozen=True)
class MissingSlot:
    """A site and slot that cannot be settled yet, and why."""

    site: str
    slot_start: datetime
    reason: MissingReason


class RegisterSource(Protocol):
    """Where settlement reads grid-meter registers from (the collector's store, a file…)."""

    def sites(self) -> Sequence[str]:
        """The sites taking part in the interchange."""
        ...

    def register_samples(
        self, site: str, quantity: str, since_ms: int, until_ms: int
    ) -> Sequence[RegisterSample]:
        """The site's grid-meter samples of *quantity* in [since_ms, until_ms), in time order."""
        ...


def register_at(
    samples: Sequence[RegisterSample], instant_ms: int, max_gap_s: float
) -> float | None:
    """The register's value at *instant_ms*, or None if the samples do not pin it down."""
    times = [sample[0] for sample in samples]
    index = bisect_left(times, instant_ms)
    if index < len(samples) and times[index] == instant_ms:
        return samples[index][1]
    if index == 0 or index == len(samples):
        return None
    (before_ms, before), (after_ms, after) = samples[index - 1], samples[index]
    if (after_ms - before_ms) / 1000 > max_gap_s:
        return None
    fraction = (instant_ms - before_ms) / (after_ms - before_ms)
    return before + (after - before) * fraction


def slot_energies(
    site: str,
    slot_bounds_ms: Sequence[int],
    slot_starts: Sequence[datetime],
    import_samples: Sequence[RegisterSample],
    export_samples: Sequence[RegisterSample],
    *,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
) -> list[SlotEnergy | MissingSlot]:
    """Per slot energy of one site; *slot_bounds_ms* has one more entry than *slot_starts*."""
    imports = sorted(import_samples)
    exports = sorted(export_samples)
    import_at = [register_at(imports, bound, max_gap_s) for bound in slot_bounds_ms]
    export_at = [register_at(exports, bound, max_gap_s) for bound in slot_bounds_ms]
    result: list[SlotEnergy | MissingSlot] = []
    for slot, slot_start in enumerate(slot_starts):
        ends = (import_at[slot], import_at[slot + 1], export_at[slot], export_at[slot + 1])
        if any(value is None for value in ends):
            result.append(MissingSlot(site, slot_start, "no readings around a slot boundary"))
            continue
        import_start, import_end, export_start, export_end = (float(v or 0.0) for v in ends)
        if import_end < import_start or export_end < export_start:
            result.append(MissingSlot(site, slot_start, "register went backwards"))
            continue
        result.append(
            SlotEnergy(site, slot_start, import_end - import_start, export_end - export_start)
        )
    return result
