"""Canonical quantity names and their SI (or conventional clinical) units."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Quantity:
    """A canonical quantity: its wire name, unit symbol and meaning."""

    name: str
    unit: str
    description: str


_ALL = (
    # Electrical (meters, inverters, chargers)
    Quantity("active_power_w", "W", "active power, positive when importing / consuming"),
    Quantity("reactive_power_var", "var", "reactive power"),
    Quantity("apparent_power_va", "VA", "apparent power"),
    Quantity("voltage_v", "V", "line-to-neutral voltage (per phase) or DC voltage"),
    Quantity("voltage_ll_v", "V", "line-to-line voltage"),
    Quantity("current_a", "A", "current"),
    Quantity("frequency_hz", "Hz", "grid frequency"),
    Quantity("power_factor", "1", "power factor, signed"),
    Quantity("energy_import_wh", "Wh", "imported / consumed active energy register"),
    Quantity("energy_export_wh", "Wh", "exported / produced active energy register"),
    Quantity("reactive_energy_import_varh", "varh", "imported reactive energy register"),
    Quantity("reactive_energy_export_varh", "varh", "exported reactive energy register"),
    Quantity("dc_power_w", "W", "DC-side power of an inverter"),
    Quantity("dc_voltage_v", "V", "DC-side voltage of an inverter"),
    Quantity("dc_current_a", "A", "DC-side current of an inverter"),
    Quantity("temperature_c", "°C", "device temperature"),
    Quantity("soc_pct", "%", "state of charge of a battery"),
    Quantity("charge_current_limit_a", "A", "current limit offered to an EV (IEC 61851)"),
    Quantity(
        "charger_state",
        "1",
        "IEC 61851 state: 1=A idle, 2=B connected, 3=C charging, 4=D, 5=E, 6=F error",
    ),
    Quantity("session_energy_wh", "Wh", "energy delivered in the current charging session"),
    Quantity("operating_state", "1", "device operating state code (e.g. SunSpec St)"),
    # Vital signs
    Quantity("heart_rate_bpm", "1/min", "heart rate"),
    Quantity("pulse_rate_bpm", "1/min", "pulse rate"),
    Quantity("spo2_pct", "%", "peripheral oxygen saturation"),
    Quantity("systolic_mmhg", "mmHg", "systolic blood pressure"),
    Quantity("diastolic_mmhg", "mmHg", "diastolic blood pressure"),
    Quantity("mean_arterial_pressure_mmhg", "mmHg", "mean arterial pressure"),
    Quantity("body_temp_c", "°C", "body temperature"),
    Quantity("glucose_mg_dl", "mg/dL", "blood glucose concentration"),
    Quantity("weight_kg", "kg", "body weight"),
    Quantity("bmi", "kg/m2", "body mass index"),
    Quantity("height_m", "m", "body height"),
    Quantity("energy_expended_kj", "kJ", "energy expended"),
    Quantity("respiratory_rate_bpm", "1/min", "respiratory rate"),
)

QUANTITIES: dict[str, Quantity] = {quantity.name: quantity for quantity in _ALL}

VITAL_QUANTITIES = frozenset(
    {
        "heart_rate_bpm",
        "pulse_rate_bpm",
        "spo2_pct",
        "systolic_mmhg",
        "diastolic_mmhg",
        "mean_arterial_pressure_mmhg",
        "body_temp_c",
        "glucose_mg_dl",
        "weight_kg",
        "bmi",
        "height_m",
        "energy_expended_kj",
        "respiratory_rate_bpm",
    }
)


def unit_of(name: str) -> str:
    """Return the unit of a canonical quantity; raise KeyError for an unknown name."""
    return QUANTITIES[name].unit
