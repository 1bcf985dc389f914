"""Deterministic, seeded noise: the same seed and time always give the same weather and load.

Values depend only on (seed, time), never on how often a device is updated, so a fast clock and
a slow poller see the same physics.
"""

import math

_MASK64 = 0xFFFF_FFFF_FFFF_FFFF


def _splitmix64(value: int) -> int:
    value = (value + 0x9E37_79B9_7F4A_7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58_476D_1CE4_E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D0_49BB_1331_11EB) & _MASK64
    return value ^ (value >> 31)


def unit_hash(seed: int, *keys: int) -> float:
    """A uniform number in [0, 1) fixed by the seed and the keys."""
    state = _splitmix64(seed & _MASK64)
    for key in keys:
        state = _splitmix64(state ^ (key & _MASK64))
    return (state >> 11) / float(1 << 53)


def smooth(seed: int, t: float, period_s: float, stream: int = 0) -> float:
    """A value in [0, 1) that wanders smoothly over time, with knots every *period_s* seconds."""
    position = t / period_s
    knot = math.floor(position)
    fraction = position - knot
    weight = (1.0 - math.cos(math.pi * fraction)) / 2.0  # cosine interpolation: no kinks
    first = unit_hash(seed, stream, knot)
    second = unit_hash(seed, stream, knot + 1)
    return first + (second - first) * weight


def jitter(seed: int, t: float, stream: int, width: float, period_s: float = 1.0) -> float:
    """A small symmetric wobble in [-width, +width], new every *period_s* seconds."""
    return (unit_hash(seed, stream, math.floor(t / period_s)) * 2.0 - 1.0) * width
