"""MDS 2.0 vehicle states and the event types that move a micromobility vehicle between them."""

from typing import Literal

VehicleStatus = Literal[
    "available", "reserved", "on_trip", "non_operational", "elsewhere", "removed", "unknown"
]
EventType = Literal[
    "agency_drop_off",
    "agency_pick_up",
    "battery_charged",
    "battery_low",
    "comms_lost",
    "comms_restored",
    "compliance_pick_up",
    "decommissioned",
    "located",
    "maintenance",
    "maintenance_end",
    "maintenance_pick_up",
    "not_located",
    "off_hours",
    "on_hours",
    "provider_drop_off",
    "rebalance_drop_off",
    "rebalance_pick_up",
    "reservation_cancel",
    "reservation_start",
    "system_resume",
    "system_suspend",
    "trip_cancel",
    "trip_end",
    "trip_enter_jurisdiction",
    "trip_leave_jurisdiction",
    "trip_start",
    "unspecified",
]

_PICK_UPS: tuple[EventType, ...] = (
    "agency_pick_up",
    "compliance_pick_up",
    "decommissioned",
    "maintenance_pick_up",
    "rebalance_pick_up",
)
_DROP_OFFS: tuple[EventType, ...] = ("agency_drop_off", "provider_drop_off", "rebalance_drop_off")

#: (state, event type) → next state, after the MDS 2.0 micromobility state machine.
TRANSITIONS: dict[tuple[VehicleStatus, EventType], VehicleStatus] = {
    ("available", "reservation_start"): "reserved",
    ("available", "trip_start"): "on_trip",
    ("available", "battery_low"): "non_operational",
    ("available", "maintenance"): "non_operational",
    ("available", "off_hours"): "non_operational",
    ("available", "system_suspend"): "non_operational",
    ("available", "comms_lost"): "unknown",
    ("available", "not_located"): "unknown",
    ("reserved", "reservation_cancel"): "available",
    ("reserved", "trip_start"): "on_trip",
    ("reserved", "comms_lost"): "unknown",
    ("on_trip", "trip_end"): "available",
    ("on_trip", "trip_cancel"): "available",
    ("on_trip", "trip_leave_jurisdiction"): "elsewhere",
    ("on_trip", "comms_lost"): "unknown",
    ("elsewhere", "trip_enter_jurisdiction"): "on_trip",
    ("elsewhere", "comms_lost"): "unknown",
    ("non_operational", "battery_charged"): "available",
    ("non_operational", "maintenance_end"): "available",
    ("non_operational", "on_hours"): "available",
    ("non_operational", "system_resume"): "available",
    ("non_operational", "comms_lost"): "unknown",
    ("unknown", "comms_restored"): "available",
    ("unknown", "located"): "available",
    **{("available", kind): "removed" for kind in _PICK_UPS},
    **{("non_operational", kind): "removed" for kind in _PICK_UPS},
    **{("elsewhere", kind): "removed" for kind in _PICK_UPS},
    **{("unknown", kind): "removed" for kind in _PICK_UPS},
    **{("removed", kind): "available" for kind in _DROP_OFFS},
}


class InvalidTransitionError(ValueError):
    """An event that the MDS state machine does not allow in the vehicle's current state."""


def next_state(state: VehicleStatus, event_types: tuple[EventType, ...]) -> VehicleStatus:
    """The state after one MDS event; several event types apply in order (trip_end, battery_low)."""
    if not event_types:
        raise InvalidTransitionError("an event needs at least one event type")
    for kind in event_types:
        following = TRANSITIONS.get((state, kind))
        if following is None:
            raise InvalidTransitionError(f"{kind} is not allowed in state {state}")
        state = following
    return state
