"""Alert rules, pure: readings and thresholds in, alerts out; who is told is a decision too."""

import operator
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cloud.health._access import decide
from cloud.health._kinds import KIND_OF
from cloud.health._model import (
    Actor,
    Alert,
    CareRelationship,
    Consent,
    Notification,
    View,
    VitalReading,
)
from cloud.health._thresholds import ThresholdRule, Thresholds

NO_READING = "no_reading"
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
_WORDS = {"lt": "below", "le": "at or below", "gt": "above", "ge": "at or above"}


def fires(rule: ThresholdRule, value: float) -> bool:
    """Whether *value* (in the rule quantity's canonical unit) trips *rule*."""
    return _COMPARE[rule.op](value, rule.threshold)


def threshold_alerts(
    person: str, readings: Iterable[VitalReading], thresholds: Thresholds
) -> list[Alert]:
    """One alert per (reading, rule that it trips), in the readings' order."""
    by_quantity: dict[str, list[ThresholdRule]] = {}
    for rule in thresholds.rules:
        by_quantity.setdefault(rule.quantity, []).append(rule)
    return [
        Alert(
            person=person,
            rule=rule.id,
            kind=KIND_OF[rule.quantity],
            quantity=rule.quantity,
            ts=reading.ts,
            value=reading.value,
            threshold=rule.threshold,
            message=f"{rule.quantity} {_WORDS[rule.op]} {rule.threshold:g}",
        )
        for reading in readings
        for rule in by_quantity.get(reading.quantity, ())
        if fires(rule, reading.value)
    ]


def missing_reading_alert(
    person: str, readings: Sequence[VitalReading], thresholds: Thresholds, now: int
) -> Alert | None:
    """An alert when today's (local) deadline hour has passed and today has no reading.

    The alert's ``ts`` is the deadline itself, so the same missed day always gives the same
    alert however often the rules run.
    """
    zone = ZoneInfo(thresholds.timezone)
    local_now = datetime.fromtimestamp(now / 1000, UTC).astimezone(zone)
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    deadline = midnight + timedelta(hours=thresholds.no_reading_by_hour)
    if local_now < deadline:
        return None
    day_start_ms = int(midnight.timestamp() * 1000)
    deadline_ms = int(deadline.timestamp() * 1000)
    if any(day_start_ms <= r.ts < deadline_ms for r in readings):
        return None
    return Alert(
        person=person,
        rule=NO_READING,
        kind="*",
        quantity=None,
        ts=deadline_ms,
        value=None,
        threshold=None,
        message=f"no reading by {thresholds.no_reading_by_hour:02d}:00 on {midnight.date()}",
    )


def recipients(
    alert: Alert,
    actors: Iterable[Actor],
    *,
    consents: Sequence[Consent],
    relationships: Sequence[CareRelationship],
    now: int,
) -> list[Notification]:
    """The actors who may see *alert* now: the alerts view of its kind, by the same decision
    as the API. A missing-reading alert goes to whoever may see alerts of any kind."""
    kinds = [alert.kind] if alert.kind in set(KIND_OF.values()) else sorted(set(KIND_OF.values()))

    def may_see(actor: Actor) -> bool:
        return any(
            decide(
                actor,
                alert.person,
                kind,
                View.ALERTS,
                now,
                consents=consents,
                relationships=relationships,
            ).granted
            for kind in kinds
        )

    return [Notification(actor=actor.id, alert=alert) for actor in actors if may_see(actor)]
