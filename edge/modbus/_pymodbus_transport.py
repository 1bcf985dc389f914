"""The pymodbus adapter: the only module that talks to pymodbus' clients.

pymodbus and serial exceptions are mapped here into messages.TransportError / DeviceError.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.framer import FramerType
from pymodbus.pdu import ExceptionResponse, ModbusPDU

from edge.modbus._links import Link, RtuOverTcpLink, SerialLink, TcpLink
from edge.modbus._planner import Table
from messages import DeviceError, TransportError

_EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}

#: Errors a serial port or socket may raise below pymodbus.
_OS_ERRORS = (OSError, EOFError)


class PymodbusTransport:
    """A ModbusTransport over one pymodbus asyncio client."""

    def __init__(self, link: Link, *, timeout_s: float) -> None:
        self.link = link
        self.timeout_s = timeout_s
        self._client = _make_client(link, timeout_s)

    async def connect(self) -> None:
        if self._client.connected:
            return
        try:
            async with asyncio.timeout(self.timeout_s + 1.0):
                connected = await self._client.connect()
        except TimeoutError:
            connected = False
        except (ModbusException, *_OS_ERRORS) as exc:
            msg = f"cannot open {self.link.describe()}: {exc}"
            raise TransportError(msg) from None
        if not connected:
            msg = f"cannot open {self.link.describe()}"
            raise TransportError(msg)

    async def close(self) -> None:
        self._client.close()

    async def read(self, unit: int, table: Table, address: int, count: int) -> list[int]:
        call = (
            self._client.read_holding_registers
            if table == "holding"
            else self._client.read_input_registers
        )
        response = await self._exchange(lambda: call(address, count=count, device_id=unit), unit)
        registers = list(getattr(response, "registers", []))
        if len(registers) != count:
            msg = f"short response: asked for {count} registers, got {len(registers)}"
            raise DeviceError(msg)
        return registers

    async def write(self, unit: int, address: int, words: Sequence[int], *, single: bool) -> None:
        if single:
            if len(words) != 1:
                msg = "a single-register write takes exactly one word"
                raise ValueError(msg)
            word = words[0]
            await self._exchange(
                lambda: self._client.write_register(address, word, device_id=unit), unit
            )
        else:
            values = list(words)
            await self._exchange(
                lambda: self._client.write_registers(address, values, device_id=unit), unit
            )

    async def _exchange(self, request: Callable[[], Awaitable[ModbusPDU]], unit: int) -> ModbusPDU:
        await self.connect()
        try:
            # pymodbus has its own response timeout; this outer one is the guarantee.
            async with asyncio.timeout(self.timeout_s + 0.5):
                response = await request()
        except TimeoutError:
            msg = f"unit {unit}: no response within {self.timeout_s:g} s"
            raise TransportError(msg) from None
        except ConnectionException as exc:
            msg = f"{self.link.describe()}: connection failed ({_first_line(exc)})"
            raise TransportError(msg) from None
        except ModbusIOException as exc:
            msg = f"unit {unit}: no valid response within {self.timeout_s:g} s"
            if "device id" in str(exc) or "transaction id" in str(exc):
                msg = f"unit {unit}: mismatched response ({_first_line(exc)})"
                raise DeviceError(msg) from None
            raise TransportError(msg) from None
        except ModbusException as exc:
            msg = f"unit {unit}: bad response ({_first_line(exc)})"
            raise DeviceError(msg) from None
        except _OS_ERRORS as exc:
            msg = f"{self.link.describe()}: {exc}"
            raise TransportError(msg) from None
        if isinstance(response, ExceptionResponse) or response.isError():
            code = int(getattr(response, "exception_code", 0))
            name = _EXCEPTION_NAMES.get(code, "unknown")
            msg = f"unit {unit}: exception response {code} ({name})"
            raise DeviceError(msg)
        return response


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _make_client(link: Link, timeout_s: float) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
    # retries=0 and reconnect_delay=0: the bus owner decides about retries (backoff per device)
    # and reconnects lazily on its next request, so the client starts no tasks of its own.
    match link:
        case TcpLink(host=host, port=port):
            return AsyncModbusTcpClient(
                host,
                port=port,
                framer=FramerType.SOCKET,
                timeout=timeout_s,
                retries=0,
                reconnect_delay=0,
            )
        case RtuOverTcpLink(host=host, port=port):
            return AsyncModbusTcpClient(
                host,
                port=port,
                framer=FramerType.RTU,
                timeout=timeout_s,
                retries=0,
                reconnect_delay=0,
            )
        case SerialLink():
            return AsyncModbusSerialClient(
                link.device,
                framer=FramerType.RTU,
                baudrate=link.baudrate,
                parity=link.parity,
                stopbits=link.stopbits,
                bytesize=link.bytesize,
                timeout=timeout_s,
                retries=0,
                reconnect_delay=0,
            )
