"""``hinode mobility``: shuttle dispatch, scooter feeds and rebalancing."""

import contextlib
import heapq
import json
import random
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from cloud.mobility import (
    JST,
    DispatchInput,
    DispatchInputError,
    FeedServer,
    FeedService,
    Hub,
    NoRideZone,
    RebalancePlan,
    ScooterFleet,
    ScooterType,
    SystemInfo,
    Van,
    demand_profile,
    describe_validation_error,
    dispatch,
    dispatch_document,
    distance_m,
    plan_rebalancing,
    reoptimise,
)
from hinode.commands._errors import fail
from simulators.vehicles import city_roads, scooter_trips

app = typer.Typer(no_args_is_help=True)


@app.callback()
def mobility() -> None:
    """Shuttle ride dispatch, scooter fleet feeds (MDS 2.0, GBFS 3.0) and rebalancing."""


JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror or exc}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")


def _jst(instant: str) -> str:
    """People read Japan time; the JSON keeps UTC."""
    return f"{datetime.fromisoformat(instant).astimezone(JST):%m-%d %H:%M}"


def _print_json(document: object) -> None:
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


@app.command("dispatch")
def dispatch_command(
    input_file: Annotated[
        Path, typer.Argument(metavar="INPUT.json", help="now, speed, shuttles and ride requests.")
    ],
    as_json: JsonFlag = False,
    batch: Annotated[
        bool,
        typer.Option(
            "--batch/--no-batch",
            help="After inserting each request, re-optimise the whole plan (promises kept).",
        ),
    ] = False,
    budget_s: Annotated[
        float, typer.Option("--budget-s", min=0.0, help="Time budget of --batch, seconds.")
    ] = 5.0,
) -> None:
    """Assign ride requests to shuttles: routes with ETAs, refusals with reason and alternative."""
    try:
        document = DispatchInput.model_validate(_read_json(input_file))
    except ValidationError as exc:
        fail(describe_validation_error(exc))
    try:
        connections = document.connections()
        result = dispatch(document.problem())
    except DispatchInputError as exc:
        fail(str(exc))
    if batch:
        result = reoptimise(result, time_budget_s=budget_s)
    output = dispatch_document(result, connections)
    if as_json:
        _print_json(output)
        return
    console = Console()
    table = Table(title=f"Shuttle dispatch at {_jst(document.now.isoformat())} JST")
    for column in ("request", "shuttle", "pickup", "drop-off"):
        table.add_column(column)
    for row in output["assignments"]:
        pickup = _jst(row["pickup_eta"]) if row["pickup_eta"] else "aboard"
        table.add_row(row["request"], row["shuttle"], pickup, _jst(row["dropoff_eta"]))
    console.print(table)
    for row in output["unassigned"]:
        line = f"refused {row['request']}: {row['reason']}"
        if row["alternative"]:
            alt = row["alternative"]
            line += (
                f"; earliest alternative: pickup from {_jst(alt['earliest_pickup'])}"
                f" (shuttle {alt['shuttle']}, drop-off {_jst(alt['dropoff_eta'])})"
            )
        console.print(line, markup=False)


# --- scooters: a simulated fleet around the station -----------------------------------------

