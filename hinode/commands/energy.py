"""``hinode energy``: interchange plans, settlement, CO2 reports, EV charging plans and loop."""

import asyncio
import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, TypeVar, cast

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table

from cloud import open_timeseries, state_url
from cloud.energy import (
    JST,
    LEDGER_TABLE,
    ChargingController,
    DispatchRequest,
    FactorChoice,
    LedgerEntry,
    ReportFormat,
    SiteSlotRecord,
    SlotEnergy,
    SqlLedger,
    day_slots,
    describe_validation_error,
    dispatch_chargers,
    dispatch_document,
    factor_for,
    monthly_report,
    plan_document,
    plan_interchange,
    render_report,
    report_chart_png,
    settle_day,
    slot_energies,
)
from cloud.energy import PlanRequest as _PlanRequest
from hinode.commands._broker_tls import CaFile, CertFile, KeyFile, broker_tls
from hinode.commands._errors import fail
from hinode.energy.charging import JsonlDecisions, StoreReadings, load_charging_config
from hinode.energy.ledger import JsonlLedger, entry_record
from hinode.energy.registers import FileRegisters, RegisterFile, StoredRegisters
from hinode.mqtt_commands import PahoCommands
from messages import ConfigError, HinodeError, WallClock

app = typer.Typer(no_args_is_help=True)

Model = TypeVar("Model", bound=BaseModel)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
#: Registers are read this far beyond a period so that its first and last boundary can be
#: interpolated between a reading before and one after.
_MARGIN_MS = 3_600_000
_REPORT_FORMATS: dict[str, ReportFormat] = {"md": "md", "csv": "csv", "json": "json"}


def _load(path: Path, model: type[Model]) -> Model:
    """Read and validate a JSON input file; any problem is one line naming where."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror or exc}")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        fail(describe_validation_error(exc))


def _emission_factor(day: date) -> FactorChoice:
    try:
        return factor_for(day)
    except KeyError as exc:
        fail(f"emission factors: {exc.args[0]}")


def _print_json(document: object) -> None:
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


# --- plan -------------------------------------------------------------------------------------


@app.command("plan")
def plan(
    input_file: Annotated[Path, typer.Argument(metavar="INPUT.json", help="Area, prices, sites.")],
    as_json: JsonFlag = False,
    transfers: Annotated[
        str,
        typer.Option(
            help="How site-to-site transfers are derived from the pool: proportional or priority."
        ),
    ] = "proportional",
) -> None:
    """Plan a day of interchange: batteries, sharing through the area pool, grid exchange."""
    if transfers not in ("proportional", "priority"):
        fail(f"--transfers: expected proportional or priority, got {transfers!r}")
    request = _load(input_file, _PlanRequest)
    choice = _emission_factor(request.start.astimezone(JST).date())
    result = plan_interchange(
        request,
        emission_factor_kg_per_kwh=choice.factor.basic_kg_per_kwh,
        transfer_rule="priority" if transfers == "priority" else "proportional",
    )
    document = plan_document(result)
    if as_json:
        _print_json(document)
        return
    table = Table(title=f"Interchange plan {request.area}, {result.slot_starts[0]:%Y-%m-%d} JST")
    for column in ("site", "import kWh", "export kWh", "shared in kWh", "shared out kWh"):
        table.add_column(column, justify="left" if column == "site" else "right")
    for column in ("self-sufficiency", "cost ¥", "CO2 kg"):
        table.add_column(column, justify="right")
    for row, site_id in enumerate(result.site_ids):
        summary = document["sites"][site_id]
        sufficiency = summary["self_sufficiency"]
        table.add_row(
            site_id,
            f"{result.grid_import_wh[row].sum() / 1000:.1f}",
            f"{result.grid_export_wh[row].sum() / 1000:.1f}",
            f"{result.shared_in_wh[row].sum() / 1000:.1f}",
            f"{result.shared_out_wh[row].sum() / 1000:.1f}",
            "-" if sufficiency is None else f"{sufficiency:.0%}",
            f"{summary['cost_yen']:,.0f}",
            f"{summary['co2_kg']:.1f}",
        )
    console = Console()
    console.print(table)
    totals = document["totals"]
    console.print(
        f"area: shared {totals['shared_wh'] / 1000:,.1f} kWh, grid import "
        f"{totals['grid_import_wh'] / 1000:,.1f} kWh, cost ¥{totals['cost_yen']:,.0f} "
        f"(¥{totals['standalone_cost_yen']:,.0f} with every site on its own), "
        f"CO2 {totals['co2_kg']:,.1f} kg (factor FY{choice.factor.fiscal_year}"
        f"{', stale' if choice.stale else ''})"
    )


# --- ev-plan ----------------------------------------------------------------------------------


@app.command("ev-plan")
def ev_plan(
    input_file: Annotated[Path, typer.Argument(metavar="INPUT.json", help="Site and chargers.")],
    as_json: JsonFlag = False,
) -> None:
    """Charging currents for a site's EV chargers, within phase limits, by urgency."""
    request = _load(input_file, DispatchRequest)
    result = dispatch_chargers(request)
    if as_json:
        _print_json(dispatch_document(result))
        return
    table = Table(title=f"EV charging, mode {request.mode}")
    table.add_column("charger")
    table.add_column("current A", justify="right")
    table.add_column("reason")
    for setpoint in result.setpoints:
        table.add_row(setpoint.charger, f"{setpoint.current_a:g}", setpoint.reason)
    console = Console()
    console.print(table)
    loads = ", ".join(f"{phase} {load:g} A" for phase, load in result.phase_load_a.items())
    console.print(f"phase load: {loads} (limit {request.site_limit_a:g} A per phase)")


