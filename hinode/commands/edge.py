"""``hinode edge``: the gateway agent and the technician tools."""

import typer

from hinode.commands import edge_runtime, edge_tools

app = typer.Typer(no_args_is_help=True)
edge_tools.register(app)
edge_runtime.register(app)
