"""The EV dispatcher's input: the site's phase limit, a mode, the PV surplus and the chargers."""

from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

Phase = Literal["l1", "l2", "l3"]
Mode = Literal["now", "minpv", "pv"]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
ChargerId = Annotated[str, Field(min_length=1, max_length=128)]
DEFAULT_HOLD_SECONDS = 60.0


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Vehicle(_Model):
    """The car plugged in: energy still needed, departure, and what its on-board charger takes."""

    energy_needed_wh: NonNegative
    departure: AwareDatetime
    max_current_a: Positive


class Charger(_Model):
    """A charging point; a single-phase one names the phase it is wired to."""

    id: ChargerId
    phases: Literal[1, 3]
    phase: Phase | None = None
    max_current_a: Positive
    connected: bool
    vehicle: Vehicle | None

    @model_validator(mode="after")
    def _phase_matches_phases(self) -> Self:
        if self.phases == 1 and self.phase is None:
            msg = "a single-phase charger needs 'phase' (l1, l2 or l3)"
            raise ValueError(msg)
        if self.phases == 3 and self.phase is not None:
            msg = "a three-phase charger takes no 'phase'"
            raise ValueError(msg)
        return self

    @property
    def wired_phases(self) -> tuple[Phase, ...]:
        if self.phase is not None:
            return (self.phase,)
        return ("l1", "l2", "l3")


class PreviousSetpoint(_Model):
    """The setpoint a charger has had since *since*; lets the dispatcher honour the hold time."""

    charger: ChargerId
    current_a: NonNegative
    since: AwareDatetime


class DispatchRequest(_Model):
    """One dispatch round of a site."""

    now: AwareDatetime
    site_limit_a: NonNegative
    mode: Mode
    pv_surplus_w: float
    voltage_v: Positive
    chargers: list[Charger]
    #: Optional: the setpoints in force and since when; without them nothing is held.
    previous: list[PreviousSetpoint] = []
    hold_seconds: NonNegative = DEFAULT_HOLD_SECONDS

    @field_validator("chargers")
    @classmethod
    def _unique_ids(cls, chargers: list[Charger]) -> list[Charger]:
        seen: set[str] = set()
        for charger in chargers:
            if charger.id in seen:
                msg = f"charger id {charger.id!r} appears twice"
                raise ValueError(msg)
            seen.add(charger.id)
        return chargers
