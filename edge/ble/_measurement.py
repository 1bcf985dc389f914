"""A decoded characteristic value: canonical names and units, and why a value is missing."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

#: What a decoded field may hold: a number, a name, a flag, RR intervals, or nothing.
Value = float | int | str | bool | list[float] | None

_NONE_MISSING: Mapping[str, str] = MappingProxyType({})


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
    unavailable: Mapping[str, str] = _NONE_MISSING

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view: the characteristic, its values, status flags and missing reasons."""
        return {
            "characteristic": self.characteristic,
            **self.values,
            "status": list(self.status),
            "unavailable": dict(self.unavailable),
        }
