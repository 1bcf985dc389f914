"""Energy controllers: interchange planning, settlement, CO2 accounting and EV charging dispatch."""

from cloud.energy._car_phases import (
    CHARGING_A,
    CONFIRM_READINGS,
    PHASE_ACTIVE_A,
    CarPhases,
    observe_car_phases,
)
from cloud.energy._charging_loop import (
    ChargerConfig,
    ChargingController,
    ChargingSiteConfig,
    CommandPort,
    Decision,
    DecisionPort,
    PhaseReading,
    ReadingsPort,
)
from cloud.energy._co2_report import (
    Co2Report,
    ReportFormat,
    SiteSlotRecord,
    monthly_report,
    render_report,
)
from cloud.energy._emission import (
    DEFAULT_RETAILER,
    EmissionFactor,
    EmissionTable,
    FactorChoice,
    emission_table,
    factor_for,
    fiscal_year,
)
from cloud.energy._ev_dispatch import (
    MIN_CURRENT_A,
    DispatchResult,
    Setpoint,
    dispatch_chargers,
    dispatch_document,
)
from cloud.energy._ev_input import Charger, DispatchRequest, PreviousSetpoint, Vehicle
from cloud.energy._ledger_store import LEDGER_TABLE, SqlLedger
from cloud.energy._plan_input import Battery, PlanRequest, Prices, Site
from cloud.energy._plan_report import plan_document, plan_totals, site_costs_yen
from cloud.energy._planner import InterchangePlan, plan_interchange
from cloud.energy._pool import SlotTransfers, TransferRule
from cloud.energy._registers import (
    DEFAULT_MAX_GAP_S,
    MissingSlot,
    RegisterSample,
    RegisterSource,
    SlotEnergy,
    register_at,
    slot_energies,
)
from cloud.energy._report_chart import report_chart_png
from cloud.energy._settle_day import DaySettlement, settle_day
from cloud.energy._settlement import (
    LedgerEntry,
    SitePosition,
    apportion,
    settle,
    settle_slot,
    slot_balance_yen,
)
from cloud.energy._time import JST, SLOT, SLOTS_PER_DAY, day_slots, slot_starts
from cloud.energy._validation import describe_validation_error
from cloud.energy.errors import PlanningError

__all__ = [
    "CHARGING_A",
    "CONFIRM_READINGS",
    "DEFAULT_MAX_GAP_S",
    "DEFAULT_RETAILER",
    "JST",
    "LEDGER_TABLE",
    "MIN_CURRENT_A",
    "PHASE_ACTIVE_A",
    "SLOT",
    "SLOTS_PER_DAY",
    "Battery",
    "CarPhases",
    "Charger",
    "ChargerConfig",
    "ChargingController",
    "ChargingSiteConfig",
    "Co2Report",
    "CommandPort",
    "DaySettlement",
    "Decision",
    "DecisionPort",
    "DispatchRequest",
    "DispatchResult",
    "EmissionFactor",
    "EmissionTable",
    "FactorChoice",
    "InterchangePlan",
    "LedgerEntry",
    "MissingSlot",
    "PhaseReading",
    "PlanRequest",
    "PlanningError",
    "PreviousSetpoint",
    "Prices",
    "ReadingsPort",
    "RegisterSample",
    "RegisterSource",
    "ReportFormat",
    "Setpoint",
    "Site",
    "SitePosition",
    "SiteSlotRecord",
    "SlotEnergy",
    "SlotTransfers",
    "SqlLedger",
    "TransferRule",
    "Vehicle",
    "apportion",
    "day_slots",
    "describe_validation_error",
    "dispatch_chargers",
    "dispatch_document",
    "emission_table",
    "factor_for",
    "fiscal_year",
    "monthly_report",
    "observe_car_phases",
    "plan_document",
    "plan_interchange",
    "plan_totals",
    "register_at",
    "render_report",
    "report_chart_png",
    "settle",
    "settle_day",
    "settle_slot",
    "site_costs_yen",
    "slot_balance_yen",
    "slot_energies",
    "slot_starts",
]