#: Parking hubs at these road nodes: (node, capacity).
HUB_NODES = (
    ("station", 24),
    ("station-south", 16),
    ("bus-stop", 10),
    ("office-1", 12),
    ("factory-gate", 12),
    ("east-2", 10),
    ("city-hall", 10),
    ("estate-gate", 10),
    ("library", 8),
)
SCOOTER_TYPE = ScooterType("kickboard-s1", "Hinode kickboard", max_range_m=40_000)
DRAIN_PCT_PER_KM = 2.5
_PICK_RADIUS_M = 300.0


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def scooter_city(
    at: datetime, *, days: int = 28, scooters: int = 40, seed: int = 7
) -> ScooterFleet:
    """The simulated fleet as it stands at *at*, after *days* of simulated trips."""
    roads = city_roads()
    hubs = tuple(
        Hub(
            f"hub-{node}",
            roads.nodes[node].name,
            (roads.nodes[node].lat, roads.nodes[node].lon),
            capacity,
        )
        for node, capacity in HUB_NODES
    )
    fleet = ScooterFleet(
        provider_id=str(uuid.uuid5(uuid.NAMESPACE_DNS, "scooters.hinode.example")),
        id_secret=b"hinode-demo-rotation-secret",
        types=(SCOOTER_TYPE,),
        hubs=hubs,
    )
    rng = random.Random(seed)
    start = (at - timedelta(days=days)).astimezone(JST).replace(minute=0, second=0, microsecond=0)
    for index in range(scooters):
        hub = hubs[index % len(hubs)]
        fleet.deploy(
            f"{uuid.uuid5(uuid.NAMESPACE_DNS, f'scooter-{index}.hinode.example')}",
            f"HN-{index + 1:04d}",
            SCOOTER_TYPE.vehicle_type_id,
            hub.position,
            rng.uniform(50, 100),
            _ms(start),
        )
    ends: list[tuple[int, str, tuple[float, float], float]] = []
    next_swap = start.replace(hour=4) + timedelta(days=1)
    for trip in scooter_trips(roads, start, days * 24, seed=seed):
        if trip.end > at:
            continue
        while ends and ends[0][0] <= _ms(trip.start):
            ended_at, device, position, battery = heapq.heappop(ends)
            fleet.end_trip(device, ended_at, position, battery)
        while next_swap <= trip.start:  # the night crew swaps every flat battery
            for device, scooter in fleet.scooters.items():
                if scooter.state == "non_operational":
                    fleet.record(
                        device, ("battery_charged",), _ms(next_swap), scooter.position, 100
                    )
            next_swap += timedelta(days=1)
        rider = _nearest_rentable(fleet, trip.path[0])
        if rider is None:
            continue  # no scooter near enough: demand the rebalancing should learn about
        scooter = fleet.scooters[rider]
        fleet.start_trip(rider, _ms(trip.start))
        middle = trip.path[len(trip.path) // 2]
        halfway = trip.start + (trip.end - trip.start) / 2
        battery = max(0.0, scooter.battery_pct - DRAIN_PCT_PER_KM * trip.distance_m / 1000)
        halfway_pct = (scooter.battery_pct + battery) / 2
        fleet.report(rider, _ms(halfway), middle, 15 / 3.6, None, halfway_pct)
        heapq.heappush(ends, (_ms(trip.end), rider, trip.path[-1], battery))
    for ended_at, device, position, battery in sorted(ends):
        if ended_at <= _ms(at):
            fleet.end_trip(device, ended_at, position, battery)
    return fleet


def _nearest_rentable(fleet: ScooterFleet, position: tuple[float, float]) -> str | None:
    best: tuple[float, str] | None = None
    for device, scooter in fleet.scooters.items():
        if scooter.state != "available" or scooter.battery_pct < 20:
            continue
        gap = distance_m(scooter.position, position)
        if gap <= _PICK_RADIUS_M and (best is None or gap < best[0]):
            best = (gap, device)
    return None if best is None else best[1]


def _instant(value: str | None, option: str) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value!r} is not an ISO 8601 date and time")
    if moment.tzinfo is None:
        fail(f"{option}: {value!r} needs a UTC offset, e.g. +09:00")
    return moment


SYSTEM = SystemInfo(
    system_id="hinode-scooters",
    name="Hinode Scooters",
    operator="Hinode City Mobility",
    feed_contact_email="mobility@hinode.example",
)
NO_RIDE_ZONES = (
    NoRideZone(
        "Station concourse",
        ((36.5874, 136.6292), (36.5874, 136.6300), (36.5868, 136.6300), (36.5868, 136.6292)),
    ),
)


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free port).")] = 8080,
    at: Annotated[
        str | None, typer.Option("--at", help="Simulated instant (ISO 8601); default now.")
    ] = None,
    duration_s: Annotated[
        float | None, typer.Option("--duration-s", min=0.0, help="Stop after this long.")
    ] = None,
) -> None:
    """Serve the simulated scooter fleet as GBFS 3.0 and MDS 2.0 feeds over HTTP."""
    moment = _instant(at, "--at")
    fleet = scooter_city(moment)
    started = time.monotonic()

    def now_ms() -> int:
        return _ms(moment) + int((time.monotonic() - started) * 1000)

    try:
        server_service = FeedService(fleet, SYSTEM, "", NO_RIDE_ZONES)
        server = FeedServer(server_service, now_ms, host=host, port=port)
    except OSError as exc:
        fail(f"--port: cannot listen on {host}:{port}: {exc.strerror or exc}")
    server_service.base_url = server.url
    with server:
        for name, url in server_service.urls().items():
            typer.echo(f"{name}: {url}")
        with contextlib.suppress(KeyboardInterrupt):
            if duration_s is None:
                threading.Event().wait()
            else:
                time.sleep(duration_s)


