"""``hinode ops``: operations assets generated from code (Grafana dashboards and provisioning)."""

from pathlib import Path
from typing import Annotated

import typer

from hinode.commands._errors import fail
from hinode.ops import write_grafana

app = typer.Typer(no_args_is_help=True)


@app.command("dashboards")
def dashboards(
    *,
    out: Annotated[Path, typer.Option(help="Directory for dashboards/ and provisioning/.")] = Path(
        "ops/grafana"
    ),
) -> None:
    """Write the Grafana dashboards (JSON) and datasource/dashboard provisioning (YAML)."""
    try:
        written = write_grafana(out)
    except OSError as exc:
        fail(f"cannot write to {out}: {exc.strerror or exc}")
    for path in written:
        typer.echo(f"wrote {path}")
