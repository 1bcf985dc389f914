"""A GNSS receiver on a pseudo-terminal: the gateway opens the slave side as its serial port."""

import asyncio
import os
import random
import tty
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Self

from simulators.vehicles._nmea import encode_epoch
from simulators.vehicles._vehicles import SimulatedVehicle


class NmeaPty:
    """A pty pair; NMEA is written to the master, ``port_name`` is the slave device path."""

    def __init__(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port_name = os.ttyname(self._slave)

    def write(self, lines: list[str]) -> None:
        os.write(self._master, "".join(lines).encode("ascii"))

    def write_raw(self, data: bytes) -> None:
        """Noise, partial sentences, anything a real line can carry."""
        os.write(self._master, data)

    def close(self) -> None:
        for fd in (self._master, self._slave):
            os.close(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


async def drive_receiver(
    vehicle: SimulatedVehicle,
    pty: NmeaPty,
    *,
    now: Callable[[], datetime],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    period_s: float = 1.0,
    epochs: int | None = None,
    seed: int = 0,
) -> None:
    """Move the vehicle and write one epoch of NMEA every *period_s* (1 Hz by default)."""
    rng = random.Random(seed)
    written = 0
    while epochs is None or written < epochs:
        pty.write(encode_epoch(vehicle.receiver_epoch(now(), rng)))
        written += 1
        await sleep(period_s)
        vehicle.step(period_s)
