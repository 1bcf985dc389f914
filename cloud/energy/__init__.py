"""Energy controllers: interchange planning, settlement, CO2 accounting and EV charging dispatch."""

from cloud.energy._plan_input import Battery, PlanRequest, Prices, Site
from cloud.energy._plan_report import plan_document, plan_totals, site_costs_yen
from cloud.energy._planner import InterchangePlan, plan_interchange
from cloud.energy._pool import SlotTransfers, TransferRule
from cloud.energy._time import JST, SLOT, SLOTS_PER_DAY, slot_starts
from cloud.energy._validation import describe_validation_error
from cloud.energy.errors import PlanningError

__all__ = [
    "JST",
    "SLOT",
    "SLOTS_PER_DAY",
    "Battery",
    "InterchangePlan",
    "PlanRequest",
    "PlanningError",
    "Prices",
    "Site",
    "SlotTransfers",
    "TransferRule",
    "describe_validation_error",
    "plan_document",
    "plan_interchange",
    "plan_totals",
    "site_costs_yen",
    "slot_starts",
]
