"""MDS 2.0 vehicle states and the event types that move a micromobility vehicle between them."""

from typing import Literal

#: The MDS 2.0 micromobility vehicle states (``stopped`` belongs to other modes).
VehicleStatus = Literal[
    "available",
    "reserved",
    "on_trip",
    "non_operational",
    "elsewhere",
    "removed",
    "non_contactable",
    "missing",
]
#: The MDS 2.0 micromobility event types.
EventType = Literal[
    "agency_drop_off",
    "agency_pick_up",
    "battery_charged",
    "battery_low",
    "changed_geographies",
    "comms_lost",
    "comms_restored",
    "compliance_pick_up",
    "decommissioned",
    "located",
    "maintenance",
    "maintenance_pick_up",
    "not_located",
    "off_hours",
    "on_hours",
    "provider_drop_off",
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
#: The only pick-ups MDS allows for a vehicle the provider cannot reach or find.
_PICK_UPS_UNREACHED: tuple[EventType, ...] = ("agency_pick_up", "decommissioned")
_DROP_OFFS: tuple[EventType, ...] = ("agency_drop_off", "provider_drop_off")
_PARKED: tuple[VehicleStatus, ...] = ("available", "non_operational", "elsewhere")
_UNREACHED: tuple[VehicleStatus, ...] = ("non_contactable", "missing")
_REACHABLE: tuple[VehicleStatus, ...] = (
    "available",
    "elsewhere",
    "non_operational",
    "on_trip",
    "removed",
    "reserved",
)

#: (state, event type) → next state: the MDS 2.0 micromobility state-transition table, less the
#: pairs whose next state the event type alone does not tell (``unspecified`` goes almost
#: anywhere; ``comms_restored`` and ``located`` may return to any state, here to ``available``).
TRANSITIONS: dict[tuple[VehicleStatus, EventType], VehicleStatus] = {
    ("available", "reservation_start"): "reserved",
    ("available", "trip_start"): "on_trip",
    ("available", "battery_low"): "non_operational",
    ("available", "maintenance"): "non_operational",
    ("available", "off_hours"): "non_operational",
    ("available", "system_suspend"): "non_operational",
    ("reserved", "reservation_cancel"): "available",
    ("reserved", "trip_start"): "on_trip",
    ("on_trip", "trip_end"): "available",
    ("on_trip", "trip_cancel"): "available",
    ("on_trip", "trip_leave_jurisdiction"): "elsewhere",
    ("on_trip", "changed_geographies"): "on_trip",
    ("elsewhere", "trip_enter_jurisdiction"): "on_trip",
    ("non_operational", "battery_charged"): "available",
    ("non_operational", "maintenance"): "available",
    ("non_operational", "on_hours"): "available",
    ("non_operational", "system_resume"): "available",
    ("non_contactable", "comms_restored"): "available",
    ("non_contactable", "not_located"): "missing",
    ("missing", "located"): "available",
    **{(state, "comms_lost"): "non_contactable" for state in _REACHABLE},
    **{(state, kind): "removed" for state in _PARKED for kind in _PICK_UPS},
    **{(state, kind): "removed" for state in _UNREACHED for kind in _PICK_UPS_UNREACHED},
    **{(state, kind): "available" for state in ("removed", *_UNREACHED) for kind in _DROP_OFFS},
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
