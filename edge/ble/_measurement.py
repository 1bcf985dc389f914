"""A decoded characteristic value: canonical names and units, and why a value is missing."""

from typing import NamedTuple

#: What a decoded field may hold: a number, a name, a flag, RR intervals, or nothing.
Value = float | int | str | bool | list[float] | None


class Measurement(NamedTuple):
    """One decoded characteristic value.

    ``values`` uses the canonical names (``systolic_mmhg``, ``timestamp`` …); a value that the
    device sent as an IEEE-11073 special value (NaN, NRes, ±INF) is ``None`` and
    ``unavailable`` says why. ``status`` lists the named status flags the device set.
    (A named tuple rather than a frozen dataclass: it is built once per frame, on the hot path.)
    """

    characteristic: str
    values: dict[str, Value]
    status: tuple[str, ...] = ()
    unavailable: dict[str, str] = {}  # noqa: RUF012 - never mutated; decoders pass their own

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view: the characteristic, its values, status flags and missing reasons."""
        return {
            "characteristic": self.characteristic,
            **self.values,
            "status": list(self.status),
            "unavailable": dict(self.unavailable),
        }
