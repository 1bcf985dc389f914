"""How every command reports bad input: one line on stderr and exit status 2."""

from typing import NoReturn

import typer

BAD_INPUT = 2


def fail(message: str, *, code: int = BAD_INPUT) -> NoReturn:
    """Print ``error: message`` to stderr and leave with *code*."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
