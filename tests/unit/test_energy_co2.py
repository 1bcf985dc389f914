"""CO2 accounting: the emission-factor table, factor choice by fiscal year, the monthly report."""

import csv
import io
import json
from datetime import date, datetime, timedelta

import pytest

from cloud.energy import (
    JST,
    SiteSlotRecord,
    emission_table,
    factor_for,
    fiscal_year,
    monthly_report,
    render_report,
    report_chart_png,
)


def test_every_factor_in_the_table_names_its_source() -> None:
    table = emission_table()
    assert "hokuriku-electric" in table.retailers
    for factor in table.factors:
        assert factor.retailer in table.retailers
        assert "http" in factor.source
        assert 0.0 < factor.basic_kg_per_kwh < 1.5


def test_fiscal_years_run_april_to_march() -> None:
    assert fiscal_year(date(2026, 3, 31)) == 2025
    assert fiscal_year(date(2026, 4, 1)) == 2026


def test_the_published_hokuriku_factor_of_fy2015() -> None:
    choice = factor_for(date(2015, 10, 1))
    assert choice.factor.fiscal_year == 2015
    assert choice.factor.basic_kg_per_kwh == 0.627
    assert choice.factor.adjusted_kg_per_kwh == 0.615
    assert not choice.stale


def test_a_year_missing_from_the_table_falls_back_and_says_so() -> None:
    choice = factor_for(date(2026, 11, 1))
    assert choice.factor.fiscal_year <= 2026
    assert choice.stale is (choice.factor.fiscal_year < 2026)
    with pytest.raises(KeyError):
        factor_for(date(2000, 1, 1))
    with pytest.raises(KeyError):
        factor_for(date(2026, 1, 1), retailer="nobody")


def month_records() -> list[SiteSlotRecord]:
    """A 30-day month of 48 slots: 2 kWh used, 1 kWh PV, 0.25 kWh shared in, per slot."""
    first = datetime(2015, 6, 1, tzinfo=JST)
    return [
        SiteSlotRecord(
            slot_start=first + timedelta(minutes=30 * slot),
            consumption_wh=2000.0,
            generation_wh=1000.0,
            grid_import_wh=750.0,
            grid_export_wh=0.0,
            shared_in_wh=250.0,
            shared_out_wh=0.0,
        )
        for slot in range(30 * 48)
    ]


def test_monthly_report_counts_savings_from_pv_and_interchange() -> None:
    records = month_records()
    report = monthly_report("factory-1", "2015-06", records, factor_for(date(2015, 6, 1)))
    slots = 30 * 48
    assert report.slots == slots
    assert report.consumption_kwh == pytest.approx(2.0 * slots)
    assert report.grid_import_kwh == pytest.approx(0.75 * slots)
    assert report.co2_kg == pytest.approx(0.75 * slots * 0.627, abs=0.01)
    assert report.co2_adjusted_kg == pytest.approx(0.75 * slots * 0.615, abs=0.01)
    assert report.saved_by_pv_kg == pytest.approx(1.0 * slots * 0.627, abs=0.01)
    assert report.saved_by_interchange_kg == pytest.approx(0.25 * slots * 0.627, abs=0.01)
    assert report.co2_without_pv_and_interchange_kg == pytest.approx(
        report.co2_kg + report.saved_by_pv_kg + report.saved_by_interchange_kg, abs=0.01
    )


def test_report_formats_carry_the_same_figures() -> None:
    report = monthly_report("factory-1", "2015-06", month_records(), factor_for(date(2015, 6, 1)))
    as_json = json.loads(render_report(report, "json"))
    assert as_json["co2_kg"] == report.co2_kg
    rows = dict(csv.reader(io.StringIO(render_report(report, "csv"))))
    assert float(rows["co2_kg"]) == report.co2_kg
    markdown = render_report(report, "md")
    assert markdown.startswith("# Energy and CO2 of factory-1, 2015-06")
    assert "rikuden.co.jp" in markdown
    assert "stale" not in markdown


def test_the_chart_is_a_png() -> None:
    png = report_chart_png("factory-1", "2015-06", month_records()[:96])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
