"""Commands from the cloud: validation and clamping (pure), writes, results and the fail-safe."""

from edge.commands._decide import Decision, Watchdog, clamp, decide
from edge.commands._handler import CommandCounters, CommandHandler, Result, result_payload

__all__ = [
    "CommandCounters",
    "CommandHandler",
    "Decision",
    "Result",
    "Watchdog",
    "clamp",
    "decide",
    "result_payload",
]
