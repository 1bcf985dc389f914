"""Measurement kinds: the unit of consent, each a group of canonical vital-sign quantities."""

from messages.quantities import VITAL_QUANTITIES

#: kind -> the quantities it covers. A consent names kinds, never single quantities.
KIND_QUANTITIES: dict[str, frozenset[str]] = {
    "blood_pressure": frozenset({"systolic_mmhg", "diastolic_mmhg", "mean_arterial_pressure_mmhg"}),
    "heart_rate": frozenset({"heart_rate_bpm", "pulse_rate_bpm"}),
    "spo2": frozenset({"spo2_pct"}),
    "body_temperature": frozenset({"body_temp_c"}),
    "glucose": frozenset({"glucose_mg_dl"}),
    "body_weight": frozenset({"weight_kg", "bmi", "height_m"}),
    "respiratory_rate": frozenset({"respiratory_rate_bpm"}),
    "activity": frozenset({"energy_expended_kj"}),
}

DATA_KINDS: tuple[str, ...] = tuple(KIND_QUANTITIES)

KIND_OF: dict[str, str] = {
    quantity: kind for kind, quantities in KIND_QUANTITIES.items() for quantity in quantities
}

# Every vital quantity on the wire belongs to exactly one kind (a unit test checks it too).
assert set(KIND_OF) == set(VITAL_QUANTITIES)


def kind_of(quantity: str) -> str | None:
    """The measurement kind of a canonical quantity, None if it is no vital sign."""
    return KIND_OF.get(quantity)


def parse_kinds(text: str) -> frozenset[str]:
    """``blood_pressure,spo2`` or ``all`` as a set of kinds; ValueError names an unknown one."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if names == ["all"]:
        return frozenset(DATA_KINDS)
    unknown = sorted(set(names) - set(DATA_KINDS))
    if unknown or not names:
        msg = f"unknown measurement kind {unknown[0]!r}" if unknown else "no measurement kind"
        raise ValueError(f"{msg}: expected 'all' or some of {', '.join(DATA_KINDS)}")
    return frozenset(names)
