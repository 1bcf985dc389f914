"""Demand curves of a factory, a home and a public building on the city's calendar (JST).

Each curve returns the share of the site's peak demand drawn at an instant, from local time,
the kind of day (Japanese holidays and weekends via jpholiday) and seeded noise.
"""

import math
from dataclasses import dataclass, field

from simulators.modbus._calendar import is_day_off, jst_date, jst_day_index, jst_hour
from simulators.modbus._noise import jitter, smooth

LOAD_KINDS = ("factory", "home", "public")


def _bump(hour: float, centre: float, width: float) -> float:
    return math.exp(-(((hour - centre) / width) ** 2))


def _ramp(hour: float, start: float, end: float, edge: float = 0.5) -> float:
    """1 inside [start, end], rising and falling linearly over *edge* hours."""
    rise = (hour - start) / edge + 0.5
    fall = (end - hour) / edge + 0.5
    return max(0.0, min(1.0, rise, fall))


def factory_share(hour: float, day_off: bool) -> float:
    """Two weekday shifts (08–17 with a lunch dip, 17–22 lighter); idle base load otherwise."""
    base = 0.08
    if day_off:
        return base
    day_shift = _ramp(hour, 8.0, 17.0) * (1.0 - 0.45 * _ramp(hour, 12.0, 13.0, 0.2))
    late_shift = 0.65 * _ramp(hour, 17.0, 22.0)
    return base + (1.0 - base) * max(day_shift, late_shift)


def home_share(hour: float, day_off: bool) -> float:
    """Breakfast and evening peaks; more daytime use at weekends."""
    morning = 0.55 * _bump(hour, 7.0, 1.0)
    evening = 0.85 * _bump(hour, 19.5, 1.8)
    daytime = (0.30 if day_off else 0.12) * _ramp(hour, 9.0, 17.0, 1.0)
    return 0.07 + morning + evening + daytime


def public_share(hour: float, day_off: bool) -> float:
    """Office hours 08:30–17:15 on working days; standby (HVAC, servers, lights) otherwise."""
    standby = 0.14
    if day_off:
        return standby
    open_hours = _ramp(hour, 8.5, 17.25) * (1.0 - 0.1 * _ramp(hour, 12.0, 13.0, 0.2))
    return standby + (1.0 - standby) * open_hours


@dataclass
class LoadCurve:
    """The demand of one site of a *kind*, in watts, with seeded day-to-day and minute noise."""

    kind: str
    peak_w: float
    seed: int
    _day: int | None = field(default=None, init=False, repr=False)
    _day_off: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in LOAD_KINDS:
            msg = f"unknown load {self.kind!r}; expected one of {', '.join(LOAD_KINDS)}"
            raise ValueError(msg)

    def day_off(self, t: float) -> bool:
        """Whether the local (JST) day of *t* is a weekend, holiday or closure day."""
        day = jst_day_index(t)
        if day != self._day:  # jpholiday is slow enough to matter at 100 devices
            self._day, self._day_off = day, is_day_off(jst_date(day))
        return self._day_off

    def share(self, t: float) -> float:
        """Share of peak demand at *t*, without noise."""
        hour = jst_hour(t)
        day_off = self.day_off(t)
        if self.kind == "factory":
            return factory_share(hour, day_off)
        if self.kind == "home":
            return home_share(hour, day_off)
        return public_share(hour, day_off)

    def power_w(self, t: float) -> float:
        """Demand at *t*: the curve, a slow wander of ±10 % and a per-second flicker of ±2 %."""
        wander = 0.9 + 0.2 * smooth(self.seed, t, 900.0, stream=0x10AD)
        flicker = 1.0 + jitter(self.seed, t, stream=0xF11C, width=0.02)
        return max(0.0, self.peak_w * self.share(t) * wander * flicker)
