"""One vehicle's GNSS on the gateway: receiver → batches of fixes → a send callback.

The loop an agent runs per vehicle. It owns its port's lifecycle — opens it, reads until the
device goes away, and opens it again after a backoff — but no network: the send callback is
injected, so the same loop serves a serial receiver in the field and a pty in tests.
"""

import logging
import random
from collections.abc import Awaitable, Callable

from edge.gnss._port import NmeaLinePort
from edge.gnss._positions import PositionBatcher
from edge.gnss._receiver import GnssReceiver
from messages import Clock, Fix, TransportError, VehicleState, now_ms

logger = logging.getLogger(__name__)

SendPositions = Callable[[list[Fix], VehicleState | None], Awaitable[None]]
ReadVehicleState = Callable[[], VehicleState | None]
#: online, reason: called when the receiver goes away or comes back (not per read).
StatusChange = Callable[[bool, str], None]

RETRY_MIN_S = 1.0
RETRY_MAX_S = 60.0


class VehicleTracker:
    """Reads a vehicle's receiver until cancelled, sending a batch whenever one is due."""

    def __init__(
        self,
        vehicle: str,
        port: NmeaLinePort,
        *,
        clock: Clock,
        vehicle_state: ReadVehicleState | None = None,
        on_status: StatusChange | None = None,
        interval_ms: int = 5_000,
        rng: random.Random | None = None,
    ) -> None:
        self.vehicle = vehicle
        self.port = port
        self.receiver = GnssReceiver(port)
        self.batcher = PositionBatcher(vehicle, interval_ms=interval_ms)
        self.online: bool | None = None
        self._clock = clock
        self._vehicle_state = vehicle_state or (lambda: None)
        self._on_status = on_status or (lambda online, reason: None)
        self._rng = rng or random.Random()

    async def run(self, send: SendPositions) -> None:
        """Open, read, and after a failure open again with backoff and jitter."""
        delay = RETRY_MIN_S
        while True:
            try:
                await self.port.connect()
                self._status(online=True, reason="receiver answers")
                delay = RETRY_MIN_S
                await self._read(send)
            except TransportError as exc:
                self._status(online=False, reason=str(exc))
            finally:
                await self.port.close()
            await self._clock.sleep(delay * self._rng.uniform(0.5, 1.0))
            delay = min(delay * 2, RETRY_MAX_S)

    async def _read(self, send: SendPositions) -> None:
        while True:
            readings = await self.receiver.poll()
            instant = now_ms(self._clock)
            for reading in readings:
                self.batcher.add(reading, instant)
            # Checked on silence too, so the last fixes before a stop still go out.
            if self.batcher.due(instant):
                await send(self.batcher.take(), self._vehicle_state())

    def _status(self, *, online: bool, reason: str) -> None:
        if self.online is online:
            return  # a state change is logged once, not once per retry
        self.online = online
        if online:
            logger.info("gnss %s: receiver answers", self.vehicle)
        else:
            logger.warning("gnss %s: receiver lost: %s", self.vehicle, reason)
        self._on_status(online, reason)
