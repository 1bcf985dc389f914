"""``hinode mobility rebalance``: the service van's moves and battery swaps for the next hours."""

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from cloud.mobility import (
    JST,
    RebalanceInput,
    RebalancePlan,
    ScooterFleet,
    Van,
    demand_profile,
    describe_validation_error,
    plan_rebalancing,
)
from hinode.commands._errors import fail
from hinode.commands._mobility_options import JsonFlag, instant, print_json, read_json
from hinode.commands.mobility_city import scooter_city


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``hinode mobility`` group."""
    app.command("rebalance")(rebalance_command)


def rebalance_command(
    at: Annotated[str, typer.Option("--at", help="When the van sets out (ISO 8601).")],
    as_json: JsonFlag = False,
    van_capacity: Annotated[int, typer.Option(min=1, help="Scooters the van carries.")] = 8,
    batteries: Annotated[int, typer.Option(min=0, help="Charged batteries aboard.")] = 10,
    stops: Annotated[int, typer.Option(min=1, help="Most stops in one round.")] = 12,
    horizon_h: Annotated[int, typer.Option(min=1, max=24, help="Hours of demand to cover.")] = 3,
    history_days: Annotated[
        int, typer.Option(min=1, max=365, help="Days of simulated trips (without --input).")
    ] = 28,
    input_file: Annotated[
        Path | None,
        typer.Option("--input", help="Hubs, scooters, trip history (and van) as JSON."),
    ] = None,
) -> None:
    """Plan the service van's moves and battery swaps at --at (default: the simulated fleet)."""
    moment = instant(at, "--at")
    if input_file is not None:
        try:
            given = RebalanceInput.model_validate(read_json(input_file))
        except ValidationError as exc:
            fail(describe_validation_error(exc))
        fleet = given.fleet()
        van = given.van_or(van_capacity, batteries, stops)
    else:
        fleet = scooter_city(moment, days=history_days)
        van = Van(fleet.hubs[0].position, van_capacity, batteries, stops)
    profile = demand_profile(fleet.trips, fleet.hubs, JST)
    plan = plan_rebalancing(fleet, profile, moment, van, horizon_h=horizon_h)
    document = rebalance_document(plan, fleet)
    if as_json:
        print_json(document)
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
