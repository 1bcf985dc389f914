"""The care domain's plain values: actors, consents, care relationships, decisions, alerts."""

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What an actor is to the people whose data they may see."""

    FAMILY = "family"
    DOCTOR = "doctor"
    NURSE = "nurse"  # a visiting nurse
    CARE_MANAGER = "care_manager"


class View(StrEnum):
    """What a request asks to see of a person's data."""

    SUMMARY = "summary"  # per day and quantity: count, min, max, mean, last
    DETAIL = "detail"  # every reading with its value and time
    ADHERENCE = "adherence"  # per day and kind: whether readings were taken, never values
    ALERTS = "alerts"  # alerts raised by the rules
    FHIR = "fhir"  # every reading as FHIR R4 Observations (detail in another form)


@dataclass(frozen=True, slots=True)
class Actor:
    """Someone who calls the care API with a token of their own."""

    id: str
    role: Role
    created_at: int
    disabled_at: int | None = None

    def active(self, now: int) -> bool:
        return self.disabled_at is None or now < self.disabled_at


@dataclass(frozen=True, slots=True)
class Period:
    """``valid_from`` inclusive, ``valid_until`` exclusive (epoch ms); open-ended when None."""

    valid_from: int
    valid_until: int | None = None

    def covers(self, now: int) -> bool:
        return self.valid_from <= now and (self.valid_until is None or now < self.valid_until)


@dataclass(frozen=True, slots=True)
class CareRelationship:
    """An actor caring for a person in a role: a family member, the attending doctor, the
    visiting nurse's care period, the assigned care manager."""

    id: int
    person: str
    actor: str
    role: Role
    period: Period


@dataclass(frozen=True, slots=True)
class Consent:
    """A person allowed one actor, in one role, to see some kinds of measurement for a time.

    A revoked consent stops counting at ``revoked_at``; revocation is never in the future.
    """

    id: int
    person: str
    actor: str
    role: Role
    kinds: frozenset[str]
    period: Period
    granted_at: int
    revoked_at: int | None = None

    def state(self, now: int) -> str:
        """``active``, ``revoked``, ``expired`` or ``pending`` at *now*."""
        if self.revoked_at is not None and self.revoked_at <= now:
            return "revoked"
        if self.period.valid_until is not None and now >= self.period.valid_until:
            return "expired"
        if now < self.period.valid_from:
            return "pending"
        return "active"


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether one access is allowed, and why (the reason goes to the audit log)."""

    granted: bool
    reason: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One access to the care API or export, granted or refused. Never updated or deleted."""

    at: int
    actor: str | None  # None when the token was missing or unknown
    role: str | None
    subject: str | None  # as the caller named it (person id or pseudonym)
    person: str | None  # the registered person it resolved to
    view: str
    data_kind: str  # a measurement kind, or "*" for every kind
    granted: bool
    reason: str


@dataclass(frozen=True, slots=True)
class VitalReading:
    """One stored vital-sign value of a pseudonymous subject."""

    subject: str
    quantity: str
    ts: int
    value: float


@dataclass(frozen=True, slots=True)
class Alert:
    """A rule that fired for a person. ``value`` is None for a missing reading."""

    person: str
    rule: str
    kind: str
    quantity: str | None
    ts: int
    value: float | None
    threshold: float | None
    message: str


@dataclass(frozen=True, slots=True)
class Notification:
    """An alert to be told to one actor."""

    actor: str
    alert: Alert
