"""One vehicle's GNSS on the gateway: receiver → batches of fixes → a send callback.

The glue an agent runs per vehicle: it owns no connection (the port and the send callback are
injected), so the same loop serves a serial receiver in the field and a pty in tests.
"""

from collections.abc import Awaitable, Callable

from edge.gnss._port import NmeaLinePort
from edge.gnss._positions import PositionBatcher
from edge.gnss._receiver import GnssReceiver
from messages import Clock, Fix, VehicleState, now_ms

SendPositions = Callable[[list[Fix], VehicleState | None], Awaitable[None]]
ReadVehicleState = Callable[[], VehicleState | None]


class VehicleTracker:
    """Reads a vehicle's receiver until cancelled, sending a batch whenever one is due."""

    def __init__(
        self,
        vehicle: str,
        port: NmeaLinePort,
        *,
        clock: Clock,
        vehicle_state: ReadVehicleState | None = None,
        interval_ms: int = 5_000,
    ) -> None:
        self.vehicle = vehicle
        self.receiver = GnssReceiver(port)
        self.batcher = PositionBatcher(vehicle, interval_ms=interval_ms)
        self._clock = clock
        self._vehicle_state = vehicle_state or (lambda: None)

    async def run(self, send: SendPositions) -> None:
        while True:
            readings = await self.receiver.poll()
            instant = now_ms(self._clock)
            for reading in readings:
                self.batcher.add(reading, instant)
            # Checked on silence too, so the last fixes before a stop still go out.
            if self.batcher.due(instant):
                await send(self.batcher.take(), self._vehicle_state())
