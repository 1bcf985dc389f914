"""The care API with its state on a real PostgreSQL: the same role matrix and audit guarantees
as on the SQLite default, plus what only a shared server shows (two services, one schema)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud.health import DATA_KINDS, CareStore, Role
from tests.component.test_care_api import (
    NOW,
    OTHER_PERSON,
    OTHER_SUBJECT,
    PERSON,
    STATES,
    VIEWS,
    World,
    actor_id,
    build_world,
    check_request,
    tamper,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def world(postgres_url: str, tmp_path: Path) -> Iterator[World]:
    assert "postgresql://" in postgres_url
    yield from build_world(postgres_url, tmp_path)


def test_role_matrix_on_postgresql(world: World) -> None:
    problems = [
        check_request(world, role, state, view, kind)
        for role in Role
        for state in STATES
        for view in VIEWS
        for kind in (*DATA_KINDS[:3], None)
    ]
    problems += [
        check_request(world, role, "active", view, None, subject)
        for role in Role
        for subject in (OTHER_PERSON, OTHER_SUBJECT)
        for view in VIEWS
    ]
    assert [p for p in problems if p] == []


def test_a_second_service_on_the_same_schema_sees_revocations_at_once(
    world: World, postgres_url: str
) -> None:
    token = world.tokens[(Role.DOCTOR, "active")]
    path = f"/v1/subjects/{PERSON}/detail"
    assert world.get(path, token, kind="spo2").status_code == 200
    # An administrator on another process revokes through a store of their own.
    admin = CareStore(postgres_url)
    try:
        (consent,) = [
            c for c in admin.consents(PERSON) if c.actor == actor_id(Role.DOCTOR, "active")
        ]
        admin.revoke(consent.id, NOW)
    finally:
        admin.close()
    assert world.get(path, token, kind="spo2").status_code == 403
    entries = world.store.audit_log(limit=2, latest=True)
    assert [(e.granted, e.reason) for e in entries] == [
        (True, f"consent {consent.id}"),
        (False, "consent for spo2 revoked"),
    ]


def test_alerts_and_notifications_are_stored_once(world: World) -> None:
    notified = {
        actor_id(role, state)
        for role in Role
        for state in STATES
        if world.store.notifications(actor_id(role, state))
    }
    assert notified == {"family-active", "doctor-active", "nurse-active"}
    alerts = world.store.alerts(PERSON, NOW - 86_400_000, NOW)
    assert sorted(a.rule for a in alerts) == ["spo2_low", "systolic_high"]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE care_audit SET granted = true",
        "DELETE FROM care_audit",
        "TRUNCATE care_audit",
    ],
)
def test_postgresql_refuses_to_change_the_audit_log(world: World, statement: str) -> None:
    world.get(f"/v1/subjects/{PERSON}/detail", None)
    before = world.store.audit_log(limit=10)
    assert "care_audit is append-only" in tamper(world.state, statement)
    assert world.store.audit_log(limit=10) == before
