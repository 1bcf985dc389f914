"""The alert thresholds table (YAML beside this module, or a file of the operator's own)."""

from importlib import resources
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cloud.health._kinds import KIND_OF
from messages import ConfigError


class ThresholdRule(BaseModel):
    """One rule: a reading of ``quantity`` that compares with ``threshold`` by ``op`` alerts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,40}$")]
    quantity: str
    op: Literal["lt", "le", "gt", "ge"]
    threshold: float
    severity: Literal["low", "medium", "high"]
    source: Annotated[str, Field(min_length=10)]

    @field_validator("quantity")
    @classmethod
    def _vital(cls, name: str) -> str:
        if name not in KIND_OF:
            msg = f"{name!r} is not a vital-sign quantity"
            raise ValueError(msg)
        return name


class Thresholds(BaseModel):
    """Every rule, the hour by which a day's first reading is due, and the local time zone."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: tuple[ThresholdRule, ...]
    no_reading_by_hour: Annotated[int, Field(ge=0, le=24)] = 10
    timezone: str = "Asia/Tokyo"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"unknown time zone {name!r}"
            raise ValueError(msg) from None
        return name

    @field_validator("rules")
    @classmethod
    def _unique(cls, rules: tuple[ThresholdRule, ...]) -> tuple[ThresholdRule, ...]:
        ids = [rule.id for rule in rules]
        if len(ids) != len(set(ids)):
            msg = "rule ids must be unique"
            raise ValueError(msg)
        return rules


def default_thresholds() -> Thresholds:
    """The table shipped with Hinode (``cloud/health/alert_thresholds.yaml``)."""
    text = resources.files("cloud.health").joinpath("alert_thresholds.yaml").read_text("utf-8")
    return parse_thresholds(text, "cloud/health/alert_thresholds.yaml")


def load_thresholds(path: Path) -> Thresholds:
    """Read an operator's thresholds file; a ConfigError names the file and the problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"{path}: cannot read: {exc.strerror or exc}"
        raise ConfigError(msg) from None
    return parse_thresholds(text, str(path))


def parse_thresholds(text: str, origin: str) -> Thresholds:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        msg = f"{origin}: not valid YAML: {getattr(exc, 'problem', None) or exc}"
        raise ConfigError(msg) from None
    try:
        return Thresholds.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        msg = f"{origin}: {where}: {first['msg']}"
        raise ConfigError(msg) from None
