"""The five Hinode dashboards: city overview, energy, EV charging, mobility, care operations.

Device roles are read from device ids, as the deployment names them: ``meter-…`` grid meters,
``pv-…`` inverters, ``charger-…`` EV chargers (see docs/operations.md). InfluxQL panels filter
by the ``site`` variable; PostgreSQL panels read the collector's state tables.
"""

import datetime as dt
from typing import Any

from hinode.ops._grafana import (
    SITE_FILTER,
    barchart,
    dashboard,
    expression,
    influxql,
    site_variable,
    sql,
    stat,
    table,
    timeseries,
)

SLOT = "30m"
METERS = '"device" =~ /^meter-/'
PV = '"device" =~ /^pv-/'
CHARGERS = '"device" =~ /^charger-/'
TOTAL = "\"phase\" = ''"
IN_RANGE = "BETWEEN $__from AND $__to"


def _where(*conditions: str) -> str:
    return " AND ".join([*conditions, SITE_FILTER, "$timeFilter"])


def city_overview() -> dict[str, Any]:
    panels = [
        stat("Gateways online", sql("SELECT count(*) AS online FROM gateways WHERE online")),
        stat(
            "Gateways offline or unknown",
            sql("SELECT count(*) AS offline FROM gateways WHERE online IS NOT TRUE"),
        ),
        stat(
            "Dead letters in range",
            sql(f"SELECT count(*) AS dead_letters FROM dead_letters WHERE received_at {IN_RANGE}"),
            description="Messages the collector refused (invalid against the wire contract).",
        ),
        stat(
            "Messages missing (open gaps)",
            sql("SELECT coalesce(sum(last_seq - first_seq + 1), 0) AS missing FROM gaps"),
            description="Sequence numbers never received; a gap closes when they arrive late.",
        ),
        table(
            "Gateways",
            sql(
                "SELECT site, gateway, CASE WHEN online THEN 'online' WHEN online IS NULL "
                "THEN 'unknown' ELSE 'offline' END AS state, version, "
                "to_timestamp(last_seen / 1000.0) AS last_seen FROM gateways "
                "ORDER BY online NULLS FIRST, site, gateway"
            ),
        ),
        table(
            "Data freshness by device",
            sql(
                "SELECT site, gateway, device, kind, to_timestamp(last_ts / 1000.0) AS newest, "
                "round((extract(epoch FROM now()) * 1000 - last_ts) / 1000.0) AS age_s, readings "
                "FROM devices ORDER BY last_ts NULLS FIRST LIMIT 500"
            ),
            description="Oldest first: a device at the top has stopped answering.",
        ),
        timeseries(
            "Telemetry points stored per minute",
            influxql(
                f'SELECT count("seq") FROM "telemetry" WHERE {_where()} '
                'GROUP BY time(1m), "site" fill(0)'
            ),
            width=24,
        ),
        table(
            "Dead letters by reason",
            sql(
                "SELECT left(reason, 120) AS reason, count(*) AS messages, "
                "to_timestamp(max(received_at) / 1000.0) AS latest FROM dead_letters "
                f"WHERE received_at {IN_RANGE} GROUP BY left(reason, 120) "
                "ORDER BY messages DESC LIMIT 20"
            ),
        ),
        table(
            "Open sequence gaps",
            sql(
                "SELECT gateway, left(boot_id, 8) AS boot, first_seq, last_seq, "
                "last_seq - first_seq + 1 AS missing, to_timestamp(opened_at / 1000.0) AS opened "
                "FROM gaps ORDER BY opened_at DESC LIMIT 50"
            ),
        ),
    ]
    return dashboard(
        "hinode-city-overview",
        "Hinode · City overview",
        panels,
        description="Is every gateway talking, is data fresh, is anything lost or refused?",
        tags=["overview"],
        variables=[site_variable()],
    )


def _per_slot(quantity: str, devices: str, scale: str = "/ 1000") -> str:
    return (
        f'SELECT non_negative_difference(last("{quantity}")) {scale} FROM "telemetry" '
        f'WHERE {_where(devices)} GROUP BY time({SLOT}), "site", "device" fill(none)'
    )


def _site_slots(quantity: str, devices: str) -> str:
    """kWh per 30-minute slot and site, summed over the site's devices of one role."""
    inner = (
        f'SELECT non_negative_difference(last("{quantity}")) / 1000 AS "kwh" FROM "telemetry" '
        f'WHERE {_where(devices)} GROUP BY time({SLOT}), "site", "device" fill(none)'
    )
    return (
        f'SELECT sum("kwh") AS "kwh" FROM ({inner}) WHERE $timeFilter '
        f'GROUP BY time({SLOT}), "site" fill(none)'
    )


