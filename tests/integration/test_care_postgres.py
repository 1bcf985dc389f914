"""The care API with its state on a real PostgreSQL: the same role matrix and audit guarantees
as on the SQLite default, plus what only a shared server shows (two services, one schema)."""

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle

from cloud import Collector, open_state, open_timeseries
from cloud.health import (
    DATA_KINDS,
    AlertMonitor,
    CareService,
    CareStore,
    Period,
    Role,
    create_app,
    default_thresholds,
    new_token,
    token_digest,
)
from edge.ble import subject_pseudonym
from messages import Observation, VitalsPayload, WallClock, encode
from messages.topics import vitals_topic
from tests.component.test_care_api import (
    DAY,
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
from tests.support.cloud_messages import Publisher
from tests.support.mosquitto import Mosquitto

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


async def test_vitals_from_a_gateway_reach_the_care_api_through_the_collector(
    mosquitto: Mosquitto, postgres_url: str, tmp_path: Path
) -> None:
    """Edge pseudonym → MQTT → collector (PostgreSQL state) → care registry → FHIR export."""
    subject = subject_pseudonym(b"k" * 32, site="home-7", device_address="00:1b:dc:0f:aa:01")
    taken = NOW - 3 * 3_600_000  # 09:00, before the 10:00 missing-reading deadline
    payload = VitalsPayload(
        gateway="gw-home-7",
        boot_id="b0070007",
        seq=1,
        sent_at=taken,
        subject=subject,
        observations=[
            Observation(quantity="systolic_mmhg", value=182.0, ts=taken, device="bp-1"),
            Observation(quantity="diastolic_mmhg", value=101.0, ts=taken, device="bp-1"),
            Observation(quantity="pulse_rate_bpm", value=77.0, ts=taken, device="bp-1"),
        ],
    )
    timeseries = open_timeseries(tmp_path)
    state = open_state(postgres_url)
    collector = Collector(mosquitto.url, timeseries, state, WallClock(), client_id="c-care")
    async with collector as running:
        with Publisher(mosquitto.url) as publisher:
            publisher.publish(vitals_topic("home-7", "gw-home-7", subject), encode(payload))
        deadline = time.monotonic() + 30
        while running.stats.stored_readings < 3:
            assert time.monotonic() < deadline, "the collector did not store the vitals"
            await asyncio.sleep(0.05)
    state.close()

    store = CareStore(postgres_url)
    store.add_person("p-0007", NOW - DAY)
    store.add_pseudonym(subject, "p-0007", NOW - DAY)
    token = new_token()
    store.add_actor("dr-kato", Role.DOCTOR, token_digest(token), NOW - DAY)
    store.add_relationship("p-0007", "dr-kato", Period(NOW - DAY), NOW - DAY)
    store.grant("p-0007", "dr-kato", frozenset({"blood_pressure"}), Period(NOW - DAY), NOW - DAY)
    service = CareService(store, timeseries, lambda: NOW)
    report = AlertMonitor(service, default_thresholds()).check()
    with TestClient(create_app(service)) as client:
        response = client.get(
            "/fhir/Observation",
            params={"subject": "Patient/p-0007"},
            headers={"Authorization": f"Bearer {token}"},
        )
    store.close()
    timeseries.close()
    assert response.status_code == 200
    bundle = Bundle.model_validate(response.json())
    # Blood pressure only: the pulse rate (heart_rate kind) was not consented.
    (entry,) = bundle.entry
    assert entry.resource.code.coding[0].code == "85354-9"
    assert {c.code.coding[0].code for c in entry.resource.component} == {"8480-6", "8462-4"}
    assert (report.new_alerts, report.notifications) == (1, 1)  # systolic_high, to dr-kato
