"""Gateway config: the shipped examples load; every mistake names the file and the YAML path."""

from pathlib import Path

import pytest

from edge.config import ModbusRtuDevice, ModbusTcpDevice, load_gateway_config, parse_gateway_config
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


def test_defaults_and_kinds() -> None:
    config = parse_gateway_config(
        BASE
        + """\
  - {kind: modbus_tcp, id: gw-rtu, profile: sdm120, host: h, framer: rtu, unit: 3}
  - {kind: modbus_rtu, id: sub-1, profile: sdm120, serial: /dev/ttyUSB0, baud: 19200, parity: E}
  - {kind: ble, id: bp-1, profile: blood_pressure, address: "AA:BB:CC:DD:EE:FF"}
  - {kind: gnss, id: shuttle-1, profile: nmea, serial: /dev/ttyACM0}
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
