"""Gateway config: the shipped examples load; every mistake names the file and the YAML path."""

from pathlib import Path

import pytest

from edge.config import (
    BleDevice,
    GnssDevice,
    ModbusRtuDevice,
    ModbusTcpDevice,
    VitalsConfig,
    load_gateway_config,
    parse_gateway_config,
)
from edge.devices import check_profiles
from messages import ConfigError

EXAMPLES = sorted((Path(__file__).parents[2] / "firmware_configs" / "gateways").glob("*.yaml"))

BASE = """\
site: factory-a
gateway: gw-1
broker:
  url: mqtt://127.0.0.1:1883
outbox:
  path: /tmp/outbox.sqlite
devices:
  - kind: modbus_tcp
    id: meter-1
    profile: sdm630
    host: 192.0.2.1
"""


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_shipped_examples_load(path: Path) -> None:
    config = load_gateway_config(path)
    assert config.devices
    check_profiles(config)  # every profile named exists
    for device in config.devices:
        if isinstance(device, BleDevice):
            assert device.ble_type  # a device type, given or taken from the profile
            assert config.vitals is not None


def test_defaults_and_kinds() -> None:
    config = parse_gateway_config(
        BASE
        + """\
  - {kind: modbus_tcp, id: gw-rtu, profile: sdm120, host: h, framer: rtu, unit: 3}
  - {kind: modbus_rtu, id: sub-1, profile: sdm120, serial: /dev/ttyUSB0, baud: 19200, parity: E}
  - {kind: ble, id: bp-1, profile: blood_pressure, address: "AA:BB:CC:DD:EE:FF"}
  - {kind: gnss, id: shuttle-1, profile: nmea, serial: /dev/ttyACM0}
vitals: {pseudonym_key_env: HINODE_SITE_KEY}
"""
    )
    meter, rtu_over_tcp, serial = config.devices[:3]
    assert isinstance(meter, ModbusTcpDevice)
    assert (meter.port, meter.unit, meter.framer, meter.poll_interval_s) == (502, 1, "socket", 1.0)
    assert isinstance(rtu_over_tcp, ModbusTcpDevice)
    assert rtu_over_tcp.framer == "rtu"
    assert isinstance(serial, ModbusRtuDevice)
    assert (serial.baud, serial.parity) == (19200, "E")
    assert config.broker.port == 1883
    assert config.broker.protocol == "auto"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "  - {kind: zigbee, id: x, profile: p}\n",
            "gw.yaml: devices[1].kind: unknown kind 'zigbee'",
        ),
        ("  - {id: x, profile: p, host: h}\n", "gw.yaml: devices[1].kind: missing"),
        ("  - {kind: modbus_tcp, id: x, profile: p}\n", "gw.yaml: devices[1].host: missing"),
        (
            "  - {kind: modbus_tcp, id: x, profile: p, host: h, port: many}\n",
            "gw.yaml: devices[1].port: Input should be a valid integer",
        ),
        (
            "  - {kind: modbus_tcp, id: x, profile: p, host: h, colour: red}\n",
            "gw.yaml: devices[1].colour: unknown field",
        ),
        (
            "  - {kind: modbus_rtu, id: x, profile: p, serial: /dev/x, parity: Q}\n",
            "gw.yaml: devices[1].parity:",
        ),
        ("  - {kind: modbus_tcp, id: Meter_1, profile: p, host: h}\n", "gw.yaml: devices[1].id:"),
        ("  - {kind: modbus_tcp, id: meter-1, profile: p, host: h}\n", "appears twice"),
        ("  - [unclosed\n", "gw.yaml: line 13 column 1: bad YAML"),
    ],
)
def test_errors_name_file_and_path(extra: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_gateway_config(BASE + extra, source="gw.yaml")
    assert str(caught.value).startswith(expected) or expected in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("mqtt://127.0.0.1:1883", "http://broker", "broker.url: broker url must start with mqtt"),
        ("site: factory-a", "site: Factory A", "site:"),
        ("path: /tmp/outbox.sqlite", "path: [1, 2]", "outbox.path:"),
        ("  url: mqtt://127.0.0.1:1883", "  url: mqtt://h\n  password: x", "needs a username"),
    ],
)
def test_top_level_errors(old: str, new: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=r"^gw\.yaml: ") as caught:
        parse_gateway_config(BASE.replace(old, new), source="gw.yaml")
    assert expected in str(caught.value)


def test_missing_file_and_non_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read"):
        load_gateway_config(tmp_path / "nope.yaml")
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match=r"list\.yaml: expected a mapping"):
        load_gateway_config(listing)


