"""Errors of the energy controllers."""

from messages.errors import HinodeError


class PlanningError(HinodeError):
    """The optimiser could not produce a plan (should not happen for validated input)."""
