"""FHIR R4 Observations and Bundles, validated by fhir.resources' models.

fhir.resources 8.x (the line that runs on pydantic 2) ships R5 as its default and R4B and
STU3 as sub-packages; R4 (4.0.1) itself is only in the 6.x line, which needs pydantic 1. R4B
(4.3.0) left Observation and Bundle as R4 had them, so its models validate our R4 output.
"""

from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation

from cloud import parse_instant
from cloud.health import VitalReading, fhir_observations, search_bundle
from cloud.health._fhir import LOINC, UCUM, kind_of_code

TS = parse_instant("2026-11-23T07:30:00+09:00")
PERSON = "p-0001"


def build(*readings: tuple[str, float, int]) -> list[dict[str, Any]]:
    return fhir_observations(PERSON, [VitalReading("s-1", q, ts, v) for q, v, ts in readings])


@pytest.mark.parametrize(
    ("quantity", "value", "codes", "ucum", "category"),
    [
        ("heart_rate_bpm", 72.0, ["8867-4"], "/min", "vital-signs"),
        ("pulse_rate_bpm", 70.0, ["8867-4"], "/min", "vital-signs"),
        ("spo2_pct", 96.0, ["2708-6", "59408-5"], "%", "vital-signs"),
        ("body_temp_c", 36.9, ["8310-5"], "Cel", "vital-signs"),
        ("weight_kg", 58.4, ["29463-7"], "kg", "vital-signs"),
        ("height_m", 1.58, ["8302-2"], "m", "vital-signs"),
        ("bmi", 23.4, ["39156-5"], "kg/m2", "vital-signs"),
        ("respiratory_rate_bpm", 16.0, ["9279-1"], "/min", "vital-signs"),
        ("glucose_mg_dl", 104.0, ["2339-0"], "mg/dL", "laboratory"),
        ("energy_expended_kj", 12.0, ["41981-2"], "kJ", "activity"),
    ],
)
def test_single_quantities_become_valid_coded_observations(
    quantity: str, value: float, codes: list[str], ucum: str, category: str
) -> None:
    (resource,) = build((quantity, value, TS))
    observation = Observation.model_validate(resource)
    assert observation.status == "final"
    assert [(c.system, c.code) for c in observation.code.coding] == [(LOINC, c) for c in codes]
    quantity_value = observation.valueQuantity
    assert (float(quantity_value.value), quantity_value.system, quantity_value.code) == (
        value,
        UCUM,
        ucum,
    )
    assert observation.category[0].coding[0].code == category
    assert observation.subject.reference == f"Patient/{PERSON}"
    assert resource["effectiveDateTime"] == "2026-11-22T22:30:00.000Z"


def test_blood_pressure_is_one_panel_with_components() -> None:
    (panel,) = build(
        ("systolic_mmhg", 142.0, TS),
        ("diastolic_mmhg", 88.0, TS),
        ("mean_arterial_pressure_mmhg", 106.0, TS),
    )
    observation = Observation.model_validate(panel)
    assert observation.code.coding[0].code == "85354-9"
    assert observation.valueQuantity is None
    components = {
        c.code.coding[0].code: (float(c.valueQuantity.value), c.valueQuantity.code)
        for c in observation.component
    }
    assert components == {
        "8480-6": (142.0, "mm[Hg]"),
        "8462-4": (88.0, "mm[Hg]"),
        "8478-0": (106.0, "mm[Hg]"),
    }


def test_a_bundle_is_a_valid_searchset_in_time_order_with_stable_ids() -> None:
    later = TS + 60_000
    resources = build(
        ("spo2_pct", 95.0, later),
        ("systolic_mmhg", 130.0, TS),
        ("diastolic_mmhg", 80.0, TS),
        ("systolic_mmhg", 128.0, later),
        ("diastolic_mmhg", 79.0, later),
        ("heart_rate_bpm", 66.0, later),
    )
    bundle_json = search_bundle(resources, TS + 3_600_000)
    bundle = Bundle.model_validate(bundle_json)
    assert (bundle.type, bundle.total, len(bundle.entry)) == ("searchset", 4, 4)
    codes = [e.resource.code.coding[0].code for e in bundle.entry]
    assert codes == ["85354-9", "85354-9", "8867-4", "2708-6"]
    ids = [e.resource.id for e in bundle.entry]
    assert len(set(ids)) == 4
    assert all(e.fullUrl == f"urn:uuid:{e.resource.id}" for e in bundle.entry)
    assert [r["id"] for r in build(("spo2_pct", 95.0, later))] == [ids[3]]


def test_heart_and_pulse_rate_at_the_same_time_stay_two_observations() -> None:
    resources = build(("heart_rate_bpm", 70.0, TS), ("pulse_rate_bpm", 71.0, TS))
    assert len({r["id"] for r in resources}) == 2
    Bundle.model_validate(search_bundle(resources, TS))


def test_an_empty_search_is_a_valid_bundle() -> None:
    bundle = Bundle.model_validate(search_bundle([], TS))
    assert bundle.total == 0


def test_loinc_codes_name_the_kind_they_belong_to() -> None:
    assert kind_of_code("8480-6") == "blood_pressure"
    assert kind_of_code("http://loinc.org|85354-9") == "blood_pressure"
    assert kind_of_code("59408-5") == kind_of_code("2708-6") == "spo2"
    assert kind_of_code("http://snomed.info/sct|8480-6") is None
    assert kind_of_code("1234-5") is None
