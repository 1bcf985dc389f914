"""``hinode ops``: operations assets generated from code (Grafana dashboards and provisioning)."""

from pathlib import Path
from typing import Annotated

import typer

from hinode.commands._errors import fail

app = typer.Typer(no_args_is_help=True)


@app.command("dashboards")
def dashboards(
    *,
    out: Annotated[Path, typer.Option(help="Directory for dashboards/ and provisioning/.")] = Path(
        "ops/grafana"
    ),
) -> None:
    """Write the Grafana dashboards (JSON) and datasource/dashboard provisioning (YAML)."""
    # The energy dashboard needs the emission-factor table (scipy and matplotlib come with it):
    # imported when the command runs, so that every other command starts fast.
    from hinode.ops import write_grafana  # noqa: PLC0415

    try:
        written = write_grafana(out)
    except OSError as exc:
        fail(f"cannot write to {out}: {exc.strerror or exc}")
    for path in written:
        typer.echo(f"wrote {path}")
