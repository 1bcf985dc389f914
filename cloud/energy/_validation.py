"""Turn a pydantic validation error into one line: the field path and what is wrong."""

from pydantic import ValidationError


def describe_validation_error(error: ValidationError) -> str:
    """``sites.2.generation_wh: List should have at least 48 items…`` for the first problem."""
    problems = error.errors(include_url=False)
    first = problems[0]
    path = ".".join(str(part) for part in first["loc"]) or "<input>"
    message = f"{path}: {first['msg']}"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more)"
    return message
