"""The port a GNSS receiver is read through: one line at a time, never blocking for ever."""

from typing import Protocol


class NmeaLinePort(Protocol):
    """A source of NMEA lines; ``read_line`` returns None when nothing came within its timeout.

    ``connect`` and ``read_line`` raise ``TransportError`` when the device is gone.
    """

    async def connect(self) -> None: ...

    async def read_line(self) -> bytes | None: ...

    async def close(self) -> None: ...
