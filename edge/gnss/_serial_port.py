"""The pyserial adapter for GNSS receivers; the only module that imports serial."""

import asyncio
from typing import Self

import serial

from messages import TransportError

#: NMEA lines are short: a receiver that sends nothing for this long has gone quiet.
DEFAULT_READ_TIMEOUT_S = 2.0
_MAX_LINE_BYTES = 256


class SerialNmeaPort:
    """Reads NMEA lines from a serial device (a tty, a pty, or a pyserial URL such as ``rfc2217://``).

    pyserial blocks, so each read runs in a worker thread bounded by the port's own read timeout
    and, around that, by ``asyncio.timeout``.
    """

    def __init__(
        self, url: str, *, baudrate: int = 9600, read_timeout_s: float = DEFAULT_READ_TIMEOUT_S
    ) -> None:
        self.url = url
        self.baudrate = baudrate
        self.read_timeout_s = read_timeout_s
        self._serial: serial.Serial | None = None

    async def connect(self) -> None:
        try:
            async with asyncio.timeout(self.read_timeout_s + 5):
                self._serial = await asyncio.to_thread(
                    serial.serial_for_url,
                    self.url,
                    baudrate=self.baudrate,
                    timeout=self.read_timeout_s,
                )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TransportError(f"{self.url}: cannot open: {exc}") from exc
        except TimeoutError as exc:
            raise TransportError(f"{self.url}: opening timed out") from exc

    async def read_line(self) -> bytes | None:
        port = self._serial
        if port is None:
            raise TransportError(f"{self.url}: not open")
        try:
            async with asyncio.timeout(self.read_timeout_s + 1):
                line: bytes = await asyncio.to_thread(port.readline, _MAX_LINE_BYTES)
        except (serial.SerialException, OSError) as exc:
            raise TransportError(f"{self.url}: read failed: {exc}") from exc
        except TimeoutError:
            return None
        return line or None

    async def close(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            await asyncio.to_thread(port.close)

    async def __aenter__(self) -> Self:
        if self._serial is None:
            await self.connect()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()