def energy(today: dt.date | None = None) -> dict[str, Any]:
    # cloud.energy brings scipy and matplotlib: imported here, not when the CLI starts.
    from cloud.energy import factor_for  # noqa: PLC0415

    choice = factor_for(today or dt.datetime.now(dt.UTC).date())
    factor = choice.factor.basic_kg_per_kwh
    co2_note = (
        f"Grid import × {factor} kg-CO2/kWh ({choice.retailer_name}, basic factor of FY"
        f"{choice.factor.fiscal_year}, from cloud/energy/emission_factors.yaml)."
    )
    panels = [
        timeseries(
            "Site load (grid meters)",
            influxql(
                f'SELECT mean("active_power_w") FROM "telemetry" WHERE {_where(METERS, TOTAL)} '
                'GROUP BY time($__interval), "site", "device" fill(none)'
            ),
            unit="watt",
            description="Positive: drawn from the grid; negative: fed in.",
        ),
        timeseries(
            "PV generation",
            influxql(
                f'SELECT mean("active_power_w") FROM "telemetry" WHERE {_where(PV)} '
                'GROUP BY time($__interval), "site", "device" fill(none)'
            ),
            unit="watt",
        ),
        barchart(
            "Grid import per 30-minute slot",
            influxql(_per_slot("energy_import_wh", METERS)),
            unit="kwatth",
        ),
        barchart(
            "Grid export per 30-minute slot",
            influxql(_per_slot("energy_export_wh", METERS)),
            unit="kwatth",
        ),
        barchart(
            "PV energy per 30-minute slot",
            influxql(_per_slot("energy_export_wh", PV)),
            unit="kwatth",
        ),
        barchart(
            "Self-sufficiency per 30-minute slot",
            influxql(_site_slots("energy_import_wh", METERS), "IMPORT", hide=True),
            influxql(_site_slots("energy_export_wh", METERS), "EXPORT", hide=True),
            influxql(_site_slots("energy_export_wh", PV), "PV", hide=True),
            expression("($PV - $EXPORT) / ($PV + $IMPORT - $EXPORT)", "SELF"),
            unit="percentunit",
            description=(
                "Share of the site's consumption covered by its own PV: PV used on site over "
                "PV + grid import − grid export (sites with PV behind the grid meter)."
            ),
        ),
        barchart(
            "CO2 of grid import per 30-minute slot",
            influxql(_per_slot("energy_import_wh", METERS, f"/ 1000 * {factor}")),
            unit="masskg",
            description=co2_note,
        ),
        table(
            "Interchange per slot",
            sql(
                "SELECT to_timestamp(slot_start / 1000.0) AS slot, site, "
                "sum(taken_wh) / 1000 AS shared_in_kwh, sum(given_wh) / 1000 AS shared_out_kwh, "
                "sum(amount_yen) AS amount_yen, count(*) - 1 AS corrections "
                f"FROM energy_ledger WHERE slot_start {IN_RANGE} AND site ~ '^${{site:regex}}$' "
                "GROUP BY slot_start, site ORDER BY slot_start DESC, site LIMIT 1000"
            ),
            width=24,
            description=(
                "The settlement ledger (hinode energy settle), corrections included: energy each "
                "site took from and gave to the area pool per 30-minute slot, and its credit (+) "
                "or debit (−) at the interchange price. A slot's amounts sum to zero."
            ),
        ),
    ]
    return dashboard(
        "hinode-energy",
        "Hinode · Energy",
        panels,
        description="Load, PV and grid exchange per site; 30-minute slots as settled (JST).",
        tags=["energy"],
        variables=[site_variable()],
    )


def ev_charging() -> dict[str, Any]:
    panels = [
        timeseries(
            "Setpoint vs drawn current",
            influxql(
                'SELECT mean("charge_current_limit_a") AS "setpoint", mean("current_a") AS '
                f'"drawn" FROM "telemetry" WHERE {_where(CHARGERS)} '
                'GROUP BY time($__interval), "site", "device", "phase" fill(none)'
            ),
            unit="amp",
            width=24,
            description="The limit the charger was given and what each phase draws.",
        ),
        timeseries(
            "Charging power",
            influxql(
                f'SELECT mean("active_power_w") FROM "telemetry" WHERE {_where(CHARGERS)} '
                'GROUP BY time($__interval), "site", "device" fill(none)'
            ),
            unit="watt",
        ),
        table(
            "Fail-safe events",
            sql(
                "SELECT to_timestamp(ts / 1000.0) AS time, site, gateway, device, kind, reason "
                f"FROM events WHERE kind IN ('failsafe', 'failsafe_cleared') AND ts {IN_RANGE} "
                "ORDER BY ts DESC LIMIT 100"
            ),
            description="A charger went to its fail-safe current because the cloud fell silent.",
        ),
    ]
    return dashboard(
        "hinode-ev-charging",
        "Hinode · EV charging",
        panels,
        description="Workplace charging: setpoints from dispatch against what the cars draw.",
        tags=["energy", "ev"],
        variables=[site_variable()],
    )


