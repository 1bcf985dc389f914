"""Edge sub-commands (filled in by the area that owns them)."""

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``hinode edge`` group."""
    del app
