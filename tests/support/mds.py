"""MDS 2.0 micromobility rules as the specification states them, for the tests to check against."""

#: For each micromobility vehicle state, the event types that may lead into it (MDS 2.0
#: micromobility state-transition table, read by destination state).
LEADS_INTO: dict[str, frozenset[str]] = {
    "available": frozenset(
        {
            "agency_drop_off",
            "battery_charged",
            "comms_restored",
            "located",
            "maintenance",
            "on_hours",
            "provider_drop_off",
            "reservation_cancel",
            "system_resume",
            "trip_cancel",
            "trip_end",
            "unspecified",
        }
    ),
    "reserved": frozenset({"comms_restored", "located", "reservation_start", "unspecified"}),
    "on_trip": frozenset(
        {
            "changed_geographies",
            "comms_restored",
            "located",
            "trip_enter_jurisdiction",
            "trip_start",
            "unspecified",
        }
    ),
    "non_operational": frozenset(
        {
            "battery_low",
            "comms_restored",
            "located",
            "maintenance",
            "off_hours",
            "system_suspend",
            "unspecified",
        }
    ),
    "elsewhere": frozenset({"comms_restored", "located", "trip_leave_jurisdiction", "unspecified"}),
    "removed": frozenset(
        {
            "agency_pick_up",
            "comms_restored",
            "compliance_pick_up",
            "decommissioned",
            "located",
            "maintenance_pick_up",
            "rebalance_pick_up",
            "unspecified",
        }
    ),
    "non_contactable": frozenset({"comms_lost", "unspecified"}),
    "missing": frozenset({"not_located", "unspecified"}),
}
#: Event types that need the trip in ``trip_ids``.
TRIP_EVENT_TYPES = frozenset(
    {"trip_start", "trip_end", "trip_cancel", "trip_enter_jurisdiction", "trip_leave_jurisdiction"}
)
