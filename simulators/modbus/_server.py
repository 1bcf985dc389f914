"""Serve simulated devices as Modbus units over TCP, RTU over TCP or RTU on a serial line.

pymodbus 3.16 owns the sockets, framing and PDUs. Its datastore is replaced by a router that
hands every request to the addressed device, freshly advanced to ``now``, so registers are
computed on demand (no per-register storage, which keeps 100 units on one port cheap) and so a
unit can be silenced or made to misbehave.
"""

import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Self

from pymodbus import FramerType
from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusBaseServer, ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice
from pymodbus.simulator.simcore import SimCore

from simulators.modbus._device import SimulatedDevice
from simulators.modbus._registers import Table

TRANSPORTS = ("tcp", "rtu_over_tcp", "serial")
FAULTS = ("exception", "garbage")
_MBAP_LENGTH = 7  # Modbus TCP header: transaction, protocol, length, unit
MAX_RTU_UNIT, MAX_TCP_UNIT = 247, 255
REFRESH_S = 0.1  # a unit's registers are at most this old, in real seconds...
REFRESH_SIM_S = 1.0  # ...or in simulated seconds, so a test that moves its clock sees it

_READ_TABLES = {3: Table.HOLDING, 4: Table.INPUT, 22: Table.HOLDING, 23: Table.HOLDING}
_WRITE_CODES = frozenset({6, 16, 22, 23})
_WRITE_SINGLE = 6


