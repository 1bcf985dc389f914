"""Profiles: every shipped one loads; a bad one is refused with file, YAML path and reason."""

from pathlib import Path

import pytest

from edge.modbus import (
    ModbusBus,
    SetpointRejectedError,
    TcpLink,
    available_profiles,
    load_profile,
    parse_profile,
)
from edge.modbus._sunspec import ModelInstance, registers_for
from messages import QUANTITIES, ConfigError

SHIPPED = ["abb_terra_ac", "em24", "keba_p30", "phoenix_charx", "sdm120", "sdm630", "sunspec"]

MINIMAL = """
model: test_meter
manufacturer: Test
source: unit test
poll_groups: {fast: {interval_s: 1}}
registers:
  - {name: power, address: 12, data_type: f32, quantity: active_power_w, group: fast}
  - {name: voltage, address: 0, data_type: f32, quantity: voltage_v, group: fast}
"""


def test_every_expected_profile_is_shipped() -> None:
    assert set(SHIPPED) <= set(available_profiles())


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_profile_loads_with_canonical_quantities(name: str) -> None:
    profile = load_profile(name)
    assert profile.model == name
    assert profile.source
    for register in profile.registers:
        assert register.quantity is None or register.quantity in QUANTITIES


@pytest.mark.parametrize("name", ["abb_terra_ac", "keba_p30", "phoenix_charx"])
def test_chargers_accept_zero_or_six_to_thirty_two_amperes(name: str) -> None:
    point = load_profile(name).point("charge_current_limit_a")
    assert point.accepts(0)
    assert point.accepts(6)
    assert point.accepts(16)
    assert point.accepts(32)
    assert not point.accepts(3)
    assert not point.accepts(33)
    assert point.describe_allowed() == "0 or 6–32"
    assert point.fail_safe_value is not None


def test_a_profile_loads_by_path(tmp_path: Path) -> None:
    path = tmp_path / "test_meter.yaml"
    path.write_text(MINIMAL)
    assert load_profile(path).model == "test_meter"


def _error_for(tmp_path: Path, text: str) -> str:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    return str(caught.value)


def test_a_bad_data_type_names_file_path_and_expectation(tmp_path: Path) -> None:
    message = _error_for(
        tmp_path, MINIMAL.replace("address: 0, data_type: f32", "address: 0, data_type: f24")
    )
    assert "broken.yaml" in message
    assert "registers[1].data_type" in message
    assert "'u16'" in message  # what was expected


def test_an_unknown_quantity_is_refused(tmp_path: Path) -> None:
    message = _error_for(tmp_path, MINIMAL.replace("quantity: voltage_v", "quantity: volts"))
    assert "registers[1].quantity" in message
    assert "canonical" in message


def test_an_unknown_key_is_refused(tmp_path: Path) -> None:
    message = _error_for(
        tmp_path,
        MINIMAL.replace(
            "data_type: f32, quantity: voltage_v", "data_type: f32, quantty: voltage_v"
        ),
    )
    assert "registers[1].quantty" in message
    assert "Extra inputs are not permitted" in message


def test_a_register_in_a_forbidden_range_is_refused(tmp_path: Path) -> None:
    text = MINIMAL + "forbidden: [{start: 10, end: 20}]\n"
    assert "forbidden" in _error_for(tmp_path, text)


def test_a_missing_poll_group_is_refused(tmp_path: Path) -> None:
    message = _error_for(
        tmp_path,
        MINIMAL.replace("group: fast}\n  - {name: voltage", "group: slow}\n  - {name: voltage"),
    )
    assert "unknown poll group 'slow'" in message


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    message = _error_for(tmp_path, "model: [unclosed\n")
    assert "broken.yaml" in message
    assert "line" in message


def test_an_unknown_profile_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match="sdm630"):
        load_profile("no_such_meter")


def test_a_writable_point_without_allowed_values_is_refused() -> None:
    text = MINIMAL + "writable:\n  - {name: limit, address: 100, data_type: u16, allowed: []}\n"
    with pytest.raises(ConfigError, match=r"writable\[0\]\.allowed"):
        parse_profile(text, source="inline.yaml")


def test_a_setpoint_outside_the_allowed_values_is_rejected_with_the_reason() -> None:
    bus = ModbusBus(TcpLink("192.0.2.1"))  # never opened: nothing may reach a wire
    charger = bus.device(1, load_profile("abb_terra_ac"), name="charger-1")
    with pytest.raises(SetpointRejectedError, match=r"3 A rejected.*accepts 0 or 6–32 A"):
        charger.check_setpoint("charge_current_limit_a", 3)
    with pytest.raises(ConfigError, match="no writable point 'power'"):
        charger.check_setpoint("power", 1)
    assert charger.check_setpoint("charge_current_limit_a", 16).address == 0x4100


def test_sunspec_inverter_points_land_at_their_standard_addresses() -> None:
    # common model 1 (66 registers) at 40002, so inverter 103 starts at 40070
    registers = {r.name: r for r in registers_for(ModelInstance(103, 40070, 50))}
    power = registers["m103_40070_w"]
    assert (power.address, power.scale_factor_register) == (40084, 40085)
    assert power.quantity == "active_power_w"
    assert power.scale == -1.0  # produced power, canonical sign
    energy = registers["m103_40070_wh"]
    assert (energy.address, energy.data_type, energy.quantity) == (40094, "u32", "energy_export_wh")
    pf = registers["m103_40070_pf"]
    assert pf.scale == pytest.approx(0.01)  # percent to ratio


def test_sunspec_meter_and_float_models_map_to_canonical_quantities() -> None:
    meter = registers_for(ModelInstance(203, 40070, 105))
    quantities = {(r.quantity, r.phase) for r in meter}
    assert ("energy_import_wh", None) in quantities
    assert ("active_power_w", "l3") in quantities
    assert ("voltage_ll_v", "l1") in quantities
    floats = registers_for(ModelInstance(113, 40070, 60))
    assert all(r.scale_factor_register is None for r in floats)
    assert {r.data_type for r in floats if r.quantity != "operating_state"} == {"f32"}
