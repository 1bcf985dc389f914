"""What the edge agent gets for its GNSS devices: one tracker each, outbox-ready messages."""

from edge.config import parse_gateway_config
from edge.gnss import SerialNmeaPort, gnss_trackers, position_message
from messages import Fix, PositionPayload, VehicleState, WallClock, decode

CONFIG = """
site: midorigaoka
gateway: gw-depot
broker:
  url: mqtt://127.0.0.1:1883
outbox:
  path: ./var/outbox-gw-depot.sqlite
devices:
  - kind: gnss
    id: shuttle-1
    profile: nmea
    serial: /dev/ttyUSB0
    baud: 38400
  - kind: gnss
    id: shuttle-2
    profile: nmea
    serial: /dev/ttyUSB1
"""
T0 = 1_795_392_000_000


def test_one_tracker_per_gnss_device_on_its_serial_port() -> None:
    config = parse_gateway_config(CONFIG)
    seen: list[tuple[str, bool]] = []
    trackers = gnss_trackers(
        config,
        WallClock(),
        on_status=lambda device: lambda online, _: seen.append((device, online)),
    )
    assert [tracker.vehicle for tracker in trackers] == ["shuttle-1", "shuttle-2"]
    ports = [tracker.port for tracker in trackers]
    assert all(isinstance(port, SerialNmeaPort) for port in ports)
    assert [(p.url, p.baudrate) for p in ports if isinstance(p, SerialNmeaPort)] == [
        ("/dev/ttyUSB0", 38400),
        ("/dev/ttyUSB1", 9600),
    ]
    trackers[1]._status(online=False, reason="gone")
    assert seen == [("shuttle-2", False)]


def test_position_message_is_a_valid_position_topic_and_payload() -> None:
    config = parse_gateway_config(CONFIG)
    fixes = [Fix(ts=T0, lat=36.5958, lon=136.6392, speed_mps=1.3, fix_quality="gps")]
    state = VehicleState(kind="shuttle", battery_pct=77, door_open=False, occupancy=3)
    build = position_message(
        config, boot_id="00c0ffee", sent_at=T0 + 5000, vehicle="shuttle-1", fixes=fixes, state=state
    )
    sealed = build(42)
    assert sealed.topic == "hinode/v1/midorigaoka/gw-depot/position/shuttle-1"
    message = decode(sealed.topic, sealed.payload)
    assert isinstance(message.payload, PositionPayload)
    assert message.payload.seq == 42
    assert message.payload.fixes == fixes
    assert message.payload.state == state