class _UnitRouter(SimCore):
    """pymodbus' datastore interface, answered by the addressed simulated device."""

    def __init__(self, owner: "ModbusSimServer") -> None:  # no SimCore storage on purpose
        self._owner = owner
        self._echo: dict[int, list[int]] = {}
        self._rendered_at: dict[int, float] = {}  # unit → monotonic time of its last refresh

    def device_ids(self) -> list[int]:
        return sorted(self._owner.devices)

    def _device(self, device_id: int, *, force: bool = False) -> SimulatedDevice:
        """The unit's device brought up to date, or no answer at all (absent or silenced)."""
        owner = self._owner
        device = owner.devices.get(device_id)
        if device is None or device_id in owner.silent_units:
            raise NoSuchIdException(f"unit {device_id} does not answer")
        now = owner.now()
        device.received(now)  # first: a watchdog fed by this very request must not expire
        # Refresh when REFRESH_S of real or REFRESH_SIM_S of simulated time has passed: the
        # reads of one poll cycle see one instant, and a peer polling one value per request
        # does not recompute the whole device each time.
        real = time.monotonic()
        last = self._rendered_at.get(device_id)
        if (
            force
            or last is None
            or real - last >= REFRESH_S
            or abs(now - device.time) >= REFRESH_SIM_S
        ):
            device.update(now)
            self._rendered_at[device_id] = real
        return device

    async def async_getValues(  # noqa: N802 (pymodbus names it so)
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> list[int] | list[bool] | ExcCodes:
        device = self._device(device_id)
        if self._owner.faults.get(device_id) == "exception":
            return ExcCodes.DEVICE_FAILURE
        if func_code == _WRITE_SINGLE:  # the response to a single write echoes what was written
            return self._echo.pop(device_id, [0])
        table = _READ_TABLES.get(func_code)
        if table is None:
            return ExcCodes.ILLEGAL_FUNCTION
        result = device.read(table, address, count)
        return list(result) if isinstance(result, list) else ExcCodes(int(result))

    async def async_setValues(  # noqa: N802 (pymodbus names it so)
        self, device_id: int, func_code: int, address: int, values: list[int] | list[bool]
    ) -> ExcCodes | None:
        device = self._device(device_id, force=True)  # a write happens at the present instant
        if self._owner.faults.get(device_id) == "exception":
            return ExcCodes.DEVICE_FAILURE
        if func_code not in _WRITE_CODES:
            return ExcCodes.ILLEGAL_FUNCTION
        words = [int(value) for value in values]
        result = device.write(address, words)
        if result is not None:
            return ExcCodes(int(result))
        device.update(device.time)  # show the write's effect to the next read at once
        if func_code == _WRITE_SINGLE:
            self._echo[device_id] = words
        return None


def _garble(frame: bytes, *, rtu: bool) -> bytes:
    """A frame of the same length that no reader can accept: payload scrambled, CRC broken."""
    if rtu:
        body = frame[:2] + bytes(0xA5 ^ byte for byte in frame[2:-2])
        return body + bytes([frame[-2] ^ 0xFF, frame[-1] ^ 0x5A])
    header = frame[:_MBAP_LENGTH]
    return header + b"\x00" + bytes(0xA5 ^ byte for byte in frame[_MBAP_LENGTH + 1 :])


class ModbusSimServer:
    """Many simulated units on one endpoint; an async context manager.

    ``transport`` is "tcp" (Modbus TCP), "rtu_over_tcp" (RTU frames on a TCP socket) or
    "serial" (RTU on ``serial_port``, e.g. one end of a pty pair). Port 0 picks a free port;
    :attr:`port` holds the bound one after entering.
    """

    def __init__(
        self,
        devices: Mapping[int, SimulatedDevice],
        *,
        now: Callable[[], float],
        transport: str = "tcp",
        host: str = "127.0.0.1",
        port: int = 0,
        serial_port: str | None = None,
        baudrate: int = 9600,
    ) -> None:
        if transport not in TRANSPORTS:
            msg = f"unknown transport {transport!r}; expected one of {', '.join(TRANSPORTS)}"
            raise ValueError(msg)
        if transport == "serial" and not serial_port:
            msg = "transport 'serial' needs serial_port"
            raise ValueError(msg)
        # RTU addresses stop at 247; Modbus TCP devices may use up to 255 (KEBA insists on 255).
        highest = MAX_TCP_UNIT if transport == "tcp" else MAX_RTU_UNIT
        bad_units = [unit for unit in devices if not 1 <= unit <= highest]
        if bad_units:
            msg = f"unit ids over {transport} must be 1–{highest}, got {bad_units}"
            raise ValueError(msg)
        self.devices: Mapping[int, SimulatedDevice] = dict(devices)
        self.now = now
        self.transport = transport
        self.host = host
        self.port = port
        self.serial_port = serial_port
        self.baudrate = baudrate
        self.silent_units: set[int] = set()
        self.faults: dict[int, str] = {}
        self._server: ModbusBaseServer | None = None

    def silence(self, unit: int, silent: bool = True) -> None:
        """Make *unit* never answer (its requests time out), or answer again."""
        if silent:
            self.silent_units.add(unit)
        else:
            self.silent_units.discard(unit)

    def inject(self, unit: int, fault: str | None) -> None:
        """Make *unit* answer with an exception response ("exception") or a corrupt frame
        ("garbage"); None heals it."""
        if fault is None:
            self.faults.pop(unit, None)
            return
        if fault not in FAULTS:
            msg = f"unknown fault {fault!r}; expected one of {', '.join(FAULTS)} or None"
            raise ValueError(msg)
        self.faults[unit] = fault

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        """Corrupt outgoing frames of units with the "garbage" fault."""
        if not sending or not self.faults or not data:
            return data
        rtu = self.transport != "tcp"
        unit_index = 0 if rtu else _MBAP_LENGTH - 1
        if len(data) <= unit_index + 1 or self.faults.get(data[unit_index]) != "garbage":
            return data
        return _garble(data, rtu=rtu)

    def _build(self) -> ModbusBaseServer:
        # pymodbus requires a datastore at construction; the router replaces it right after.
        placeholder = SimDevice(0, simdata=SimData(0, datatype=DataType.REGISTERS))
        server: ModbusBaseServer
        if self.transport == "serial":
            server = ModbusSerialServer(
                placeholder,
                framer=FramerType.RTU,
                port=self.serial_port or "",
                baudrate=self.baudrate,
                ignore_missing_devices=True,
                trace_packet=self._trace_packet,
            )
        else:
            framer = FramerType.SOCKET if self.transport == "tcp" else FramerType.RTU
            server = ModbusTcpServer(
                placeholder,
                framer=framer,
                address=(self.host, self.port),
                ignore_missing_devices=True,
                trace_packet=self._trace_packet,
            )
        server.context = _UnitRouter(self)
        return server

    async def __aenter__(self) -> Self:
        server = self._build()
        await server.serve_forever(background=True)
        self._server = server
        if self.transport != "serial":
            listener = server.transport
            sockets = getattr(listener, "sockets", None) or ()
            for sock in sockets:
                self.port = int(sock.getsockname()[1])
                break
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()  # type: ignore[no-untyped-call]  # pymodbus lacks hints here
