"""Monthly energy and CO2 of one site, and what its PV and the interchange saved.

Grid import here is energy bought from the utility (after the area pool); shared in is energy
taken from neighbours' surplus. Saved CO2 is counted at the utility's factor for energy the site
would otherwise have bought: PV used on site and energy shared in. Energy a site shares out is
counted as a saving of its takers, not again of its own.
"""

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from cloud.energy._emission import FactorChoice

ReportFormat = Literal["md", "csv", "json"]


@dataclass(frozen=True)
class SiteSlotRecord:
    """One site's energy in one slot, in Wh."""

    slot_start: datetime
    consumption_wh: float
    generation_wh: float
    grid_import_wh: float
    grid_export_wh: float
    shared_in_wh: float
    shared_out_wh: float


@dataclass(frozen=True)
class Co2Report:
    """A site's month: energies in kWh, emissions in kg-CO2."""

    site: str
    month: str
    slots: int
    consumption_kwh: float
    generation_kwh: float
    pv_self_consumed_kwh: float
    grid_import_kwh: float
    grid_export_kwh: float
    shared_in_kwh: float
    shared_out_kwh: float
    co2_kg: float
    co2_adjusted_kg: float | None
    co2_without_pv_and_interchange_kg: float
    saved_by_pv_kg: float
    saved_by_interchange_kg: float
    factor_basic_kg_per_kwh: float
    factor_adjusted_kg_per_kwh: float | None
    factor_fiscal_year: int
    factor_stale: bool
    factor_retailer: str
    factor_source: str


def monthly_report(
    site: str, month: str, records: Sequence[SiteSlotRecord], factor: FactorChoice
) -> Co2Report:
    """Sum *records* (the site's slots of *month*) and price them in CO2."""

    def total_kwh(field: str) -> float:
        return sum(float(getattr(record, field)) for record in records) / 1000

    consumption = total_kwh("consumption_wh")
    generation = total_kwh("generation_wh")
    grid_import = total_kwh("grid_import_wh")
    grid_export = total_kwh("grid_export_wh")
    shared_in = total_kwh("shared_in_wh")
    shared_out = total_kwh("shared_out_wh")
    # PV not exported nor shared out was used on site (directly or through a battery).
    pv_self = max(generation - grid_export - shared_out, 0.0)
    basic = factor.factor.basic_kg_per_kwh
    adjusted = factor.factor.adjusted_kg_per_kwh
    return Co2Report(
        site=site,
        month=month,
        slots=len(records),
        consumption_kwh=round(consumption, 3),
        generation_kwh=round(generation, 3),
        pv_self_consumed_kwh=round(pv_self, 3),
        grid_import_kwh=round(grid_import, 3),
        grid_export_kwh=round(grid_export, 3),
        shared_in_kwh=round(shared_in, 3),
        shared_out_kwh=round(shared_out, 3),
        co2_kg=round(grid_import * basic, 3),
        co2_adjusted_kg=None if adjusted is None else round(grid_import * adjusted, 3),
        co2_without_pv_and_interchange_kg=round((grid_import + pv_self + shared_in) * basic, 3),
        saved_by_pv_kg=round(pv_self * basic, 3),
        saved_by_interchange_kg=round(shared_in * basic, 3),
        factor_basic_kg_per_kwh=basic,
        factor_adjusted_kg_per_kwh=adjusted,
        factor_fiscal_year=factor.factor.fiscal_year,
        factor_stale=factor.stale,
        factor_retailer=factor.retailer_name,
        factor_source=" ".join(factor.factor.source.split()),
    )


_ROWS: tuple[tuple[str, str], ...] = (
    ("consumption_kwh", "Consumption (kWh)"),
    ("generation_kwh", "PV generation (kWh)"),
    ("pv_self_consumed_kwh", "PV used on site (kWh)"),
    ("grid_import_kwh", "Bought from the grid (kWh)"),
    ("grid_export_kwh", "Sold to the grid (kWh)"),
    ("shared_in_kwh", "Taken from the area pool (kWh)"),
    ("shared_out_kwh", "Given to the area pool (kWh)"),
    ("co2_kg", "CO2, basic factor (kg)"),
    ("co2_adjusted_kg", "CO2, adjusted factor (kg)"),
    ("co2_without_pv_and_interchange_kg", "CO2 without PV and interchange (kg)"),
    ("saved_by_pv_kg", "Saved by PV (kg)"),
    ("saved_by_interchange_kg", "Saved by interchange (kg)"),
)


def render_report(report: Co2Report, report_format: ReportFormat) -> str:
    """The report as Markdown, CSV (one row per figure) or JSON."""
    values: dict[str, Any] = asdict(report)
    if report_format == "json":
        return json.dumps(values, indent=2, ensure_ascii=False) + "\n"
    if report_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["figure", "value"])
        writer.writerows([name, values[name]] for name, _ in _ROWS)
        return buffer.getvalue()
    stale = (
        " — **stale**: the table has no factor for this month's fiscal year yet"
        if report.factor_stale
        else ""
    )
    adjusted = report.factor_adjusted_kg_per_kwh
    adjusted_text = "n/a" if adjusted is None else f"{adjusted} kg-CO2/kWh"
    lines = [
        f"# Energy and CO2 of {report.site}, {report.month}",
        "",
        "| figure | value |",
        "|---|---:|",
        *(
            f"| {label} | {'n/a' if values[name] is None else values[name]} |"
            for name, label in _ROWS
        ),
        "",
        f"Emission factor: {report.factor_retailer}, fiscal year {report.factor_fiscal_year}, "
        f"basic {report.factor_basic_kg_per_kwh} kg-CO2/kWh, adjusted {adjusted_text}{stale}.",
        f"Source: {report.factor_source}",
        f"Slots counted: {report.slots}.",
        "",
    ]
    return "\n".join(lines)
