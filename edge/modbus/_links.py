"""How a bus is reached: Modbus TCP, RTU on an RS-485 serial line, or RTU framed over TCP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Parity = Literal["N", "E", "O"]


@dataclass(frozen=True, slots=True)
class TcpLink:
    """Modbus TCP (MBAP framing) to a device or a TCP gateway."""

    host: str
    port: int = 502

    def describe(self) -> str:
        return f"tcp://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class SerialLink:
    """Modbus RTU on a serial line (RS-485 adapter, or a pty in tests)."""

    device: str
    baudrate: int = 9600
    parity: Parity = "N"
    stopbits: int = 1
    bytesize: int = 8

    def describe(self) -> str:
        return f"serial://{self.device}?{self.baudrate}{self.parity}{self.stopbits}"

    def inter_frame_gap_s(self) -> float:
        """Modbus RTU's silent interval between frames: 3.5 character times.

        A character is start + data + parity + stop bits; above 19200 baud the specification
        fixes the gap at 1.75 ms.
        """
        if self.baudrate > 19200:
            return 0.00175
        bits = 1 + self.bytesize + (0 if self.parity == "N" else 1) + self.stopbits
        return 3.5 * bits / self.baudrate


@dataclass(frozen=True, slots=True)
class RtuOverTcpLink:
    """RTU frames (with CRC, no MBAP header) carried over a TCP socket, as serial servers do."""

    host: str
    port: int = 502

    def describe(self) -> str:
        return f"rtu+tcp://{self.host}:{self.port}"


Link = TcpLink | SerialLink | RtuOverTcpLink