def _parse_meters(meters: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in meters:
        site, separator, device = item.partition("=")
        if not separator or not site or not device:
            fail(f"--meter: expected SITE=DEVICE, got {item!r}")
        mapping[site] = device
    return mapping


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--date: expected YYYY-MM-DD, got {text!r}")


def _register_source(
    input_file: Path | None, data_dir: Path | None, since_ms: int, until_ms: int, meters: list[str]
) -> FileRegisters | StoredRegisters:
    if input_file is not None:
        return FileRegisters(_load(input_file, RegisterFile))
    if data_dir is None:
        fail("--data-dir or --input: say where the meter registers are")
    if not (data_dir / "timeseries.sqlite").exists():
        fail(f"--data-dir: no time-series store in {data_dir}")
    try:
        return StoredRegisters(data_dir, since_ms, until_ms, _parse_meters(meters))
    except ConfigError as exc:
        fail(str(exc))
    except HinodeError as exc:
        fail(str(exc), code=1)


# --- settle -----------------------------------------------------------------------------------


@app.command("settle")
def settle(
    *,
    day_text: Annotated[str, typer.Option("--date", help="JST day to settle (YYYY-MM-DD).")],
    price: Annotated[float, typer.Option("--price", min=0, help="Interchange price, yen per kWh.")],
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data directory of the collector's stores.")
    ] = None,
    input_file: Annotated[
        Path | None,
        typer.Option("--input", help="Registers from a JSON file instead of the store."),
    ] = None,
    ledger_file: Annotated[
        Path | None,
        typer.Option("--ledger", help="Keep the ledger in this JSON-lines file instead."),
    ] = None,
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            help="State store URL holding the ledger table (default: DATA_DIR/state.sqlite).",
        ),
    ] = None,
    meters: Annotated[
        list[str] | None, typer.Option("--meter", help="SITE=DEVICE: a site's grid meter.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Settle a day's interchange per 30-minute slot from the grid meters' energy registers.

    The ledger goes to the state store's ``energy_ledger`` table (where Grafana reads it), or
    to a JSON-lines file with ``--ledger``. Running it again after late data arrived appends
    correction entries; nothing is rewritten.
    """
    day = _parse_date(day_text)
    if ledger_file is not None and state is not None:
        fail("--ledger and --state: give one place for the ledger")
    if ledger_file is None and state is None and data_dir is None:
        fail("--ledger, --state or --data-dir: say where the ledger is")
    _, bounds = day_slots(day)
    source = _register_source(
        input_file, data_dir, bounds[0] - _MARGIN_MS, bounds[-1] + _MARGIN_MS, meters or []
    )
    ledger: JsonlLedger | SqlLedger
    try:
        if ledger_file is not None:
            ledger = JsonlLedger(ledger_file)
        else:
            url = state_url(state if state is not None else cast("Path", data_dir))
            if url.startswith("sqlite:///"):
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            ledger = SqlLedger(url)
    except ConfigError as exc:
        fail(str(exc))
    except HinodeError as exc:
        fail(str(exc), code=1)
    try:
        recorded = ledger.entries()
        result = settle_day(
            source,
            day,
            recorded,
            price_yen_per_kwh=price,
            recorded_at=datetime.fromtimestamp(WallClock().now(), JST),
        )
        ledger.append(result.entries)
    except ConfigError as exc:
        fail(str(exc))
    except HinodeError as exc:
        fail(str(exc), code=1)
    finally:
        if isinstance(ledger, SqlLedger):
            ledger.close()
    where = ledger.path if isinstance(ledger, JsonlLedger) else f"{ledger.url} ({LEDGER_TABLE})"
    if as_json:
        _print_json(
            {
                "date": day.isoformat(),
                "entries": [entry_record(entry, exact=False) for entry in result.entries],
                "missing": [
                    {
                        "site": missing.site,
                        "slot_start": missing.slot_start.isoformat(),
                        "reason": missing.reason,
                    }
                    for missing in result.missing
                ],
            }
        )
        return
    per_site: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for entry in result.entries:
        totals = per_site[entry.site]
        totals[0] += entry.given_wh
        totals[1] += entry.taken_wh
        totals[2] += entry.amount_yen
    corrections = sum(entry.kind == "correction" for entry in result.entries)
    table = Table(title=f"Settlement {day.isoformat()} (new entries)")
    for column in ("site", "given kWh", "taken kWh", "amount ¥"):
        table.add_column(column, justify="left" if column == "site" else "right")
    for site, (given, taken, amount) in sorted(per_site.items()):
        table.add_row(site, f"{given / 1000:.3f}", f"{taken / 1000:.3f}", f"{amount:.2f}")
    console = Console()
    console.print(table)
    console.print(
        f"{len(result.entries)} entries appended to {where} ({corrections} corrections); "
        f"{len(result.missing)} site slots waiting for data"
    )


# --- report -----------------------------------------------------------------------------------


class RecordSlot(BaseModel):
    model_config = {"frozen": True, "extra": "forbid"}
    start: datetime
    consumption_wh: float
    generation_wh: float
    grid_import_wh: float
    grid_export_wh: float
    shared_in_wh: float
    shared_out_wh: float


class RecordFile(BaseModel):
    """``report --input``: a site's slots, e.g. exported from plans or measurements."""

    model_config = {"frozen": True, "extra": "forbid"}
    site: str
    slots: list[RecordSlot]


def _month_bounds(month: str) -> tuple[datetime, datetime]:
    try:
        first = datetime.strptime(month, "%Y-%m").replace(tzinfo=JST)
    except ValueError:
        fail(f"--month: expected YYYY-MM, got {month!r}")
    following = first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)
    return first, following


def _stored_records(
    site: str,
    days: Sequence[date],
    store: StoredRegisters,
    pv_devices: Sequence[str],
    ledger: Sequence[LedgerEntry],
) -> list[SiteSlotRecord]:
    """A site's slots from its grid-meter and PV registers and the settlement ledger.

    Consumption is what the meters imply: PV + grid-meter import − grid-meter export (a battery
    behind the meter counts as part of consumption). Shared energy comes from the ledger and is
    taken out of the meter's import and export, which leaves what was bought from or sold to the
    utility.
    """
    shared: dict[datetime, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for entry in ledger:
        if entry.site == site:
            shared[entry.slot_start][0] += float(entry.taken_wh)
            shared[entry.slot_start][1] += float(entry.given_wh)
    pv_samples = [store.device_samples(site, device, "energy_export_wh") for device in pv_devices]
    records: list[SiteSlotRecord] = []
    for day in days:
        starts, bounds = day_slots(day)
        since, until = bounds[0] - _MARGIN_MS, bounds[-1] + _MARGIN_MS
        meter = slot_energies(
            site,
            bounds,
            starts,
            store.register_samples(site, "energy_import_wh", since, until),
            store.register_samples(site, "energy_export_wh", since, until),
        )
        pv = [slot_energies(site, bounds, starts, samples, samples) for samples in pv_samples]
        for index, slot in enumerate(meter):
            if not isinstance(slot, SlotEnergy):
                continue
            generation = 0.0
            for produced in pv:
                outcome = produced[index]
                if isinstance(outcome, SlotEnergy):
                    generation += outcome.export_wh
            taken, given = shared.get(slot.slot_start, [0.0, 0.0])
            records.append(
                SiteSlotRecord(
                    slot_start=slot.slot_start,
                    consumption_wh=max(generation + slot.import_wh - slot.export_wh, 0.0),
                    generation_wh=generation,
                    grid_import_wh=max(slot.import_wh - taken, 0.0),
                    grid_export_wh=max(slot.export_wh - given, 0.0),
                    shared_in_wh=taken,
                    shared_out_wh=given,
                )
            )
    return records


def _ledger_entries(ledger_file: Path | None, data_dir: Path) -> list[LedgerEntry]:
    """The ledger ``settle`` wrote: the JSON-lines file, or the data directory's state store."""
    if ledger_file is not None:
        return JsonlLedger(ledger_file).entries()
    ledger = SqlLedger(state_url(data_dir))
    try:
        return ledger.entries()
    finally:
        ledger.close()


@app.command("report")
def report(
    *,
    site: Annotated[str, typer.Option("--site", help="Site to report on.")],
    month: Annotated[str, typer.Option("--month", help="Month (YYYY-MM, JST).")],
    report_format: Annotated[str, typer.Option("--format", help="md, csv or json.")] = "md",
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Also draw the per-slot chart to this PNG file.")
    ] = None,
    input_file: Annotated[
        Path | None, typer.Option("--input", help="The site's slots from a JSON file.")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data directory of the collector's stores.")
    ] = None,
    ledger_file: Annotated[
        Path | None,
        typer.Option(
            "--ledger", help="Ledger JSON-lines file (default: the ledger table of DATA_DIR)."
        ),
    ] = None,
    meters: Annotated[
        list[str] | None, typer.Option("--meter", help="SITE=DEVICE: a site's grid meter.")
    ] = None,
    pv_devices: Annotated[
        list[str] | None, typer.Option("--pv", help="DEVICE: a PV inverter of the site.")
    ] = None,
) -> None:
    """A site's monthly energy and CO2, and what PV and the interchange saved."""
    chosen_format = _REPORT_FORMATS.get(report_format)
    if chosen_format is None:
        fail(f"--format: expected md, csv or json, got {report_format!r}")
    first, following = _month_bounds(month)
    if input_file is not None:
        records_file = _load(input_file, RecordFile)
        if records_file.site != site:
            fail(f"{input_file}: holds site {records_file.site!r}, not {site!r}")
        records = [
            SiteSlotRecord(
                slot_start=slot.start,
                consumption_wh=slot.consumption_wh,
                generation_wh=slot.generation_wh,
                grid_import_wh=slot.grid_import_wh,
                grid_export_wh=slot.grid_export_wh,
                shared_in_wh=slot.shared_in_wh,
                shared_out_wh=slot.shared_out_wh,
            )
            for slot in records_file.slots
            if first <= slot.start < following
        ]
    else:
        if data_dir is None:
            fail("--data-dir or --input: say where the site's data is")
        store = _register_source(
            None,
            data_dir,
            round(first.timestamp() * 1000) - _MARGIN_MS,
            round(following.timestamp() * 1000) + _MARGIN_MS,
            meters or [],
        )
        assert isinstance(store, StoredRegisters)
        ledger = _ledger_entries(ledger_file, data_dir)
        days = [
            date.fromordinal(ordinal)
            for ordinal in range(first.date().toordinal(), following.date().toordinal())
        ]
        records = _stored_records(site, days, store, pv_devices or [], ledger)
    choice = _emission_factor(first.date())
    result = monthly_report(site, month, records, choice)
    typer.echo(render_report(result, chosen_format), nl=False)
    if plot is not None:
        try:
            plot.write_bytes(report_chart_png(site, month, records))
        except OSError as exc:
            fail(f"--plot: cannot write {plot}: {exc.strerror or exc}")


@app.command("run")
def run(
    *,
    config_file: Annotated[
        Path, typer.Argument(metavar="CONFIG.yaml", help="The site's charging controller.")
    ],
    broker: Annotated[str, typer.Option("--broker", help="mqtt://HOST:PORT of the broker.")],
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data directory of the collector's stores.")
    ] = None,
    store_url: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Time-series store URL instead (sqlite:///PATH or influx://HOST:PORT?…).",
        ),
    ] = None,
    decisions_file: Annotated[
        Path | None,
        typer.Option("--decisions", help="Decision log (default: DATA_DIR/ev-decisions.jsonl)."),
    ] = None,
    rounds: Annotated[
        int | None, typer.Option("--rounds", min=1, help="Stop after this many rounds.")
    ] = None,
    ca_file: CaFile = None,
    cert_file: CertFile = None,
    key_file: KeyFile = None,
) -> None:
    """Run a site's EV charging loop: store → dispatch → setpoint commands over MQTT."""
    tls = broker_tls(ca_file, cert_file, key_file)
    try:
        config = load_charging_config(config_file)
    except ConfigError as exc:
        fail(str(exc))
    if (data_dir is None) == (store_url is None):
        fail("--data-dir or --store: give exactly one")
    if decisions_file is None:
        if data_dir is None:
            fail("--decisions: needed with --store")
        decisions_file = data_dir / "ev-decisions.jsonl"
    try:
        store = open_timeseries(store_url or str(data_dir))
    except ConfigError as exc:
        fail(str(exc))
    except HinodeError as exc:
        fail(str(exc), code=1)
    try:
        commands = PahoCommands(broker, client_id=f"hinode-energy-{config.site}", tls=tls)
    except ConfigError as exc:
        store.close()
        fail(str(exc))
    decisions = JsonlDecisions(decisions_file)
    controller = ChargingController(config, StoreReadings(store), commands, decisions)
    try:
        asyncio.run(controller.run(WallClock(), rounds=rounds))
    except KeyboardInterrupt:
        pass
    finally:
        commands.close()
        decisions.close()
        store.close()
