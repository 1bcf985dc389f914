"""``hinode mobility``: shuttle dispatch, scooter feeds and rebalancing.

This module holds the group and ``dispatch``; the other commands live in ``mobility_feeds``
(``serve``, ``token``), ``mobility_fleet`` (``fleet``), ``mobility_service`` (``run``),
``mobility_rebalance`` and ``mobility_tools`` (``gnss``, ``simulate``), and are added below in
the order ``--help`` lists them. ``mobility_city`` is the simulated scooter city that ``serve``
and ``rebalance`` use.
"""

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from cloud.mobility import (
    JST,
    DispatchInput,
    DispatchInputError,
    describe_validation_error,
    dispatch,
    dispatch_document,
    reoptimise,
)
from hinode.commands import (
    mobility_feeds,
    mobility_fleet,
    mobility_rebalance,
    mobility_service,
    mobility_tools,
)
from hinode.commands._errors import fail
from hinode.commands._mobility_options import JsonFlag, print_json, read_json

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)


@app.callback()
def mobility() -> None:
    """Shuttle ride dispatch, scooter fleet feeds (MDS 2.0, GBFS 3.0) and rebalancing."""


def _jst(instant: str) -> str:
    """People read Japan time; the JSON keeps UTC."""
    return f"{datetime.fromisoformat(instant).astimezone(JST):%m-%d %H:%M}"


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
            help="After inserting the new requests, re-optimise the whole plan (promises kept).",
        ),
    ] = False,
    budget_s: Annotated[
        float, typer.Option("--budget-s", min=0.0, help="Time budget of --batch, seconds.")
    ] = 5.0,
) -> None:
    """Assign ride requests to shuttles: routes with ETAs, refusals with reason and alternative."""
    try:
        document = DispatchInput.model_validate(read_json(input_file))
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
        print_json(output)
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


mobility_feeds.register(app)
mobility_fleet.register(app)
mobility_service.register(app)
mobility_rebalance.register(app)
mobility_tools.register(app)
