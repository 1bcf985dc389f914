"""The emission-factor table: dated, sourced factors per retailer and fiscal year."""

from datetime import date
from functools import cache
from importlib.resources import files
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field

DEFAULT_RETAILER = "hokuriku-electric"
Factor = Annotated[float, Field(ge=0, le=2)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Retailer(_Model):
    name: str
    area: str


class EmissionFactor(_Model):
    """One retailer's factors for one fiscal year, with the document they come from."""

    retailer: str
    fiscal_year: int
    basic_kg_per_kwh: Factor
    adjusted_kg_per_kwh: Factor | None
    source: str
    note: str = ""


class EmissionTable(_Model):
    retailers: dict[str, Retailer]
    factors: list[EmissionFactor]


class FactorChoice(_Model):
    """The factor used for a date, and whether it is older than that date's fiscal year."""

    factor: EmissionFactor
    retailer_name: str
    wanted_fiscal_year: int

    @property
    def stale(self) -> bool:
        return self.factor.fiscal_year < self.wanted_fiscal_year


def fiscal_year(day: date) -> int:
    """Japan's fiscal year runs April to March: 2026-03-31 is in FY2025."""
    return day.year if day.month >= 4 else day.year - 1


@cache
def emission_table() -> EmissionTable:
    """The table shipped with the package."""
    text = files("cloud.energy").joinpath("emission_factors.yaml").read_text(encoding="utf-8")
    return EmissionTable.model_validate(yaml.safe_load(text))


def factor_for(
    day: date, retailer: str = DEFAULT_RETAILER, table: EmissionTable | None = None
) -> FactorChoice:
    """The factor for electricity used on *day*: that fiscal year's, else the latest before it."""
    table = table or emission_table()
    if retailer not in table.retailers:
        msg = f"no emission factors for retailer {retailer!r}; known: {sorted(table.retailers)}"
        raise KeyError(msg)
    wanted = fiscal_year(day)
    candidates = [
        entry
        for entry in table.factors
        if entry.retailer == retailer and entry.fiscal_year <= wanted
    ]
    if not candidates:
        msg = f"no emission factor for {retailer!r} in or before fiscal year {wanted}"
        raise KeyError(msg)
    chosen = max(candidates, key=lambda entry: entry.fiscal_year)
    return FactorChoice(
        factor=chosen, retailer_name=table.retailers[retailer].name, wanted_fiscal_year=wanted
    )
