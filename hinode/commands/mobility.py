"""``hinode mobility``: shuttle dispatch, scooter feeds and rebalancing."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from cloud.mobility import (
    DispatchInput,
    DispatchInputError,
    describe_validation_error,
    dispatch,
    dispatch_document,
    reoptimise,
)
from hinode.commands._errors import fail

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
        result = dispatch(document.problem())
    except DispatchInputError as exc:
        fail(str(exc))
    if batch:
        result = reoptimise(result, time_budget_s=budget_s)
    output = dispatch_document(result)
    if as_json:
        _print_json(output)
        return
    console = Console()
    table = Table(title=f"Shuttle dispatch at {document.now.isoformat()}")
    for column in ("request", "shuttle", "pickup ETA", "drop-off ETA"):
        table.add_column(column)
    for row in output["assignments"]:
        table.add_row(
            row["request"], row["shuttle"], row["pickup_eta"] or "aboard", row["dropoff_eta"]
        )
    console.print(table)
    for row in output["unassigned"]:
        line = f"refused {row['request']}: {row['reason']}"
        if row["alternative"]:
            alt = row["alternative"]
            line += (
                f" — earliest alternative: pickup from {alt['earliest_pickup']}"
                f" (shuttle {alt['shuttle']}, drop-off {alt['dropoff_eta']})"
            )
        console.print(line, markup=False)
