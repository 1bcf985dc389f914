"""The access decision: may this actor see this view of this kind of a person's data, now?

Pure: the caller passes the person's consents and care relationships as read at the time of
the request (never cached, so a revocation counts from the next request on) and ``now``.
"""

from collections.abc import Iterable

from cloud.health._kinds import DATA_KINDS
from cloud.health._model import Actor, CareRelationship, Consent, Decision, Role, View

#: Which views each role may have at all. FHIR is the detail view in FHIR's form.
ROLE_VIEWS: dict[Role, frozenset[View]] = {
    Role.FAMILY: frozenset({View.SUMMARY, View.ALERTS}),
    Role.DOCTOR: frozenset({View.SUMMARY, View.DETAIL, View.ADHERENCE, View.ALERTS, View.FHIR}),
    Role.NURSE: frozenset({View.SUMMARY, View.DETAIL, View.ADHERENCE, View.ALERTS, View.FHIR}),
    Role.CARE_MANAGER: frozenset({View.ADHERENCE}),
}

#: How each role names the care relationship it needs, for refusal reasons.
_RELATIONSHIP = {
    Role.FAMILY: "family relationship",
    Role.DOCTOR: "doctor-patient relationship",
    Role.NURSE: "visiting-nurse care period",
    Role.CARE_MANAGER: "care-management assignment",
}


def decide(
    actor: Actor,
    person: str | None,
    data_kind: str,
    view: View,
    now: int,
    *,
    consents: Iterable[Consent],
    relationships: Iterable[CareRelationship],
) -> Decision:
    """Grant only when every condition holds; otherwise refuse with the first one that fails.

    1. the actor is active; 2. the subject is a registered person; 3. the actor's role may
    have *view* at all; 4. the actor has a care relationship with the person in that role
    that covers *now* (for a visiting nurse: an active care period); 5. the person gave this
    actor, in this role, a consent for *data_kind* that is active at *now* (not pending, not
    expired, not revoked).
    """
    if not actor.active(now):
        return Decision(granted=False, reason=f"actor {actor.id} is disabled")
    if person is None:
        return Decision(granted=False, reason="unknown subject")
    if data_kind not in DATA_KINDS:
        return Decision(granted=False, reason=f"unknown measurement kind {data_kind!r}")
    if view not in ROLE_VIEWS[actor.role]:
        return Decision(granted=False, reason=f"role {actor.role} may not see the {view} view")
    theirs = [r for r in relationships if r.person == person and r.actor == actor.id]
    relationship = _RELATIONSHIP[actor.role]
    if not any(r.role == actor.role and r.period.covers(now) for r in theirs):
        ended = any(r.role == actor.role for r in theirs)
        state = "not active" if ended else "none"
        return Decision(granted=False, reason=f"no {relationship} ({state})")
    relevant = [
        c for c in consents if c.person == person and c.actor == actor.id and c.role == actor.role
    ]
    states = {c.state(now) for c in relevant if data_kind in c.kinds}
    if "active" in states:
        granting = min(c.id for c in relevant if data_kind in c.kinds and c.state(now) == "active")
        return Decision(granted=True, reason=f"consent {granting}")
    if not states:
        return Decision(granted=False, reason=f"no consent for {data_kind}")
    # Most telling first: a revoked consent explains more than an old expired one.
    for state in ("revoked", "expired", "pending"):
        if state in states:
            return Decision(granted=False, reason=f"consent for {data_kind} {state}")
    return Decision(granted=False, reason=f"no consent for {data_kind}")  # pragma: no cover
