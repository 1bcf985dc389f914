"""How often the demo's parts act, in simulated seconds, for a given clock speed.

At real speed the demo keeps production values (polls every second, a controller round every
5 s, a 60 s fail-safe timeout). Faster, every period is stretched so that it stays at least a
fixed share of a real second: otherwise a command would expire before MQTT delivered it and a
60 s fail-safe timeout would trip at the first slow event-loop turn.
"""

from dataclasses import dataclass

from hinode.demo.quarter import EDGE_TIMEOUT_S


@dataclass(frozen=True, slots=True)
class Timing:
    """Periods in simulated seconds."""

    poll_interval_s: float
    controller_interval_s: float
    command_ttl_s: float
    edge_timeout_s: float
    stale_after_s: float


def timing_for(speed: float) -> Timing:
    """The demo's periods at *speed* simulated seconds per real second."""
    # Two polls a real second at speed: no gap reaches a wallbox's own communication watchdog
    # (the Terra AC's 600 s) at speed 600, so it never falls back between two polls.
    poll = max(1.0, speed / 2)
    # At most one controller round a real second.
    interval = max(5.0, speed)
    return Timing(
        poll_interval_s=poll,
        controller_interval_s=interval,
        # A command lives three rounds: it survives a slow delivery, never a stale decision.
        command_ttl_s=max(30.0, 3 * interval),
        # Heartbeats go out every round at most a third of this apart (the controller's rule):
        # four rounds of silence mean the controller is gone.
        edge_timeout_s=max(EDGE_TIMEOUT_S, 4 * interval),
        # Readings three polls old are still the latest ones.
        stale_after_s=max(30.0, 3 * poll),
    )
