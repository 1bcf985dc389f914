"""What an edge agent needs to run its configured GNSS receivers: trackers and message builders."""

from collections.abc import Callable

from edge.config import GatewayConfig, GnssDevice
from edge.gnss._positions import position_payload
from edge.gnss._serial_port import SerialNmeaPort
from edge.gnss._tracker import ReadVehicleState, StatusChange, VehicleTracker
from edge.outbox import Sealed
from messages import Clock, Fix, VehicleState, encode
from messages import topics as t


def gnss_trackers(
    config: GatewayConfig,
    clock: Clock,
    on_status: Callable[[str], StatusChange] | None = None,
    vehicle_state: Callable[[str], ReadVehicleState] | None = None,
) -> list[VehicleTracker]:
    """One tracker per ``kind: gnss`` device; the device id is the vehicle id.

    *on_status(device_id)* gives each tracker its status callback (device online/offline);
    *vehicle_state(device_id)* how to read that vehicle's own interface (battery, doors…).
    """
    return [
        VehicleTracker(
            device.id,
            SerialNmeaPort(device.serial, baudrate=device.baud),
            clock=clock,
            on_status=None if on_status is None else on_status(device.id),
            vehicle_state=None if vehicle_state is None else vehicle_state(device.id),
        )
        for device in config.devices
        if isinstance(device, GnssDevice)
    ]


def position_message(
    config: GatewayConfig,
    *,
    boot_id: str,
    sent_at: int,
    vehicle: str,
    fixes: list[Fix],
    state: VehicleState | None,
) -> Callable[[int], Sealed]:
    """The outbox builder of one ``position/{vehicle}`` batch (``outbox.append(builder, ts)``)."""
    topic = t.position_topic(config.site, config.gateway, vehicle)

    def build(seq: int) -> Sealed:
        payload = position_payload(
            gateway=config.gateway,
            boot_id=boot_id,
            seq=seq,
            sent_at=sent_at,
            vehicle=vehicle,
            fixes=fixes,
            state=state,
        )
        return Sealed(topic, encode(payload))

    return build
