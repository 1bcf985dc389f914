"""One access to care data: authenticate, decide, audit once, then build the view.

Framework-free, so the HTTP API and ``hinode care export-fhir`` go through the same path.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from cloud import ReadingQuery, StoredReading
from cloud.health._access import decide
from cloud.health._fhir import observations, search_bundle
from cloud.health._kinds import DATA_KINDS, KIND_QUANTITIES
from cloud.health._model import Actor, AuditEntry, Decision, View, VitalReading
from cloud.health._store import CareStore
from cloud.health._tokens import token_digest
from cloud.health._views import adherence_view, alerts_view, detail_view, summary_view

#: At most this many days in one request.
MAX_DAYS = 92
#: A FHIR search without ``days`` covers this many days up to today.
FHIR_DEFAULT_DAYS = 30
_DAY_MS = 86_400_000


class VitalsSource(Protocol):
    """What the service needs of the collector's time-series store (a ``TimeSeriesStore``)."""

    def query(self, query: ReadingQuery) -> Iterator[StoredReading]: ...


class AccessError(Exception):
    """A refused access: ``status`` is the HTTP status, ``reason`` what the caller is told."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Request:
    """What a caller asks for. ``day`` is the last local day, ``days`` how many up to it."""

    token: str | None
    subject: str
    view: View
    kind: str | None = None
    day: str | None = None
    days: str | None = None


#: What refused callers are told: the same for an unknown subject and a missing consent, so
#: that nobody learns which pseudonyms are registered. The audit log keeps the real reason.
REFUSED = "not permitted"


class CareService:
    """Answers care-data requests; every request leaves exactly one audit entry.

    Safe to call from several threads at once: it keeps no state between requests, and the
    store's engine and the time-series reader (a connection per query) are thread-safe.
    """

    def __init__(
        self,
        store: CareStore,
        vitals: VitalsSource,
        now_ms: Callable[[], int],
        *,
        timezone: str = "Asia/Tokyo",
    ) -> None:
        self.store = store
        self.vitals = vitals
        self.now_ms = now_ms
        self.zone = ZoneInfo(timezone)

    def handle(self, request: Request) -> dict[str, Any]:
        """The view asked for, or AccessError (401, 400 or 403) after auditing the refusal."""
        return self._handle(request, self.now_ms())

    def _handle(self, request: Request, now: int) -> dict[str, Any]:
        kind_label = request.kind or "*"

        def audit(actor: Actor | None, person: str | None, decision: Decision) -> None:
            self.store.append_audit(
                AuditEntry(
                    at=now,
                    actor=None if actor is None else actor.id,
                    role=None if actor is None else actor.role.value,
                    subject=request.subject[:64],
                    person=person,
                    view=request.view.value,
                    data_kind=kind_label[:32],
                    granted=decision.granted,
                    reason=decision.reason,
                )
            )

        actor = (
            None if not request.token else self.store.actor_by_token(token_digest(request.token))
        )
        if actor is None:
            reason = "no bearer token" if not request.token else "unknown bearer token"
            audit(None, None, Decision(granted=False, reason=reason))
            raise AccessError(401, reason)
        try:
            first_day, last_day = self._days(request, now)
            _check_kind(request.kind)
        except ValueError as exc:
            audit(actor, None, Decision(granted=False, reason=f"bad request: {exc}"))
            raise AccessError(400, str(exc)) from None
        person = self.store.resolve(request.subject)
        consents = self.store.consents(person) if person else []
        relationships = self.store.relationships(person) if person else []
        kinds = [request.kind] if request.kind else list(DATA_KINDS)
        decisions = {
            kind: decide(
                actor,
                person,
                kind,
                request.view,
                now,
                consents=consents,
                relationships=relationships,
            )
            for kind in kinds
        }
        granted = [kind for kind, decision in decisions.items() if decision.granted]
        if not granted:
            audit(actor, person, _refusal(decisions, request.kind))
            raise AccessError(403, REFUSED)
        reasons = sorted({decisions[kind].reason for kind in granted})
        why = f"{', '.join(reasons)} ({', '.join(granted)})" if request.kind is None else reasons[0]
        audit(actor, person, Decision(granted=True, reason=why))
        assert person is not None
        return self._view(request, person, granted, first_day, last_day, now)

    def _days(self, request: Request, now: int) -> tuple[date, date]:
        today = datetime.fromtimestamp(now / 1000, UTC).astimezone(self.zone).date()
        last = today if request.day is None else date.fromisoformat(request.day)
        default = FHIR_DEFAULT_DAYS if request.view is View.FHIR else 1
        count = default if request.days is None else int(request.days)
        if not 1 <= count <= MAX_DAYS:
            msg = f"days must be 1 to {MAX_DAYS}, got {count}"
            raise ValueError(msg)
        return last - timedelta(days=count - 1), last

    def _start_ms(self, day: date) -> int:
        return int(datetime(day.year, day.month, day.day, tzinfo=self.zone).timestamp() * 1000)

    def readings(self, person: str, kinds: list[str], since: int, until: int) -> list[VitalReading]:
        """The person's readings of *kinds* from every pseudonym of theirs, in time order."""
        quantities = set().union(*(KIND_QUANTITIES[kind] for kind in kinds))
        found: list[VitalReading] = []
        for subject in self.store.pseudonyms(person):
            query = ReadingQuery(since=since, until=until, device=subject)
            found.extend(
                VitalReading(subject, row.quantity, row.ts, row.value)
                for row in self.vitals.query(query)
                if row.kind == "vitals" and row.quantity in quantities
            )
        found.sort(key=lambda r: (r.ts, r.quantity))
        return found

    def _view(
        self,
        request: Request,
        person: str,
        kinds: list[str],
        first_day: date,
        last_day: date,
        now: int,
    ) -> dict[str, Any]:
        since = self._start_ms(first_day)
        until = self._start_ms(last_day + timedelta(days=1))
        head: dict[str, Any] = {
            "subject": person,
            "view": request.view.value,
            "kinds": kinds,
            "from": first_day.isoformat(),
            "to": last_day.isoformat(),
        }
        if request.view is View.ALERTS:
            allowed = set(kinds) | {"*"}
            alerts = [a for a in self.store.alerts(person, since, until) if a.kind in allowed]
            return head | {"alerts": alerts_view(alerts, self.zone)}
        readings = self.readings(person, kinds, since, until)
        if request.view is View.DETAIL:
            return head | {"readings": detail_view(readings, self.zone)}
        if request.view is View.SUMMARY:
            return head | {"days": summary_view(readings, self.zone)}
        if request.view is View.ADHERENCE:
            span = (last_day - first_day).days + 1
            days = [first_day + timedelta(days=offset) for offset in range(span)]
            return head | {"adherence": adherence_view(readings, days, kinds, self.zone)}
        return search_bundle(observations(person, readings), now)


def _check_kind(kind: str | None) -> None:
    if kind is not None and kind not in DATA_KINDS:
        msg = f"unknown kind {kind!r}: expected one of {', '.join(DATA_KINDS)}"
        raise ValueError(msg)


def _refusal(decisions: dict[str, Decision], kind: str | None) -> Decision:
    if kind is not None:
        return decisions[kind]
    reasons = sorted({decision.reason for decision in decisions.values()})
    # One reason for all kinds (no relationship, wrong view, unknown subject) says it all.
    if len(reasons) == 1:
        return Decision(granted=False, reason=reasons[0])
    # Otherwise the consents that exist but do not count tell why; the rest had none.
    telling = [reason for reason in reasons if not reason.startswith("no consent for ")]
    rest = "no consent for the other kinds" if len(telling) < len(reasons) else None
    return Decision(granted=False, reason="; ".join([*telling, *([rest] if rest else [])]))
