"""FHIR R4 Observations from stored vital signs, as plain JSON-ready dicts (pure, no I/O).

Codes are LOINC, units UCUM, categories from the FHIR observation-category code system. A
blood-pressure reading (systolic and diastolic taken together) becomes one 85354-9 panel with
components, as the FHIR vital-signs profile has it.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cloud.health._kinds import kind_of
from cloud.health._model import VitalReading

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
#: Identifier system of the pseudonymous subjects (person ids of the care registry).
SUBJECT_SYSTEM = "urn:hinode:care:person"
_NAMESPACE = uuid.UUID("6f0b7f4e-2a7d-4b8e-9a51-3c2f1d0e9b17")


@dataclass(frozen=True, slots=True)
class Coding:
    code: str
    display: str


@dataclass(frozen=True, slots=True)
class Mapping:
    """How one canonical quantity is coded: LOINC code(s), UCUM unit, category."""

    codings: tuple[Coding, ...]
    ucum: str
    unit: str
    category: str


MAPPINGS: dict[str, Mapping] = {
    "heart_rate_bpm": Mapping(
        (Coding("8867-4", "Heart rate"),), "/min", "beats/min", "vital-signs"
    ),
    # A cuff's or an oximeter's pulse is the heart rate of the vital-signs profile.
    "pulse_rate_bpm": Mapping(
        (Coding("8867-4", "Heart rate"),), "/min", "beats/min", "vital-signs"
    ),
    "spo2_pct": Mapping(
        (
            Coding("2708-6", "Oxygen saturation in Arterial blood"),
            Coding("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
        ),
        "%",
        "%",
        "vital-signs",
    ),
    "body_temp_c": Mapping((Coding("8310-5", "Body temperature"),), "Cel", "°C", "vital-signs"),
    "weight_kg": Mapping((Coding("29463-7", "Body weight"),), "kg", "kg", "vital-signs"),
    "height_m": Mapping((Coding("8302-2", "Body height"),), "m", "m", "vital-signs"),
    "bmi": Mapping(
        (Coding("39156-5", "Body mass index (BMI) [Ratio]"),), "kg/m2", "kg/m2", "vital-signs"
    ),
    "respiratory_rate_bpm": Mapping(
        (Coding("9279-1", "Respiratory rate"),), "/min", "breaths/min", "vital-signs"
    ),
    "glucose_mg_dl": Mapping(
        (Coding("2339-0", "Glucose [Mass/volume] in Blood"),), "mg/dL", "mg/dL", "laboratory"
    ),
    "energy_expended_kj": Mapping((Coding("41981-2", "Calories burned"),), "kJ", "kJ", "activity"),
}

BP_PANEL = Coding("85354-9", "Blood pressure panel with all children optional")
BP_COMPONENTS: dict[str, Coding] = {
    "systolic_mmhg": Coding("8480-6", "Systolic blood pressure"),
    "diastolic_mmhg": Coding("8462-4", "Diastolic blood pressure"),
    "mean_arterial_pressure_mmhg": Coding("8478-0", "Mean blood pressure"),
}


def kind_of_code(code: str) -> str | None:
    """The measurement kind a LOINC code (``8867-4`` or ``http://loinc.org|8867-4``) stands
    for in FHIR searches, None for a code this service does not export."""
    system, _, plain = code.rpartition("|")
    if system not in {"", LOINC}:
        return None
    return _KIND_OF_CODE.get(plain)


_KIND_OF_CODE: dict[str, str] = {
    coding.code: kind_of(quantity) or ""
    for quantity, mapping in MAPPINGS.items()
    for coding in mapping.codings
} | {coding.code: "blood_pressure" for coding in (BP_PANEL, *BP_COMPONENTS.values())}


def _instant(ts_ms: int) -> str:
    stamp = datetime.fromtimestamp(ts_ms / 1000, UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _code(codings: Iterable[Coding]) -> dict[str, Any]:
    listed = [{"system": LOINC, "code": c.code, "display": c.display} for c in codings]
    return {"coding": listed, "text": listed[0]["display"]}


def _quantity(value: float, mapping_unit: str, ucum: str) -> dict[str, Any]:
    return {"value": value, "unit": mapping_unit, "system": UCUM, "code": ucum}


def _observation(
    person: str, ts: int, key: str, category: str, code: dict[str, Any]
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": str(uuid.uuid5(_NAMESPACE, f"{person}/{key}/{ts}")),
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": category}], "text": category}],
        "code": code,
        "subject": {
            "reference": f"Patient/{person}",
            "identifier": {"system": SUBJECT_SYSTEM, "value": person},
        },
        "effectiveDateTime": _instant(ts),
    }


def observations(person: str, readings: Iterable[VitalReading]) -> list[dict[str, Any]]:
    """FHIR R4 Observation resources for *readings* of *person*, in time order.

    Readings of the blood-pressure quantities with the same time become one panel; every
    other mapped quantity becomes an Observation of its own. Unmapped quantities are left out.
    """
    panels: dict[int, dict[str, float]] = {}
    single: list[tuple[int, str, dict[str, Any]]] = []
    for reading in readings:
        if reading.quantity in BP_COMPONENTS:
            panels.setdefault(reading.ts, {})[reading.quantity] = reading.value
            continue
        mapping = MAPPINGS.get(reading.quantity)
        if mapping is None:
            continue
        resource = _observation(
            person, reading.ts, reading.quantity, mapping.category, _code(mapping.codings)
        )
        resource["valueQuantity"] = _quantity(reading.value, mapping.unit, mapping.ucum)
        single.append((reading.ts, reading.quantity, resource))
    for ts, values in panels.items():
        resource = _observation(person, ts, "blood_pressure", "vital-signs", _code([BP_PANEL]))
        resource["component"] = [
            {
                "code": _code([coding]),
                "valueQuantity": _quantity(values[quantity], "mmHg", "mm[Hg]"),
            }
            for quantity, coding in BP_COMPONENTS.items()
            if quantity in values
        ]
        single.append((ts, "blood_pressure", resource))
    single.sort(key=lambda item: (item[0], item[1]))
    return [resource for _, _, resource in single]


def search_bundle(resources: list[dict[str, Any]], now: int) -> dict[str, Any]:
    """A FHIR R4 ``searchset`` Bundle of *resources* (Observations), stamped at *now*."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": _instant(now),
        "total": len(resources),
        "entry": [
            {
                "fullUrl": f"urn:uuid:{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ],
    }
