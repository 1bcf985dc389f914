"""Energy controllers: interchange planning, settlement, CO2 accounting and EV charging dispatch."""

from cloud.energy._ev_dispatch import (
    MIN_CURRENT_A,
    DispatchResult,
    Setpoint,
    dispatch_chargers,
    dispatch_document,
)
from cloud.energy._ev_input import Charger, DispatchRequest, PreviousSetpoint, Vehicle
from cloud.energy._plan_input import Battery, PlanRequest, Prices, Site
from cloud.energy._plan_report import plan_document, plan_totals, site_costs_yen
from cloud.energy._planner import InterchangePlan, plan_interchange
from cloud.energy._pool import SlotTransfers, TransferRule
from cloud.energy._time import JST, SLOT, SLOTS_PER_DAY, slot_starts
from cloud.energy._validation import describe_validation_error
from cloud.energy.errors import PlanningError

__all__ = [
    "JST",
    "MIN_CURRENT_A",
    "SLOT",
    "SLOTS_PER_DAY",
    "Battery",
    "Charger",
    "DispatchRequest",
    "DispatchResult",
    "InterchangePlan",
    "PlanRequest",
    "PlanningError",
    "PreviousSetpoint",
    "Prices",
    "Setpoint",
    "Site",
    "SlotTransfers",
    "TransferRule",
    "Vehicle",
    "describe_validation_error",
    "dispatch_chargers",
    "dispatch_document",
    "plan_document",
    "plan_interchange",
    "plan_totals",
    "site_costs_yen",
    "slot_starts",
]