def test_models_are_frozen() -> None:
    config = parse_gateway_config(BASE)
    with pytest.raises(ValueError, match="frozen"):
        config.site = "other"  # type: ignore[misc]


BLE_DEVICE = '  - {kind: ble, id: bp-1, profile: blood_pressure, address: "AA:BB:CC:DD:EE:FF"}\n'


def test_ble_device_type_is_given_or_taken_from_the_profile() -> None:
    config = parse_gateway_config(
        BASE
        + BLE_DEVICE
        + "  - {kind: ble, id: ox-1, profile: nonin-3230, device_type: pulse_oximeter,"
        + ' address: "AA:BB:CC:DD:EE:F0"}\n'
        + "vitals: {pseudonym_key_env: HINODE_SITE_KEY}\n"
    )
    bp, ox = config.devices[1:]
    assert isinstance(bp, BleDevice)
    assert isinstance(ox, BleDevice)
    assert (bp.ble_type, ox.ble_type) == ("blood_pressure", "pulse_oximeter")
    assert config.vitals is not None
    assert config.vitals.device_timezone == "Asia/Tokyo"


def test_gnss_device_vehicle_and_publish_interval() -> None:
    config = parse_gateway_config(
        BASE + "  - {kind: gnss, id: scooter-7, profile: nmea, serial: /dev/ttyACM0,"
        " vehicle: scooter, publish_interval_s: 2}\n"
    )
    gnss = config.devices[1]
    assert isinstance(gnss, GnssDevice)
    assert (gnss.vehicle, gnss.publish_interval_s, gnss.baud) == ("scooter", 2.0, 9600)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (BLE_DEVICE, "gw.yaml: vitals: missing: BLE devices need a pseudonym key"),
        (
            BLE_DEVICE.replace("blood_pressure", "omron"),
            "gw.yaml: devices[1]: device_type missing and profile 'omron' names no device type",
        ),
        (
            BLE_DEVICE.replace("}", ", device_type: ecg}"),
            "gw.yaml: devices[1].device_type: Input should be",
        ),
        (BLE_DEVICE + "vitals: {}\n", "vitals: give exactly one of pseudonym_key_file and"),
        (
            BLE_DEVICE + "vitals: {pseudonym_key_env: K, device_timezone: Mars/Olympus}\n",
            "gw.yaml: vitals.device_timezone: unknown time zone 'Mars/Olympus'",
        ),
        (
            "  - {kind: gnss, id: x, profile: nmea, serial: /dev/x, vehicle: tram}\n",
            "gw.yaml: devices[1].vehicle:",
        ),
    ],
)
def test_ble_and_gnss_errors_name_file_and_path(extra: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_gateway_config(BASE + extra, source="gw.yaml")
    assert expected in str(caught.value)


def vitals_from(tmp_path: Path, key_text: str, mode: int = 0o600) -> VitalsConfig:
    path = tmp_path / "site.key"
    path.write_text(key_text)
    path.chmod(mode)
    return VitalsConfig(pseudonym_key_file=path)


def test_the_pseudonym_key_is_read_from_a_private_file_or_the_environment(tmp_path: Path) -> None:
    key = bytes(range(32))
    assert vitals_from(tmp_path, key.hex() + "\n").read_key() == key
    from_env = VitalsConfig(pseudonym_key_env="HINODE_SITE_KEY")
    assert from_env.read_key({"HINODE_SITE_KEY": key.hex()}) == key


@pytest.mark.parametrize(
    ("key_text", "mode", "expected"),
    [
        ("00" * 32, 0o644, "mode 0644 lets others read it, expected 0600"),
        ("00" * 32, 0o640, "mode 0640"),
        ("00" * 8, 0o600, "at least 16 bytes"),
        ("not a hex key at all, no", 0o600, "expected the key as hex digits"),
    ],
)
def test_an_unusable_key_file_is_a_config_error_without_the_key(
    tmp_path: Path, key_text: str, mode: int, expected: str
) -> None:
    with pytest.raises(ConfigError, match=r"vitals\.pseudonym_key_file") as caught:
        vitals_from(tmp_path, key_text, mode).read_key()
    assert expected in str(caught.value)
    assert key_text not in str(caught.value)


def test_a_missing_key_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        VitalsConfig(pseudonym_key_file=tmp_path / "absent.key").read_key()
    with pytest.raises(ConfigError, match="HINODE_SITE_KEY: the variable is not set"):
        VitalsConfig(pseudonym_key_env="HINODE_SITE_KEY").read_key({})
