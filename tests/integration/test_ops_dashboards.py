"""Every dashboard panel's query runs against real InfluxDB and PostgreSQL and returns data.

The data goes in the way the collector puts it there: wire messages built with the contract
models, through the collector's ``Ingest`` into its InfluxDB store and PostgreSQL state store.
"""

import http.client
import json
import re
import time
import urllib.parse
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cloud import Batch, Ingest, open_state, open_timeseries
from cloud.energy import JST
from cloud.health import Alert, CareStore
from hinode.commands.energy import app as energy_app
from hinode.ops import all_dashboards
from hinode.ops._grafana import INFLUX_UID, POSTGRES_UID
from messages import (
    Event,
    EventsPayload,
    Fix,
    Observation,
    PositionPayload,
    Reading,
    StatePayload,
    TelemetryPayload,
    VehicleState,
    VitalsPayload,
    encode,
)
from messages.topics import (
    events_topic,
    position_topic,
    state_topic,
    telemetry_topic,
    vitals_topic,
)
from tests.support.influxdb import DATABASE, InfluxDB

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

BOOT = "0badcafe"
MINUTES = 150


def _city(now: int) -> Iterator[tuple[str, bytes]]:
    """Two and a half hours of a small quarter, one message per device and minute."""
    sites = {
        ("kanazawa-works", "gw-works-1"): "business",
        ("depot-east", "gw-depot-1"): "depot",
        ("home-0412", "gw-care-0412"): "care",
    }
    seq = {gateway: 0 for _, gateway in sites} | {"gw-hall-1": 0}

    def envelope(gateway: str, at: int) -> dict[str, Any]:
        seq[gateway] += 1
        return {"gateway": gateway, "boot_id": BOOT, "seq": seq[gateway], "sent_at": at}

    for site, gateway in sites:
        yield (
            state_topic(site, gateway),
            encode(StatePayload(online=True, version="0.1.0", **envelope(gateway, now))),
        )
    hall = ("city-hall", "gw-hall-1")
    yield state_topic(*hall), encode(StatePayload(online=False, **envelope(hall[1], now)))
    start = now - MINUTES * 60_000
    for minute in range(MINUTES):
        at = start + minute * 60_000
        works = ("kanazawa-works", "gw-works-1")
        meter = [
            Reading(quantity="active_power_w", value=40_000.0 + minute * 10, ts=at),
            Reading(quantity="active_power_w", phase="l1", value=13_000.0, ts=at),
            Reading(quantity="energy_import_wh", value=1_000_000.0 + minute * 650, ts=at),
            Reading(quantity="energy_export_wh", value=20_000.0 + minute * 20, ts=at),
        ]
        pv = [
            Reading(quantity="active_power_w", value=12_000.0, ts=at),
            Reading(quantity="energy_export_wh", value=500_000.0 + minute * 200, ts=at),
        ]
        charger = [
            Reading(quantity="charge_current_limit_a", value=16.0, ts=at),
            Reading(quantity="current_a", phase="l1", value=15.2, ts=at),
            Reading(quantity="active_power_w", value=10_500.0, ts=at),
        ]
        for device, readings in (("meter-main", meter), ("pv-roof", pv), ("charger-1", charger)):
            yield (
                telemetry_topic(*works, device),
                encode(
                    TelemetryPayload(device=device, readings=readings, **envelope(works[1], at))
                ),
            )
        depot = ("depot-east", "gw-depot-1")
        fix = Fix(ts=at, lat=36.56, lon=136.65, speed_mps=1.2, fix_quality="gps", satellites=9)
        state = VehicleState(kind="shuttle", battery_pct=80.0 - minute / 10, occupancy=2)
        yield (
            position_topic(*depot, "shuttle-1"),
            encode(
                PositionPayload(
                    vehicle="shuttle-1", fixes=[fix], state=state, **envelope(depot[1], at)
                )
            ),
        )
        if minute % 30 == 0:
            care = ("home-0412", "gw-care-0412")
            observation = Observation(quantity="heart_rate_bpm", value=72, ts=at, device="hr-1")
            yield (
                vitals_topic(*care, "s-7f3a9c"),
                encode(
                    VitalsPayload(
                        subject="s-7f3a9c", observations=[observation], **envelope(care[1], at)
                    )
                ),
            )
    care = ("home-0412", "gw-care-0412")
    offline = Event(ts=now - 60_000, kind="device_offline", device="hr-1", reason="no answer")
    yield events_topic(*care), encode(EventsPayload(events=[offline], **envelope(care[1], now)))
    failsafe = Event(ts=now - 30_000, kind="failsafe", device="charger-1", reason="cloud silent")
    works = ("kanazawa-works", "gw-works-1")
    seq["gw-works-1"] += 5  # five messages lost on the way: an open gap
    yield events_topic(*works), encode(EventsPayload(events=[failsafe], **envelope(works[1], now)))
    yield telemetry_topic(*works, "meter-main"), b'{"schema": "hinode.telemetry/1"}'


