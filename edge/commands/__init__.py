"""Commands from the cloud: validation and clamping (pure), writes, routes handed to shuttles,
results and the fail-safe."""

from edge.commands._decide import Decision, Watchdog, clamp, decide, decide_route
from edge.commands._handler import CommandCounters, CommandHandler, Result, result_payload
from edge.commands._routes import RouteTaker, VehicleRoutes, Vehicles

__all__ = [
    "CommandCounters",
    "CommandHandler",
    "Decision",
    "Result",
    "RouteTaker",
    "VehicleRoutes",
    "Vehicles",
    "Watchdog",
    "clamp",
    "decide",
    "decide_route",
    "result_payload",
]
