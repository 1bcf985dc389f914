"""The quarter's interchange on a working day and a day off, planned from the simulators' curves.

The forecast is the simulated physics itself: each site's own load and PV production sampled
every 5 minutes through each 30-minute slot (JST). EV charging is not in it: how much the cars
take depends on the charging controller, which follows the PV surplus as it happens.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from cloud.energy import JST, PlanRequest, Prices, Site, factor_for, plan_document, plan_totals
from cloud.energy import plan_interchange as plan_day
from hinode.demo.quarter import CHARGER_MODELS, SimulatedSite
from hinode.demo.simulation import INVERTER, site_devices
from hinode.demo.view import InterchangeDayView, SiteDayView
from simulators.modbus import is_day_off

AREA = "hinode-demo-quarter"
SLOTS = 48
SLOT_S = 1800.0
SAMPLES_PER_SLOT = 6
#: Illustrative tariffs (yen/kWh): a time-of-use grid tariff (night 22:00–08:00 cheaper), a
#: post-FIT feed-in price, and the area's own interchange price between the two.
PRICES = Prices(
    grid_import_yen_per_kwh=[22.0] * 16 + [34.0] * 28 + [22.0] * 4,
    grid_export_yen_per_kwh=8.0,
    interchange_yen_per_kwh=18.0,
)
#: How far ahead to look for a working day and a day off (Golden Week is the longest run).
_SEARCH_DAYS = 14


def interchange_days(start: float) -> tuple[dt.date, dt.date]:
    """The first working day and the first day off from the JST date of *start* on."""
    first = dt.datetime.fromtimestamp(start, JST).date()
    days = [first + dt.timedelta(days=offset) for offset in range(_SEARCH_DAYS)]
    working = next(day for day in days if not is_day_off(day))
    off = next(day for day in days if is_day_off(day))
    return working, off


def forecast_site(site: SimulatedSite, day: dt.date) -> tuple[list[float], list[float]]:
    """(generation, consumption) in Wh per slot of *day*: PV production and the site's own load."""
    midnight = dt.datetime.combine(day, dt.time(), JST).timestamp()
    units = {unit.unit: unit for unit in site.units}
    devices = site_devices(site, now=lambda: midnight)
    step_s = SLOT_S / SAMPLES_PER_SLOT
    generation, consumption = [0.0] * SLOTS, [0.0] * SLOTS
    for unit_id, device in devices.items():
        model = units[unit_id].model
        if model in CHARGER_MODELS:
            continue
        target = generation if model == INVERTER else consumption
        for slot in range(SLOTS):
            for sample in range(SAMPLES_PER_SLOT):
                t = midnight + slot * SLOT_S + (sample + 0.5) * step_s
                target[slot] += device.forecast_power_w(t) * step_s / 3600.0
    return generation, consumption


def plan_quarter_day(sites: Sequence[SimulatedSite], day: dt.date) -> dict[str, Any]:
    """The planned interchange of *day*: per site and for the area, as the report shows it."""
    forecasts = {site.site: forecast_site(site, day) for site in sites}
    request = PlanRequest(
        area=AREA,
        start=dt.datetime.combine(day, dt.time(), JST),
        slot_minutes=30,
        prices=PRICES,
        sites=[
            Site(
                id=site.site,
                kind=site.kind,
                generation_wh=forecasts[site.site][0],
                consumption_wh=forecasts[site.site][1],
            )
            for site in sites
        ],
    )
    factor = factor_for(day).factor.basic_kg_per_kwh
    plan = plan_day(request, emission_factor_kg_per_kwh=factor)
    document = plan_document(plan)
    per_site: dict[str, Any] = {}
    for row, site_id in enumerate(plan.site_ids):
        figures = document["sites"][site_id]
        per_site[site_id] = {
            "consumption_wh": _wh(plan.consumption_wh[row].sum()),
            "generation_wh": _wh(plan.generation_wh[row].sum()),
            "grid_import_wh": _wh(plan.grid_import_wh[row].sum()),
            "grid_export_wh": _wh(plan.grid_export_wh[row].sum()),
            "shared_in_wh": _wh(plan.shared_in_wh[row].sum()),
            "shared_out_wh": _wh(plan.shared_out_wh[row].sum()),
            "self_sufficiency": figures["self_sufficiency"],
            "cost_yen": figures["cost_yen"],
            "co2_kg": figures["co2_kg"],
        }
    totals = plan_totals(plan)
    totals["shared_in_wh"] = _wh(plan.shared_in_wh.sum())
    totals["shared_out_wh"] = _wh(plan.shared_out_wh.sum())
    return {
        "date": day.isoformat(),
        "weekday": f"{day:%a}",
        "day_off": is_day_off(day),
        "sites": per_site,
        "transfers": _day_transfers(document["slots"]),
        "totals": totals,
    }


def quarter_interchange(sites: Sequence[SimulatedSite], start: float) -> dict[str, Any]:
    """Both days' plans: the report's ``interchange`` section."""
    working, off = interchange_days(start)
    return {
        "area": AREA,
        "basis": "forecast from the simulators' load and PV curves, 30-minute slots (JST)",
        "prices": PRICES.model_dump(),
        "working_day": plan_quarter_day(sites, working),
        "day_off": plan_quarter_day(sites, off),
    }


def summary_lines(interchange: dict[str, Any]) -> list[str]:
    """One line a day for the end of a headless run."""
    lines = []
    for key in ("working_day", "day_off"):
        day = interchange[key]
        totals = day["totals"]
        sufficiency = totals["self_sufficiency"]
        lines.append(
            f"interchange {day['date']} ({day['weekday']}, {key.replace('_', ' ')}): "
            f"shared {totals['shared_out_wh'] / 1000:.1f} kWh, self-sufficiency "
            f"{'-' if sufficiency is None else f'{sufficiency:.0%}'}, "
            f"cost ¥{totals['cost_yen']:,.0f} (alone ¥{totals['standalone_cost_yen']:,.0f}), "
            f"CO2 {totals['co2_kg']:.1f} kg (alone {totals['standalone_co2_kg']:.1f} kg)"
        )
    return lines


def day_views(interchange: dict[str, Any]) -> list[InterchangeDayView]:
    """Both planned days as the live view shows them (none when planning failed)."""
    if "error" in interchange:
        return []
    views = []
    for key in ("working_day", "day_off"):
        day = interchange[key]
        totals = day["totals"]
        views.append(
            InterchangeDayView(
                date=day["date"],
                weekday=day["weekday"],
                day_off=day["day_off"],
                sites=[_site_view(site, figures) for site, figures in day["sites"].items()],
                total=_site_view("quarter", totals),
            )
        )
    return views


def _site_view(site: str, figures: dict[str, Any]) -> SiteDayView:
    return SiteDayView(
        site=site,
        self_sufficiency=figures["self_sufficiency"],
        shared_in_wh=figures["shared_in_wh"],
        shared_out_wh=figures["shared_out_wh"],
        cost_yen=figures["cost_yen"],
        co2_kg=figures["co2_kg"],
    )


def _wh(value: float) -> float:
    return round(float(value), 1)


def _day_transfers(slots: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Site-to-site energy over the day."""
    pairs: dict[tuple[str, str], float] = {}
    for slot in slots:
        for transfer in slot["transfers"]:
            key = (transfer["from"], transfer["to"])
            pairs[key] = pairs.get(key, 0.0) + transfer["wh"]
    return [
        {"from": giver, "to": taker, "wh": _wh(wh)} for (giver, taker), wh in sorted(pairs.items())
    ]
