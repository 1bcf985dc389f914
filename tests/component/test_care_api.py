"""The care API against its real neighbours (SQLite state, the collector's SQLite time series):
the role matrix, one audit entry per request, tokens bound to their consents."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from cloud import StoredReading, open_timeseries, parse_instant, state_url
from cloud.health import (
    DATA_KINDS,
    REFUSED,
    ROLE_VIEWS,
    AlertMonitor,
    CareService,
    CareStore,
    Period,
    Role,
    View,
    create_app,
    default_thresholds,
    new_token,
    token_digest,
)
from cloud.health._fhir import BP_PANEL, MAPPINGS

NOW = parse_instant("2026-11-23T12:00:00+09:00")
HOUR = 3_600_000
DAY = 24 * HOUR
PERSON, OTHER_PERSON = "p-0001", "p-0002"
SUBJECT, OTHER_SUBJECT = "s-0a1b2c3d4e5f60718293", "s-ffeeddccbbaa99887766"
#: What every consent in the matrix covers; the other kinds are never consented.
CONSENTED = ("blood_pressure", "spo2")
STATES = ("none", "active", "expired", "revoked")
VIEWS = (View.SUMMARY, View.DETAIL, View.ADHERENCE, View.ALERTS, View.FHIR)


def _readings(subject: str, start: int) -> list[StoredReading]:
    values = [
        (0, "systolic_mmhg", 185.0),  # trips systolic_high
        (0, "diastolic_mmhg", 95.0),
        (0, "mean_arterial_pressure_mmhg", 125.0),
        (0, "pulse_rate_bpm", 72.0),
        (1, "spo2_pct", 88.0),  # trips spo2_low
        (1, "heart_rate_bpm", 70.0),
        (2, "body_temp_c", 36.8),
        (3, "glucose_mg_dl", 110.0),
        (4, "weight_kg", 60.2),
    ]
    return [
        StoredReading(
            "home-1", "gw-home-1", subject, quantity, None, start + i * 60_000, v, i + 1, "vitals"
        )
        for i, quantity, v in values
    ]


@dataclass
class World:
    client: TestClient
    store: CareStore
    tokens: dict[tuple[Role, str], str]
    state: str
    clock: list[int] = field(default_factory=lambda: [NOW])

    def get(self, path: str, token: str | None, **params: str) -> Any:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return self.client.get(path, params=params, headers=headers)


def actor_id(role: Role, state: str) -> str:
    return f"{role.value.replace('_', '-')}-{state}"


def build_world(state: str, data_dir: Path) -> Iterator[World]:
    """Two registered persons with readings; per role and consent state one actor with an
    active care relationship with the first person, and a consent in that state."""
    timeseries = open_timeseries(data_dir)
    morning = NOW - 3 * HOUR
    timeseries.write(_readings(SUBJECT, morning) + _readings(OTHER_SUBJECT, morning))
    store = CareStore(state)
    clock = [NOW]
    service = CareService(store, timeseries, lambda: clock[0])
    setup = NOW - 10 * DAY
    for person, subject in ((PERSON, SUBJECT), (OTHER_PERSON, OTHER_SUBJECT)):
        store.add_person(person, setup)
        store.add_pseudonym(subject, person, setup)
    tokens = {}
    for role in Role:
        for consent_state in STATES:
            actor = actor_id(role, consent_state)
            token = new_token()
            tokens[(role, consent_state)] = token
            store.add_actor(actor, role, token_digest(token), setup)
            store.add_relationship(PERSON, actor, Period(setup), setup)
            # Every actor also cares for the other person, who consented to nothing.
            store.add_relationship(OTHER_PERSON, actor, Period(setup), setup)
            kinds = frozenset(CONSENTED)
            if consent_state == "active":
                store.grant(PERSON, actor, kinds, Period(setup), setup)
            elif consent_state == "expired":
                store.grant(PERSON, actor, kinds, Period(setup, NOW - DAY), setup)
            elif consent_state == "revoked":
                consent = store.grant(PERSON, actor, kinds, Period(setup), setup)
                store.revoke(consent.id, NOW - HOUR)
    AlertMonitor(service, default_thresholds()).check()
    with TestClient(create_app(service)) as client:
        world = World(client, store, tokens, state, clock)
        yield world
    store.close()
    timeseries.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("care")
    yield from build_world(state_url(data_dir), data_dir)


def tamper(state: str, statement: str) -> str:
    """Run *statement* on the care state behind the service's back; return the database's error."""
    if state.startswith("sqlite"):
        engine = sa.create_engine(state)
    else:
        plain, _, query = state.partition("?schema=")
        engine = sa.create_engine(
            plain.replace("postgresql://", "postgresql+psycopg://", 1),
            connect_args={"options": f"-c search_path={query}"},
        )
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(statement))
    except sa.exc.DBAPIError as exc:
        return str(exc.orig)
    finally:
        engine.dispose()
    return "no error"


def path_of(view: View, subject: str) -> tuple[str, dict[str, str]]:
    if view is View.FHIR:
        return "/fhir/Observation", {"subject": f"Patient/{subject}"}
    return f"/v1/subjects/{subject}/{view.value}", {}


def expected_kinds(role: Role, consent_state: str, view: View, kind: str | None) -> set[str]:
    if view not in ROLE_VIEWS[role] or consent_state != "active":
        return set()
    asked = set(DATA_KINDS) if kind is None else {kind}
    return asked & set(CONSENTED)


FHIR_CODES = {
    "blood_pressure": {BP_PANEL.code},
    "spo2": {c.code for c in MAPPINGS["spo2_pct"].codings},
}


def shown_kinds(view: View, body: dict[str, Any]) -> set[str]:
    """The measurement kinds whose data a granted response actually contains."""
    if view is View.FHIR:
        codes = {e["resource"]["code"]["coding"][0]["code"] for e in body["entry"]}
        return {kind for kind, known in FHIR_CODES.items() if codes & known} | (
            {"other"} if codes - set().union(*FHIR_CODES.values()) else set()
        )
    rows = {
        View.SUMMARY: "days",
        View.DETAIL: "readings",
        View.ADHERENCE: "adherence",
        View.ALERTS: "alerts",
    }
    found = {row["kind"] for row in body[rows[view]]}
    if view is View.ADHERENCE:
        assert all(
            set(row) == {"day", "kind", "taken", "measurements"} for row in body["adherence"]
        )
    return found - {"*"}


def check_request(
    world: World,
    role: Role,
    consent_state: str,
    view: View,
    kind: str | None,
    subject: str = SUBJECT,
) -> str | None:
    """Issue one request; return a description of what was wrong with it, or None."""
    path, params = path_of(view, subject)
    if kind is not None:
        params["kind"] = kind
    before = world.store.audit_count()
    response = world.get(path, world.tokens[(role, consent_state)], **params)
    written = world.store.audit_count() - before
    case = f"{role}/{consent_state}/{view}/{kind or '*'}/{subject}"
    if written != 1:
        return f"{case}: {written} audit entries"
    entry = world.store.audit_log(limit=1, latest=True)[0]
    if (entry.actor, entry.view, entry.data_kind) != (
        actor_id(role, consent_state),
        view.value,
        kind or "*",
    ):
        return f"{case}: audit entry {entry}"
    allowed = expected_kinds(role, consent_state, view, kind) if subject == SUBJECT else set()
    if not allowed:
        if response.status_code != 403 or entry.granted:
            return f"{case}: expected refusal, got {response.status_code} (granted={entry.granted})"
        body = response.json()
        leaked = body.get("error") if view is not View.FHIR else body["issue"][0]["diagnostics"]
        return None if leaked == REFUSED else f"{case}: refusal says {leaked!r}"
    if response.status_code != 200 or not entry.granted:
        return f"{case}: expected access, got {response.status_code}: {response.text[:200]}"
    body = response.json()
    shown = shown_kinds(view, body)
    if view is View.ADHERENCE:
        return (
            None
            if shown == allowed and all(r["taken"] for r in body["adherence"])
            else f"{case}: adherence {body}"
        )
    if shown != allowed:
        return f"{case}: shows {sorted(shown)}, allowed {sorted(allowed)}"
    return None


@pytest.mark.parametrize("consent_state", STATES)
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_role_matrix_gives_exactly_the_allowed_view_and_one_audit_entry(
    world: World, role: Role, consent_state: str
) -> None:
    problems = [
        check_request(world, role, consent_state, view, kind)
        for view in VIEWS
        for kind in (*DATA_KINDS, None)
    ]
    assert [p for p in problems if p] == []


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_a_token_cannot_read_another_subject_without_consent(world: World, role: Role) -> None:
    problems = [
        check_request(world, role, "active", view, kind, subject)
        for subject in (OTHER_PERSON, OTHER_SUBJECT)
        for view in VIEWS
        for kind in (None, "blood_pressure")
    ]
    assert [p for p in problems if p] == []


def _actor(world: World, name: str, role: Role, *, relationship: Period | None = None) -> str:
    token = new_token()
    setup = NOW - 10 * DAY
    world.store.add_actor(name, role, token_digest(token), setup)
    world.store.add_relationship(PERSON, name, relationship or Period(setup), setup)
    return token


def test_requests_without_a_valid_token_are_refused_and_audited(world: World) -> None:
    before = world.store.audit_count()
    missing = world.get(f"/v1/subjects/{SUBJECT}/detail", None)
    wrong = world.get(f"/v1/subjects/{SUBJECT}/detail", "hct_not-a-token")
    fhir = world.get("/fhir/Observation", "hct_not-a-token", subject=SUBJECT)
    assert (missing.status_code, wrong.status_code, fhir.status_code) == (401, 401, 401)
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert fhir.json()["resourceType"] == "OperationOutcome"
    entries = world.store.audit_log(limit=100, latest=True)[-(world.store.audit_count() - before) :]
    assert [(e.actor, e.granted, e.reason) for e in entries] == [
        (None, False, "no bearer token"),
        (None, False, "unknown bearer token"),
        (None, False, "unknown bearer token"),
    ]


def test_bad_parameters_are_refused_and_audited(world: World) -> None:
    token = world.tokens[(Role.DOCTOR, "active")]
    before = world.store.audit_count()
    responses = [
        world.get(f"/v1/subjects/{SUBJECT}/detail", token, day="23/11/2026"),
        world.get(f"/v1/subjects/{SUBJECT}/detail", token, days="0"),
        world.get(f"/v1/subjects/{SUBJECT}/detail", token, kind="mood"),
    ]
    assert [r.status_code for r in responses] == [400, 400, 400]
    entries = world.store.audit_log(limit=100, latest=True)[-(world.store.audit_count() - before) :]
    assert len(entries) == 3
    assert all(not e.granted and e.reason.startswith("bad request") for e in entries)


def test_an_unknown_subject_is_refused_like_a_missing_consent(world: World) -> None:
    token = world.tokens[(Role.DOCTOR, "active")]
    unknown = world.get("/v1/subjects/s-000000000000000000ff/detail", token)
    unconsented = world.get(f"/v1/subjects/{OTHER_SUBJECT}/detail", token)
    assert unknown.status_code == unconsented.status_code == 403
    assert unknown.json() == unconsented.json() == {"error": REFUSED}
    reasons = [e.reason for e in world.store.audit_log(limit=2, latest=True)]
    assert reasons[0] == "unknown subject"
    assert "no consent" in reasons[1]


def test_revocation_takes_effect_at_the_next_request(world: World) -> None:
    token = _actor(world, "doctor-revoking", Role.DOCTOR)
    consent = world.store.grant(
        PERSON, "doctor-revoking", frozenset({"spo2"}), Period(NOW - DAY), NOW - DAY
    )
    assert world.get(f"/v1/subjects/{SUBJECT}/detail", token, kind="spo2").status_code == 200
    world.store.revoke(consent.id, NOW)
    refused = world.get(f"/v1/subjects/{SUBJECT}/detail", token, kind="spo2")
    assert refused.status_code == 403
    assert world.store.audit_log(limit=1, latest=True)[0].reason == "consent for spo2 revoked"


def test_a_visiting_nurse_sees_detail_only_during_the_care_period(world: World) -> None:
    token = _actor(
        world, "nurse-visit", Role.NURSE, relationship=Period(NOW - 2 * HOUR, NOW + HOUR)
    )
    world.store.grant(PERSON, "nurse-visit", frozenset({"spo2"}), Period(NOW - DAY), NOW - DAY)
    during = world.get(f"/v1/subjects/{SUBJECT}/detail", token, kind="spo2")
    assert during.status_code == 200
    assert [r["value"] for r in during.json()["readings"]] == [88.0]
    world.clock[0] = NOW + HOUR
    try:
        after = world.get(f"/v1/subjects/{SUBJECT}/detail", token, kind="spo2")
    finally:
        world.clock[0] = NOW
    assert after.status_code == 403
    assert (
        world.store.audit_log(limit=1, latest=True)[0].reason
        == "no visiting-nurse care period (not active)"
    )


def test_a_disabled_actor_is_refused(world: World) -> None:
    token = _actor(world, "family-leaving", Role.FAMILY)
    world.store.grant(PERSON, "family-leaving", frozenset({"spo2"}), Period(NOW - DAY), NOW - DAY)
    assert world.get(f"/v1/subjects/{SUBJECT}/summary", token).status_code == 200
    world.store.disable_actor("family-leaving", NOW)
    assert world.get(f"/v1/subjects/{SUBJECT}/summary", token).status_code == 403


def test_views_show_what_each_role_needs(world: World) -> None:
    doctor = world.tokens[(Role.DOCTOR, "active")]
    family = world.tokens[(Role.FAMILY, "active")]
    manager = world.tokens[(Role.CARE_MANAGER, "active")]
    summary = world.get(f"/v1/subjects/{SUBJECT}/summary", family, kind="blood_pressure").json()
    systolic = next(row for row in summary["days"] if row["quantity"] == "systolic_mmhg")
    assert (systolic["day"], systolic["count"], systolic["last"], systolic["unit"]) == (
        "2026-11-23",
        1,
        185.0,
        "mmHg",
    )
    alerts = world.get(f"/v1/subjects/{SUBJECT}/alerts", family).json()["alerts"]
    assert {a["rule"] for a in alerts} == {"systolic_high", "spo2_low"}
    adherence = world.get(f"/v1/subjects/{SUBJECT}/adherence", manager, days="2").json()
    assert adherence["adherence"] == [
        {"day": "2026-11-22", "kind": "blood_pressure", "taken": False, "measurements": 0},
        {"day": "2026-11-22", "kind": "spo2", "taken": False, "measurements": 0},
        {"day": "2026-11-23", "kind": "blood_pressure", "taken": True, "measurements": 1},
        {"day": "2026-11-23", "kind": "spo2", "taken": True, "measurements": 1},
    ]
    bundle = world.get("/fhir/Observation", doctor, subject=SUBJECT)
    assert bundle.headers["content-type"].startswith("application/fhir+json")
    assert bundle.json()["total"] == 2  # one BP panel, one SpO2 observation


def test_alerts_notify_only_the_actors_who_may_see_them(world: World) -> None:
    notified = {
        actor_id(role, state)
        for role in Role
        for state in STATES
        if world.store.notifications(actor_id(role, state))
    }
    # Alerts go to whoever may see the alerts view of their kind now: family, doctor, nurse
    # with an active consent; never a care manager (adherence only) or a lapsed consent.
    assert notified == {"family-active", "doctor-active", "nurse-active"}


@pytest.mark.parametrize(
    "statement",
    ["UPDATE care_audit SET granted = true", "DELETE FROM care_audit WHERE id > 0"],
)
def test_the_database_refuses_to_change_the_audit_log(world: World, statement: str) -> None:
    before = world.store.audit_log(limit=10)
    assert "care_audit is append-only" in tamper(world.state, statement)
    assert world.store.audit_log(limit=10) == before


def test_fhir_search_by_loinc_code_selects_one_kind(world: World) -> None:
    doctor = world.tokens[(Role.DOCTOR, "active")]
    spo2 = world.get("/fhir/Observation", doctor, subject=PERSON, code="http://loinc.org|59408-5")
    assert spo2.status_code == 200
    assert [e["resource"]["code"]["coding"][0]["code"] for e in spo2.json()["entry"]] == ["2708-6"]
    assert world.store.audit_log(limit=1, latest=True)[0].data_kind == "spo2"
    heart = world.get("/fhir/Observation", doctor, subject=PERSON, code="8867-4")
    assert heart.status_code == 403  # heart rate was not consented
    unknown = world.get("/fhir/Observation", doctor, subject=PERSON, code="1234-5")
    assert unknown.status_code == 400
    assert unknown.json()["resourceType"] == "OperationOutcome"