def mobility() -> dict[str, Any]:
    where = _where()
    panels = [
        table(
            "Fleet: latest state per vehicle",
            influxql(
                'SELECT last("soc_pct") AS "battery_pct", last("speed_mps") AS "speed_mps", '
                f'last("occupancy") AS "occupancy" FROM "position" WHERE {where} '
                'GROUP BY "site", "device"',
                table=True,
            ),
            description="One row per vehicle that reported in the time range.",
        ),
        timeseries(
            "Mean speed by site",
            influxql(
                f'SELECT mean("speed_mps") FROM "position" WHERE {where} '
                'GROUP BY time($__interval), "site" fill(none)'
            ),
            unit="velocityms",
        ),
        timeseries(
            "Battery by vehicle",
            influxql(
                f'SELECT mean("soc_pct") FROM "position" WHERE {where} '
                'GROUP BY time($__interval), "device" fill(none)'
            ),
            unit="percent",
        ),
        timeseries(
            "Position fixes received per minute",
            influxql(
                f'SELECT count("lat_deg") FROM "position" WHERE {where} '
                'GROUP BY time(1m), "site" fill(0)'
            ),
        ),
    ]
    return dashboard(
        "hinode-mobility",
        "Hinode · Mobility",
        panels,
        description="Shuttles and micromobility: which vehicles report, move and have charge.",
        tags=["mobility"],
        variables=[site_variable("position")],
    )


def care_operations() -> dict[str, Any]:
    panels = [
        timeseries(
            "Vital-sign observations taken per hour",
            influxql(
                f'SELECT count("seq") FROM "vitals" WHERE {_where()} '
                'GROUP BY time(1h), "site" fill(0)'
            ),
            width=24,
            description="Counts only: no values and no subject appear on this dashboard.",
        ),
        stat(
            "Observations in range",
            influxql(f'SELECT count("seq") FROM "vitals" WHERE {_where()}'),
        ),
        stat(
            "Care alerts raised in range",
            sql(f"SELECT count(*) AS alerts FROM care_alert_counts WHERE raised_at {IN_RANGE}"),
            description="Alerts of the care service's rules; who and what value stay in it.",
        ),
        table(
            "Care alerts by rule",
            sql(
                "SELECT rule, kind, count(*) AS alerts, to_timestamp(max(raised_at) / 1000.0) "
                f"AS latest FROM care_alert_counts WHERE raised_at {IN_RANGE} "
                "GROUP BY rule, kind ORDER BY alerts DESC"
            ),
        ),
        table(
            "Care gateways",
            sql(
                "SELECT g.site, g.gateway, CASE WHEN g.online THEN 'online' ELSE 'offline' END "
                "AS state, to_timestamp(g.last_seen / 1000.0) AS last_seen FROM gateways g "
                "WHERE EXISTS (SELECT 1 FROM devices d WHERE d.gateway = g.gateway "
                "AND d.kind = 'vitals') ORDER BY g.online NULLS FIRST, g.site"
            ),
            width=24,
        ),
        table(
            "Device events at care gateways",
            sql(
                "SELECT to_timestamp(e.ts / 1000.0) AS time, e.site, e.gateway, e.kind "
                f"FROM events e WHERE e.ts {IN_RANGE} AND e.kind IN "
                "('device_offline', 'device_online', 'fault', 'alarm') AND EXISTS (SELECT 1 "
                "FROM devices d WHERE d.gateway = e.gateway AND d.kind = 'vitals') "
                "ORDER BY e.ts DESC LIMIT 100"
            ),
            width=24,
            description="Which measuring devices dropped out; device and subject ids left out.",
        ),
    ]
    return dashboard(
        "hinode-care-operations",
        "Hinode · Care operations",
        panels,
        description="Operations view of community care: readings taken, devices answering.",
        tags=["care"],
        variables=[site_variable("vitals")],
    )


def all_dashboards() -> dict[str, dict[str, Any]]:
    """File name → dashboard JSON."""
    return {
        "city-overview.json": city_overview(),
        "energy.json": energy(),
        "ev-charging.json": ev_charging(),
        "mobility.json": mobility(),
        "care-operations.json": care_operations(),
    }
