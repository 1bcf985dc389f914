"""Alert rules at their thresholds, the missing-reading rule, who is told, the table itself."""

from pathlib import Path

import pytest

from cloud import parse_instant
from cloud.health import (
    NO_READING,
    Actor,
    CareRelationship,
    Consent,
    Period,
    Role,
    VitalReading,
    default_thresholds,
    load_thresholds,
    missing_reading_alert,
    recipients,
    threshold_alerts,
)
from messages import ConfigError

THRESHOLDS = default_thresholds()
TS = parse_instant("2026-11-23T08:00:00+09:00")


def rules_fired(quantity: str, value: float) -> list[str]:
    alerts = threshold_alerts("p-1", [VitalReading("s-1", quantity, TS, value)], THRESHOLDS)
    return [alert.rule for alert in alerts]


@pytest.mark.parametrize(
    ("quantity", "value", "expected"),
    [
        ("spo2_pct", 89.9, ["spo2_low"]),
        ("spo2_pct", 90.0, []),
        ("systolic_mmhg", 180.0, ["systolic_high"]),
        ("systolic_mmhg", 179.9, []),
        ("systolic_mmhg", 90.0, []),
        ("systolic_mmhg", 89.9, ["systolic_low"]),
        ("heart_rate_bpm", 40.0, []),
        ("heart_rate_bpm", 39.9, ["heart_rate_low"]),
        ("heart_rate_bpm", 130.0, []),
        ("heart_rate_bpm", 130.1, ["heart_rate_high"]),
        ("pulse_rate_bpm", 39.0, ["pulse_rate_low"]),
        ("pulse_rate_bpm", 131.0, ["pulse_rate_high"]),
        ("body_temp_c", 38.0, ["fever"]),
        ("body_temp_c", 37.9, []),
        ("diastolic_mmhg", 130.0, []),  # no diastolic rule in the issue
        ("glucose_mg_dl", 400.0, []),
    ],
)
def test_thresholds_fire_on_the_right_side_of_each_boundary(
    quantity: str, value: float, expected: list[str]
) -> None:
    assert rules_fired(quantity, value) == expected


def test_an_alert_carries_what_a_reader_needs() -> None:
    (alert,) = threshold_alerts("p-1", [VitalReading("s-1", "spo2_pct", TS, 87.0)], THRESHOLDS)
    assert (alert.person, alert.kind, alert.ts, alert.value, alert.threshold) == (
        "p-1",
        "spo2",
        TS,
        87.0,
        90.0,
    )
    assert alert.message == "spo2_pct below 90"


def test_every_rule_names_its_clinical_source() -> None:
    assert {rule.id for rule in THRESHOLDS.rules} >= {
        "spo2_low",
        "systolic_high",
        "systolic_low",
        "heart_rate_low",
        "heart_rate_high",
        "fever",
    }
    for rule in THRESHOLDS.rules:
        assert len(rule.source) > 40, rule.id


DAY_START = parse_instant("2026-11-23T00:00:00+09:00")
DEADLINE = parse_instant("2026-11-23T10:00:00+09:00")


def test_no_reading_by_the_configured_hour_raises_one_alert_for_the_day() -> None:
    assert missing_reading_alert("p-1", [], THRESHOLDS, DEADLINE - 1) is None
    alert = missing_reading_alert("p-1", [], THRESHOLDS, DEADLINE)
    assert alert is not None
    assert (alert.rule, alert.kind, alert.ts, alert.value) == (NO_READING, "*", DEADLINE, None)
    assert alert.message == "no reading by 10:00 on 2026-11-23"
    later = missing_reading_alert("p-1", [], THRESHOLDS, DEADLINE + 3_600_000)
    assert later == alert  # the same alert however often the rules run


@pytest.mark.parametrize(
    ("reading_at", "alerts"),
    [
        (DAY_START, False),
        (DEADLINE - 1, False),
        (DAY_START - 1, True),  # yesterday's reading does not count for today
        (DEADLINE, True),  # a reading after the deadline is late
    ],
)
def test_which_readings_count_as_taken_in_time(reading_at: int, alerts: bool) -> None:
    readings = [VitalReading("s-1", "spo2_pct", reading_at, 97.0)]
    found = missing_reading_alert("p-1", readings, THRESHOLDS, DEADLINE + 1)
    assert (found is not None) == alerts


def test_recipients_are_the_actors_who_may_see_the_alert_kind() -> None:
    (alert,) = threshold_alerts("p-1", [VitalReading("s-1", "spo2_pct", TS, 85.0)], THRESHOLDS)
    roles = {
        "fam": Role.FAMILY,
        "doc": Role.DOCTOR,
        "cm": Role.CARE_MANAGER,
        "bp-only": Role.FAMILY,
        "revoked": Role.DOCTOR,
    }
    actors = [Actor(name, role, 0) for name, role in roles.items()]
    relationships = [
        CareRelationship(i, "p-1", name, role, Period(0))
        for i, (name, role) in enumerate(roles.items())
    ]

    def granted(i: int, name: str, kinds: set[str], revoked_at: int | None = None) -> Consent:
        return Consent(i, "p-1", name, roles[name], frozenset(kinds), Period(0), 0, revoked_at)

    consents = [
        granted(1, "fam", {"spo2"}),
        granted(2, "doc", {"spo2", "blood_pressure"}),
        granted(3, "cm", {"spo2"}),
        granted(4, "bp-only", {"blood_pressure"}),
        granted(5, "revoked", {"spo2"}, revoked_at=TS - 1),
    ]
    told = recipients(alert, actors, consents=consents, relationships=relationships, now=TS)
    assert [n.actor for n in told] == ["fam", "doc"]
    missing = missing_reading_alert("p-1", [], THRESHOLDS, DEADLINE)
    assert missing is not None
    told = recipients(missing, actors, consents=consents, relationships=relationships, now=TS)
    assert [n.actor for n in told] == ["fam", "doc", "bp-only"]


def test_an_operators_thresholds_file_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "thresholds.yaml"
    path.write_text(
        "rules:\n  - id: spo2_low\n    quantity: spo2_pct\n    op: lt\n    threshold: 92\n"
        "    severity: high\n    source: local protocol of the city's visiting nurses\n"
        "no_reading_by_hour: 9\n",
        encoding="utf-8",
    )
    table = load_thresholds(path)
    assert table.no_reading_by_hour == 9
    assert [r.threshold for r in table.rules] == [92]
    path.write_text("rules:\n  - id: x\n    quantity: mood\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"thresholds.yaml: rules.0.quantity"):
        load_thresholds(path)
    path.write_text("rules: []\ntimezone: Mars/Olympus\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="timezone"):
        load_thresholds(path)
