"""What the ``hinode mobility`` commands share: ``--json``, ``--token-file``, input, instants."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import yaml
from pydantic import BaseModel, ValidationError

from cloud.mobility import TokenFileError, TokenStore, describe_validation_error
from hinode.commands._errors import fail

Config = TypeVar("Config", bound=BaseModel)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]

TokenFileOption = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        help="Callers' tokens, NAME:sha256:HEX lines (`hinode mobility token`); without: open.",
    ),
]


def token_store(path: Path | None) -> TokenStore | None:
    if path is None:
        return None
    try:
        return TokenStore.load(path)
    except TokenFileError as exc:
        fail(f"--token-file: {exc}")


def read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror or exc}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")


def print_json(document: object) -> None:
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def instant(value: str | None, option: str) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value!r} is not an ISO 8601 date and time")
    if moment.tzinfo is None:
        fail(f"{option}: {value!r} needs a UTC offset, e.g. +09:00")
    return moment


def read_yaml_config(path: Path, model: type[Config]) -> Config:
    """*path*'s YAML as *model*; anything wrong is one line naming the file (and field), exit 2."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror or exc}")
    except yaml.YAMLError as exc:
        fail(f"{path}: not valid YAML: {exc}")
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        fail(f"{path}: {describe_validation_error(exc)}")
