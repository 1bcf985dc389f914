"""Reconnect delays: exponential growth with jitter, so that gateways do not reconnect in step."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class Backoff:
    """Delays of ``min_s · 2ⁿ`` capped at *max_s*, each drawn from its upper half at random."""

    min_s: float
    max_s: float
    random: Callable[[], float]
    attempt: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.max_s, self.min_s * 2.0 ** min(self.attempt, 62))
        self.attempt += 1
        return ceiling / 2 + self.random() * ceiling / 2

    def reset(self) -> None:
        self.attempt = 0
