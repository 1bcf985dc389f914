"""The access decision: role, care relationship and consent, each checked at the given time."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloud.health import (
    DATA_KINDS,
    KIND_OF,
    ROLE_VIEWS,
    Actor,
    CareRelationship,
    Consent,
    Period,
    Role,
    View,
    decide,
    parse_kinds,
)
from messages.quantities import VITAL_QUANTITIES

NOW = 1_800_000_000_000
DAY = 86_400_000
PERSON = "p-1"


def actor(role: Role = Role.DOCTOR, **kwargs: int) -> Actor:
    return Actor("a-1", role, created_at=0, **kwargs)


def relationship(role: Role = Role.DOCTOR, period: Period | None = None) -> CareRelationship:
    return CareRelationship(1, PERSON, "a-1", role, period or Period(NOW - 30 * DAY))


def consent(
    role: Role = Role.DOCTOR,
    kinds: frozenset[str] = frozenset({"spo2"}),
    period: Period | None = None,
    revoked_at: int | None = None,
    consent_id: int = 7,
) -> Consent:
    return Consent(
        consent_id,
        PERSON,
        "a-1",
        role,
        kinds,
        period or Period(NOW - 10 * DAY),
        granted_at=NOW - 10 * DAY,
        revoked_at=revoked_at,
    )


def check(
    who: Actor,
    consents: list[Consent],
    relationships: list[CareRelationship],
    view: View = View.DETAIL,
    kind: str = "spo2",
    now: int = NOW,
    person: str | None = PERSON,
) -> tuple[bool, str]:
    decision = decide(who, person, kind, view, now, consents=consents, relationships=relationships)
    return decision.granted, decision.reason


def test_every_vital_quantity_has_exactly_one_kind() -> None:
    assert set(KIND_OF) == set(VITAL_QUANTITIES)


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("view", list(View), ids=str)
def test_each_role_gets_only_its_views(role: Role, view: View) -> None:
    granted, reason = check(actor(role), [consent(role)], [relationship(role)], view=view)
    assert granted == (view in ROLE_VIEWS[role])
    if not granted:
        assert reason == f"role {role} may not see the {view} view"


def test_the_role_views_are_those_of_the_issue() -> None:
    assert ROLE_VIEWS[Role.FAMILY] == {View.SUMMARY, View.ALERTS}
    assert ROLE_VIEWS[Role.CARE_MANAGER] == {View.ADHERENCE}
    assert View.DETAIL in ROLE_VIEWS[Role.DOCTOR] & ROLE_VIEWS[Role.NURSE]


@pytest.mark.parametrize(
    ("given_consent", "expected"),
    [
        (None, (False, "no consent for spo2")),
        (consent(), (True, "consent 7")),
        (consent(period=Period(NOW - 10 * DAY, NOW)), (False, "consent for spo2 expired")),
        (consent(period=Period(NOW - 10 * DAY, NOW + 1)), (True, "consent 7")),
        (consent(period=Period(NOW + 1)), (False, "consent for spo2 pending")),
        (consent(period=Period(NOW)), (True, "consent 7")),
        (consent(revoked_at=NOW), (False, "consent for spo2 revoked")),
        (consent(revoked_at=NOW + 1), (True, "consent 7")),
        (consent(kinds=frozenset({"glucose"})), (False, "no consent for spo2")),
    ],
    ids=[
        "none",
        "active",
        "expired",
        "last-ms",
        "pending",
        "first-ms",
        "revoked",
        "revoked-later",
        "other-kind",
    ],
)
def test_consent_states_at_their_boundaries(
    given_consent: Consent | None, expected: tuple[bool, str]
) -> None:
    consents = [] if given_consent is None else [given_consent]
    assert check(actor(), consents, [relationship()]) == expected


def test_a_consent_for_another_role_or_actor_does_not_count() -> None:
    as_family = consent(role=Role.FAMILY)
    other_actor = Consent(8, PERSON, "a-2", Role.DOCTOR, frozenset({"spo2"}), Period(0), 0)
    assert check(actor(), [as_family, other_actor], [relationship()]) == (
        False,
        "no consent for spo2",
    )


def test_an_active_consent_wins_over_a_revoked_one() -> None:
    consents = [consent(revoked_at=NOW - DAY, consent_id=3), consent(consent_id=9)]
    assert check(actor(), consents, [relationship()]) == (True, "consent 9")


def test_a_nurse_needs_an_active_care_period() -> None:
    nurse = actor(Role.NURSE)
    visit = relationship(Role.NURSE, Period(NOW - DAY, NOW + DAY))
    assert check(nurse, [consent(Role.NURSE)], [visit])[0]
    after = check(nurse, [consent(Role.NURSE)], [visit], now=NOW + DAY)
    assert after == (False, "no visiting-nurse care period (not active)")
    assert check(nurse, [consent(Role.NURSE)], []) == (
        False,
        "no visiting-nurse care period (none)",
    )


def test_a_doctor_needs_the_person_as_their_patient() -> None:
    assert check(actor(), [consent()], []) == (False, "no doctor-patient relationship (none)")


def test_disabled_actors_and_unknown_subjects_are_refused() -> None:
    assert check(actor(disabled_at=NOW), [consent()], [relationship()]) == (
        False,
        "actor a-1 is disabled",
    )
    assert check(actor(disabled_at=NOW + 1), [consent()], [relationship()])[0]
    assert check(actor(), [consent()], [relationship()], person=None) == (
        False,
        "unknown subject",
    )
    assert check(actor(), [consent()], [relationship()], kind="mood")[1] == (
        "unknown measurement kind 'mood'"
    )


@given(
    role=st.sampled_from(list(Role)),
    view=st.sampled_from(list(View)),
    kind=st.sampled_from(DATA_KINDS),
    consented=st.frozensets(st.sampled_from(DATA_KINDS)),
    valid_from=st.integers(NOW - 10 * DAY, NOW + DAY),
    length=st.none() | st.integers(1, 20 * DAY),
    revoked=st.none() | st.integers(NOW - 10 * DAY, NOW + DAY),
)
def test_granted_exactly_when_every_condition_holds(
    role: Role,
    view: View,
    kind: str,
    consented: frozenset[str],
    valid_from: int,
    length: int | None,
    revoked: int | None,
) -> None:
    period = Period(valid_from, None if length is None else valid_from + length)
    given_consent = consent(role, consented, period, revoked)
    granted, _ = check(actor(role), [given_consent], [relationship(role)], view, kind)
    assert granted == (
        view in ROLE_VIEWS[role]
        and kind in consented
        and period.covers(NOW)
        and (revoked is None or revoked > NOW)
    )


def test_kinds_parse_from_the_command_line() -> None:
    assert parse_kinds("spo2, glucose") == {"spo2", "glucose"}
    assert parse_kinds("all") == set(DATA_KINDS)
    with pytest.raises(ValueError, match="unknown measurement kind 'mood'"):
        parse_kinds("spo2,mood")
    with pytest.raises(ValueError, match="no measurement kind"):
        parse_kinds(" , ")
