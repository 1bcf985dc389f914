"""The GNSS receivers of a gateway config: one vehicle tracker each, batches of fixes to a sink.

Each ``kind: gnss`` device is one vehicle (its id is the vehicle id on the wire); its tracker
opens the serial port, reconnects with backoff, and reports online/offline once per change.
Epochs without a valid fix never reach the sink.
"""

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from edge.config import GatewayConfig, GnssDevice
from edge.devices._port import DeviceStatus, StatusSink
from edge.gnss import SerialNmeaPort, StatusChange, VehicleTracker
from messages import Clock, DeviceInfo, Fix, VehicleState, now_ms

#: The vehicle's own interface (battery, doors…): given the device, how to read its state.
VehicleStateSource = Callable[[GnssDevice], Callable[[], VehicleState | None]]
#: (vehicle, fixes oldest first, vehicle state or None): stores one position batch.
PositionSink = Callable[[str, list[Fix], VehicleState | None], Awaitable[None]]


class GnssDevices:
    """The trackers of a config's GNSS devices."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        clock: Clock,
        on_status: StatusSink,
        vehicle_state: VehicleStateSource | None = None,
    ) -> None:
        self.devices = [d for d in config.devices if isinstance(d, GnssDevice)]
        self._clock = clock
        self._on_status = on_status
        self.trackers = {
            device.id: VehicleTracker(
                device.id,
                SerialNmeaPort(device.serial, baudrate=device.baud),
                clock=clock,
                on_status=self._status_of(device.id),
                vehicle_state=None if vehicle_state is None else vehicle_state(device),
                interval_ms=round(device.publish_interval_s * 1000),
            )
            for device in self.devices
        }

    def device_infos(self) -> list[DeviceInfo]:
        """The devices as the gateway's birth message lists them."""
        return [DeviceInfo(id=d.id, kind=d.kind, model=d.profile) for d in self.devices]

    def _status_of(self, device_id: str) -> StatusChange:
        def status(online: bool, reason: str) -> None:
            self._on_status(DeviceStatus(device_id, online, reason, now_ms(self._clock)))

        return status

    def runs(self, sink: PositionSink) -> dict[str, Coroutine[Any, Any, None]]:
        """One coroutine per vehicle that reads its receiver until cancelled."""

        def send_for(vehicle: str) -> Callable[[list[Fix], VehicleState | None], Awaitable[None]]:
            async def send(fixes: list[Fix], state: VehicleState | None) -> None:
                await sink(vehicle, fixes, state)

            return send

        return {
            vehicle: tracker.run(send_for(vehicle)) for vehicle, tracker in self.trackers.items()
        }
