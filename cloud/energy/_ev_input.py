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
    """The car plugged in: energy still needed, departure, and what its on-board charger takes.

    ``phases`` and ``phase`` are the phases the car draws on, when known (measured by the loop,
    or given): a one-phase car names its phase. Without them the car is taken to draw on every
    phase its charger is wired to.
    """

    energy_needed_wh: NonNegative
    departure: AwareDatetime
    max_current_a: Positive
    phases: Literal[1, 3] | None = None
    phase: Phase | None = None

    @model_validator(mode="after")
    def _phase_matches_phases(self) -> Self:
        if self.phases == 1 and self.phase is None:
            msg = "a one-phase vehicle needs 'phase' (l1, l2 or l3)"
            raise ValueError(msg)
        if self.phases != 1 and self.phase is not None:
            msg = "'phase' is only for a vehicle with 'phases: 1'"
            raise ValueError(msg)
        return self


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
        car_phase = None if self.vehicle is None else self.vehicle.phase
        if self.phase is not None and car_phase not in (None, self.phase):
            msg = f"vehicle.phase {car_phase!r}: the charger is wired to {self.phase!r} only"
            raise ValueError(msg)
        return self

    @property
    def wired_phases(self) -> tuple[Phase, ...]:
        if self.phase is not None:
            return (self.phase,)
        return ("l1", "l2", "l3")

    @property
    def drawn_phases(self) -> tuple[Phase, ...]:
        """The phases the car draws on: its own phase if it charges on one, else the wiring."""
        vehicle = self.vehicle
        if vehicle is not None and vehicle.phase is not None:
            return (vehicle.phase,)
        return self.wired_phases


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
