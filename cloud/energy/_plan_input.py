"""The interchange planner's input: an area, a day of 48 half-hour slots, prices and sites."""

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from cloud.energy._time import SLOTS_PER_DAY, is_slot_boundary

NonNegative = Annotated[float, Field(ge=0)]
PerSlot = Annotated[list[NonNegative], Field(min_length=SLOTS_PER_DAY, max_length=SLOTS_PER_DAY)]
SiteId = Annotated[str, Field(min_length=1, max_length=128)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Battery(_Model):
    """A stationary battery; energies at the site's side of its inverter."""

    capacity_wh: Annotated[float, Field(gt=0)]
    power_w: NonNegative
    #: Round-trip efficiency; split evenly between charging and discharging.
    efficiency: Annotated[float, Field(gt=0, le=1)]
    soc_wh: NonNegative

    @model_validator(mode="after")
    def _soc_within_capacity(self) -> Self:
        if self.soc_wh > self.capacity_wh:
            msg = f"soc_wh {self.soc_wh} exceeds capacity_wh {self.capacity_wh}"
            raise ValueError(msg)
        return self


class Prices(_Model):
    """Grid tariff (flat or per slot), feed-in price and the area's internal interchange price."""

    grid_import_yen_per_kwh: NonNegative | PerSlot
    grid_export_yen_per_kwh: NonNegative
    interchange_yen_per_kwh: NonNegative

    @model_validator(mode="after")
    def _import_not_below_export(self) -> Self:
        # Buying below the feed-in price would make grid arbitrage unbounded.
        for index, price in enumerate(self.import_per_slot()):
            if price < self.grid_export_yen_per_kwh:
                msg = (
                    f"grid_import_yen_per_kwh {price} (slot {index}) is below "
                    f"grid_export_yen_per_kwh {self.grid_export_yen_per_kwh}"
                )
                raise ValueError(msg)
        return self

    def import_per_slot(self) -> list[float]:
        """The import price of each slot."""
        if isinstance(self.grid_import_yen_per_kwh, list):
            return list(self.grid_import_yen_per_kwh)
        return [self.grid_import_yen_per_kwh] * SLOTS_PER_DAY


class Site(_Model):
    """One participant: its generation and consumption per slot (measured or forecast)."""

    id: SiteId
    kind: Literal["business", "public", "home"]
    generation_wh: PerSlot
    consumption_wh: PerSlot
    battery: Battery | None = None


class PlanRequest(_Model):
    """Everything the planner needs for one area and one day."""

    area: Annotated[str, Field(min_length=1)]
    start: AwareDatetime
    slot_minutes: Literal[30]
    prices: Prices
    sites: Annotated[list[Site], Field(min_length=1)]

    @field_validator("start")
    @classmethod
    def _on_slot_boundary(cls, start: datetime) -> datetime:
        if not is_slot_boundary(start):
            msg = f"{start.isoformat()} is not on a half-hour boundary"
            raise ValueError(msg)
        return start

    @field_validator("sites")
    @classmethod
    def _unique_ids(cls, sites: list[Site]) -> list[Site]:
        seen: set[str] = set()
        for site in sites:
            if site.id in seen:
                msg = f"site id {site.id!r} appears twice"
                raise ValueError(msg)
            seen.add(site.id)
        return sites
