"""The role-based views of a person's readings, pure: what each view shows and nothing more."""

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cloud.health._kinds import KIND_OF
from cloud.health._model import Alert, VitalReading
from messages.quantities import unit_of


def local_day(ts_ms: int, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(zone).date()


def _iso(ts_ms: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(zone).isoformat(timespec="seconds")


def detail_view(readings: Iterable[VitalReading], zone: ZoneInfo) -> list[dict[str, Any]]:
    """Every reading: quantity, kind, value, unit and time (local, ISO 8601)."""
    return [
        {
            "quantity": r.quantity,
            "kind": KIND_OF[r.quantity],
            "value": r.value,
            "unit": unit_of(r.quantity),
            "ts": r.ts,
            "time": _iso(r.ts, zone),
        }
        for r in sorted(readings, key=lambda r: (r.ts, r.quantity))
    ]


def summary_view(readings: Iterable[VitalReading], zone: ZoneInfo) -> list[dict[str, Any]]:
    """Per local day and quantity: how many readings, min, max, mean and the last value."""
    groups: dict[tuple[date, str], list[VitalReading]] = {}
    for reading in sorted(readings, key=lambda r: r.ts):
        groups.setdefault((local_day(reading.ts, zone), reading.quantity), []).append(reading)
    rows = []
    for (day, quantity), group in sorted(groups.items()):
        values = [r.value for r in group]
        rows.append(
            {
                "day": day.isoformat(),
                "quantity": quantity,
                "kind": KIND_OF[quantity],
                "unit": unit_of(quantity),
                "count": len(values),
                "min": min(values),
                "max": max(values),
                "mean": round(sum(values) / len(values), 2),
                "last": values[-1],
                "last_time": _iso(group[-1].ts, zone),
            }
        )
    return rows


def adherence_view(
    readings: Iterable[VitalReading], days: Sequence[date], kinds: Iterable[str], zone: ZoneInfo
) -> list[dict[str, Any]]:
    """Per local day and kind: whether readings were taken and how many — never a value."""
    taken: dict[tuple[date, str], list[int]] = {}
    for reading in readings:
        key = (local_day(reading.ts, zone), KIND_OF[reading.quantity])
        taken.setdefault(key, []).append(reading.ts)
    rows = []
    for day in days:
        for kind in sorted(kinds):
            times = taken.get((day, kind), [])
            # A blood-pressure measurement gives several readings at one time: count times.
            rows.append(
                {
                    "day": day.isoformat(),
                    "kind": kind,
                    "taken": bool(times),
                    "measurements": len(set(times)),
                }
            )
    return rows


def alerts_view(alerts: Iterable[Alert], zone: ZoneInfo) -> list[dict[str, Any]]:
    return [
        {
            "rule": a.rule,
            "kind": a.kind,
            "quantity": a.quantity,
            "value": a.value,
            "threshold": a.threshold,
            "ts": a.ts,
            "time": _iso(a.ts, zone),
            "message": a.message,
        }
        for a in sorted(alerts, key=lambda a: (a.ts, a.rule))
    ]