def _settle(postgres_url: str, now: int, tmp_path: Path) -> None:
    """The interchange of the last hours settled by ``hinode energy settle`` into PostgreSQL.

    A factory exports 3 kWh and the city hall imports 2 kWh per slot on their grid meters.
    """
    step = 5 * 60_000
    start = now - 5 * 3600_000
    samples = range((now - start) // step + 1)
    registers = {
        "sites": {
            "kanazawa-works": {
                "energy_import_wh": [[start + n * step, 0.0] for n in samples],
                "energy_export_wh": [[start + n * step, n * 500.0] for n in samples],
            },
            "city-hall": {
                "energy_import_wh": [[start + n * step, n * 2000 / 6] for n in samples],
                "energy_export_wh": [[start + n * step, 0.0] for n in samples],
            },
        }
    }
    registers_file = tmp_path / "registers.json"
    registers_file.write_text(json.dumps(registers))
    days = {
        datetime.fromtimestamp(moment / 1000, JST).date() for moment in (now - 3 * 3600_000, now)
    }
    for day in sorted(days):
        result = CliRunner().invoke(
            energy_app,
            [
                *("settle", "--date", day.isoformat(), "--price", "18"),
                *("--input", str(registers_file), "--state", postgres_url),
            ],
        )
        assert result.exit_code == 0, result.output


@pytest.fixture
def loaded(influxdb: InfluxDB, postgres_url: str, tmp_path: Path) -> tuple[InfluxDB, str]:
    now = int(time.time() * 1000)
    ingest = Ingest()
    batch = Batch()
    for topic, payload in _city(now):
        ingest.accept(topic, payload, now, batch)
    batch.state.recorded_at = now
    timeseries = open_timeseries(influxdb.url)
    state = open_state(postgres_url)
    try:
        timeseries.write(batch.readings)
        state.record(batch.state)
    finally:
        timeseries.close()
        state.close()
    _care_alert(postgres_url, now)
    _settle(postgres_url, now, tmp_path)
    return influxdb, postgres_url


def _care_alert(postgres_url: str, now: int) -> None:
    """One alert in the care service's store, and Grafana's view of it (as operations make it)."""
    care = CareStore(postgres_url)
    try:
        alert = Alert("person-1", "spo2_low", "spo2", "spo2_pct", now - 60_000, 88.0, 90.0, "low")
        care.add_alerts([alert], now)
    finally:
        care.close()
    base, schema = postgres_url.split("?schema=")
    view = (REPO / "ops" / "compose" / "postgres" / "care-alert-counts.sql").read_text()
    statements = [
        statement.replace("public.", f'"{schema}".').replace("care.", f'"{schema}".')
        for statement in view.split(";")
        if "CREATE" in statement
    ]
    engine = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def _influxql(influxdb: InfluxDB, query: str) -> list[dict[str, Any]]:
    connection = http.client.HTTPConnection("127.0.0.1", influxdb.http_port, timeout=30)
    body = urllib.parse.urlencode({"db": DATABASE, "q": query, "epoch": "ms"})
    try:
        connection.request(
            "POST",
            "/query",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        payload = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 200, payload
    [result] = payload["results"]
    assert "error" not in result, f"{query}: {result['error']}"
    return list(result.get("series", []))


def _grafana_macros(query: str, now: int) -> str:
    """What Grafana substitutes before sending a query (last 3 hours, "All" sites)."""
    return (
        query.replace("$timeFilter", "time > now() - 3h")
        .replace("$__interval", "1m")
        .replace("${site:regex}", ".*")
        .replace("$site", ".*")
        .replace("$__from", str(now - 3 * 3600_000))
        .replace("$__to", str(now + 60_000))
    )


def _panels() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{name}: {panel['title']}", panel)
        for name, board in all_dashboards().items()
        for panel in board["panels"]
    ]


def _series_values(series: list[dict[str, Any]]) -> dict[tuple[str, int], float]:
    """(site, time) → value of InfluxQL series grouped by site."""
    return {
        (one["tags"]["site"], row[0]): row[1]
        for one in series
        for row in one["values"]
        if row[1] is not None
    }


def _evaluate(expression: str, inputs: dict[str, dict[tuple[str, int], float]]) -> list[float]:
    """A Grafana math expression over series joined on (site, time), as Grafana joins them."""
    keys = set.intersection(*(set(values) for values in inputs.values()))
    formula = re.sub(r"\$(\w+)", r"\1", expression)
    return [
        eval(formula, {}, {ref: values[key] for ref, values in inputs.items()})
        for key in sorted(keys)
    ]


def test_every_panel_query_returns_data(loaded: tuple[InfluxDB, str]) -> None:
    influxdb, postgres_url = loaded
    base, schema = postgres_url.split("?schema=")
    engine = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    now = int(time.time() * 1000)
    empty = []
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'SET search_path TO "{schema}"'))
            for title, panel in _panels():
                results: dict[str, list[dict[str, Any]]] = {}
                for target in panel["targets"]:
                    uid = target["datasource"]["uid"]
                    if uid == INFLUX_UID:
                        series = _influxql(influxdb, _grafana_macros(target["query"], now))
                        results[target["refId"]] = series
                        values = [v for s in series for row in s["values"] for v in row[1:]]
                        has_data = any(v not in (None, 0) for v in values)
                    elif uid == "__expr__":
                        inputs = {ref: _series_values(series) for ref, series in results.items()}
                        computed = _evaluate(target["expression"], inputs)
                        has_data = bool(computed) and all(0 <= v <= 1 for v in computed)
                    else:
                        assert uid == POSTGRES_UID
                        query = _grafana_macros(target["rawSql"], now)
                        rows = connection.execute(sa.text(query)).all()
                        has_data = any(any(v not in (None, 0) for v in row) for row in rows)
                    if not has_data:
                        empty.append(f"{title} ({target['refId']})")
    finally:
        engine.dispose()
    assert empty == []


def test_site_variable_lists_the_sites(loaded: tuple[InfluxDB, str]) -> None:
    influxdb, _ = loaded
    for board in all_dashboards().values():
        for variable in board["templating"]["list"]:
            series = _influxql(influxdb, variable["query"])
            sites = {row[1] for s in series for row in s["values"]}
            assert sites, f"{board['title']}: variable {variable['name']} lists nothing"
            assert all(re.fullmatch(r"[a-z0-9-]+", site) for site in sites)