@app.command("rebalance")
def rebalance_command(
    at: Annotated[str, typer.Option("--at", help="When the van sets out (ISO 8601).")],
    as_json: JsonFlag = False,
    van_capacity: Annotated[int, typer.Option(min=1, help="Scooters the van carries.")] = 8,
    batteries: Annotated[int, typer.Option(min=0, help="Charged batteries aboard.")] = 10,
    stops: Annotated[int, typer.Option(min=1, help="Most stops in one round.")] = 12,
    horizon_h: Annotated[int, typer.Option(min=1, max=24, help="Hours of demand to cover.")] = 3,
    history_days: Annotated[int, typer.Option(min=1, max=365, help="Days of trips.")] = 28,
) -> None:
    """Plan the service van's moves and battery swaps for the simulated fleet at --at."""
    moment = _instant(at, "--at")
    fleet = scooter_city(moment, days=history_days)
    profile = demand_profile(fleet.trips, fleet.hubs, JST)
    depot = fleet.hubs[0].position
    van = Van(depot, capacity=van_capacity, batteries=batteries, max_stops=stops)
    plan = plan_rebalancing(fleet, profile, moment, van, horizon_h=horizon_h)
    document = rebalance_document(plan, fleet)
    if as_json:
        _print_json(document)
        return
    console = Console()
    table = Table(
        title=f"Scooter outlook {moment.astimezone(JST):%a %Y-%m-%d %H:%M} JST, next {horizon_h} h"
    )
    for column in (
        "zone",
        "expected starts",
        "expected ends",
        "rentable",
        "low battery",
        "unmet before",
        "unmet after",
    ):
        table.add_column(column, justify="left" if column == "zone" else "right")
    for zone in plan.zones:
        table.add_row(
            zone.zone,
            f"{zone.expected_starts:.1f}",
            f"{zone.expected_ends:.1f}",
            str(zone.rentable),
            str(zone.low_battery),
            f"{zone.unmet_before:.1f}",
            f"{zone.unmet_after:.1f}",
        )
    console.print(table)
    for number, action in enumerate(document["actions"], start=1):
        console.print(
            f"{number}. {action['action']} {len(action['vehicles'])} at {action['zone']}",
            markup=False,
        )
    console.print(
        f"expected unmet demand {plan.unmet_before:.1f} → {plan.unmet_after:.1f}; "
        f"van drives {plan.driving_m / 1000:.1f} km",
        markup=False,
    )


def rebalance_document(plan: RebalancePlan, fleet: ScooterFleet) -> dict[str, Any]:
    return {
        "actions": [
            {
                "action": action.kind,
                "zone": action.zone,
                "vehicles": [fleet.scooters[device].vehicle_id for device in action.vehicles],
                "van_load_after": action.load_after,
            }
            for action in plan.actions
        ],
        "zones": [
            {
                "zone": zone.zone,
                "expected_starts": zone.expected_starts,
                "expected_ends": zone.expected_ends,
                "rentable": zone.rentable,
                "low_battery": zone.low_battery,
                "unmet_before": zone.unmet_before,
                "unmet_after": zone.unmet_after,
            }
            for zone in plan.zones
        ],
        "unmet_before": round(plan.unmet_before, 2),
        "unmet_after": round(plan.unmet_after, 2),
        "van_driving_m": round(plan.driving_m),
    }
