"""One owner per bus: a single asyncio task that serialises every request on one link.

Writes jump ahead of polls, serial lines keep the RTU inter-frame gap, every request has a
timeout, and a device that falls silent is backed off (exponentially, with jitter) so it costs
the others at most one timeout before it is skipped until its next retry.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Self

from edge.modbus._links import Link, SerialLink
from edge.modbus._planner import Table
from edge.modbus._transport import ModbusTransport
from messages import Clock, DeviceError, HinodeError, TransportError, WallClock, now_ms

if TYPE_CHECKING:
    from edge.modbus._device import ModbusDevice
    from edge.modbus._profile import Profile

log = logging.getLogger("edge.modbus")

_WRITE, _POLL = 0, 1


class DeviceUnavailableError(TransportError):
    """The device is offline and backed off: the request was not sent."""


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """A device went offline (with the reason) or came back online."""

    kind: Literal["device_offline", "device_online"]
    unit: int
    device: str
    reason: str
    ts: int


EventSink = Callable[[DeviceEvent], None]


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long a silent device is left alone: doubling from *initial_s* to *maximum_s*."""

    initial_s: float = 2.0
    maximum_s: float = 120.0
    jitter: float = 0.2

    def delay(self, failures: int, rng: random.Random) -> float:
        base = min(self.maximum_s, self.initial_s * 2 ** max(failures - 1, 0))
        return float(base * (1.0 + rng.uniform(-self.jitter, self.jitter)))


@dataclass(slots=True)
class _Health:
    device: str
    online: bool | None = None
    failures: int = 0
    retry_at: float = 0.0
    reason: str = ""


@dataclass(order=True, slots=True)
class _Request:
    priority: int
    seq: int
    unit: int = field(compare=False)
    action: Literal["read", "write"] = field(compare=False)
    table: Table = field(compare=False)
    address: int = field(compare=False)
    count: int = field(compare=False)
    words: Sequence[int] = field(compare=False)
    single: bool = field(compare=False)
    track: bool = field(compare=False)
    probe: bool = field(compare=False)
    future: asyncio.Future[list[int]] = field(compare=False)


class ModbusBus:
    """The owner of one Modbus link; use as ``async with ModbusBus(link) as bus``."""

    def __init__(
        self,
        link: Link,
        *,
        clock: Clock | None = None,
        timeout_s: float = 1.0,
        backoff: Backoff | None = None,
        on_event: EventSink | None = None,
        transport: ModbusTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if timeout_s <= 0:
            msg = f"timeout_s must be positive, got {timeout_s}"
            raise ValueError(msg)
        self.link = link
        self.clock: Clock = clock if clock is not None else WallClock()
        self.timeout_s = timeout_s
        self.backoff = backoff if backoff is not None else Backoff()
        self._on_event = on_event
        self._transport = transport
        self._rng = rng if rng is not None else random.Random()
        self._queue: asyncio.PriorityQueue[_Request] = asyncio.PriorityQueue()
        self._seq = itertools.count()
        self._health: dict[int, _Health] = {}
        self._owner: asyncio.Task[None] | None = None
        self._frame_gap_s = link.inter_frame_gap_s() if isinstance(link, SerialLink) else 0.0
        self._quiet_until = 0.0
        self.requests_sent = 0

    # --- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:
        """Start the owner task. The link is connected lazily, on the first request."""
        if self._owner is not None:
            return
        if self._transport is None:
            from edge.modbus._pymodbus_transport import PymodbusTransport  # noqa: PLC0415

            self._transport = PymodbusTransport(self.link, timeout_s=self.timeout_s)
        self._owner = asyncio.create_task(self._serve(), name=f"modbus-bus {self.link.describe()}")

    async def connect(self) -> None:
        """Open the link now rather than on the first request; TransportError if it cannot."""
        if self._transport is None:
            msg = "bus is not open: use 'async with ModbusBus(...)'"
            raise TransportError(msg)
        await self._transport.connect()

    async def close(self) -> None:
        """Stop the owner task, fail what is still queued, close the link."""
        owner, self._owner = self._owner, None
        if owner is not None:
            owner.cancel()
            try:
                await owner
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
        while not self._queue.empty():
            pending = self._queue.get_nowait()
            if not pending.future.done():
                pending.future.set_exception(TransportError("bus closed"))
        if self._transport is not None:
            await self._transport.close()

    # --- devices ----------------------------------------------------------------------------

    def device(
        self,
        unit: int,
        profile: Profile,
        *,
        name: str | None = None,
        limits: Mapping[str, float] | None = None,
    ) -> ModbusDevice:
        """A device of *profile* at *unit* on this bus.

        *name* labels its logs and events. *limits* caps writable points below the profile's
        range for this installation, e.g. ``{"charge_current_limit_a": 16}`` for a charger
        wired for 16 A.
        """
        from edge.modbus._device import ModbusDevice  # noqa: PLC0415

        self._check_unit(unit)
        label = name if name is not None else f"unit-{unit}"
        device = ModbusDevice(self, unit, profile, name=label, limits=limits)
        self._health.setdefault(unit, _Health(device=label)).device = label
        return device

    def is_online(self, unit: int) -> bool | None:
        """True/False once the unit has answered or failed; None before its first request."""
        health = self._health.get(unit)
        return None if health is None else health.online

    def offline_reason(self, unit: int) -> str:
        health = self._health.get(unit)
        return "" if health is None or health.online is not False else health.reason

    # --- requests ---------------------------------------------------------------------------

    async def read(
        self,
        unit: int,
        table: Table,
        address: int,
        count: int,
        *,
        track: bool = True,
        probe: bool = False,
    ) -> list[int]:
        """Read registers through the queue.

        *track*=False (scans) leaves the unit's health untouched. *probe*=True (discovery) means
        an exception response is an answer, not a fault: only silence marks the unit offline.
        """
        self._check_unit(unit)
        return await self._submit(
            _POLL, unit, "read", table, address, count, (), single=False, track=track, probe=probe
        )

    async def write(
        self, unit: int, address: int, words: Sequence[int], *, single: bool = False
    ) -> None:
        """Write holding registers; queued ahead of every pending poll."""
        self._check_unit(unit)
        await self._submit(
            _WRITE,
            unit,
            "write",
            "holding",
            address,
            len(words),
            words,
            single=single,
            track=True,
            probe=False,
        )

    async def _submit(
        self,
        priority: int,
        unit: int,
        action: Literal["read", "write"],
        table: Table,
        address: int,
        count: int,
        words: Sequence[int],
        *,
        single: bool,
        track: bool,
        probe: bool,
    ) -> list[int]:
        if self._owner is None or self._owner.done():
            msg = "bus is not open: use 'async with ModbusBus(...)'"
            raise TransportError(msg)
        future: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
        request = _Request(
            priority,
            next(self._seq),
            unit,
            action,
            table,
            address,
            count,
            words,
            single,
            track,
            probe,
            future,
        )
        await self._queue.put(request)
        return await future

    # --- the owner task ---------------------------------------------------------------------

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        request: _Request | None = None
        try:
            while True:
                request = await self._queue.get()
                if not request.future.done():  # else the caller gave up
                    await self._handle(request, loop)
                request = None
        finally:
            # closing while a request is on the wire: its caller must not wait forever
            if request is not None and not request.future.done():
                request.future.set_exception(TransportError("bus closed"))

    async def _handle(self, request: _Request, loop: asyncio.AbstractEventLoop) -> None:
        health = self._health.setdefault(request.unit, _Health(device=f"unit-{request.unit}"))
        if request.track and health.online is False and loop.time() < health.retry_at:
            wait = health.retry_at - loop.time()
            request.future.set_exception(
                DeviceUnavailableError(
                    f"{health.device} offline ({health.reason}); next try in {wait:.1f} s"
                )
            )
            return
        if self._frame_gap_s:
            await asyncio.sleep(max(0.0, self._quiet_until - loop.time()))
        try:
            result = await self._execute(request)
        except HinodeError as exc:
            if request.track:
                self._failed(request, health, exc)
            if not request.future.done():
                request.future.set_exception(exc)
        except Exception as exc:  # a bug below must not kill the bus for everyone
            log.exception("unexpected error on %s", self.link.describe())
            if not request.future.done():
                request.future.set_exception(TransportError(f"internal error: {exc!r}"))
        else:
            if request.track:
                self._answered(health, request.unit)
            if not request.future.done():
                request.future.set_result(result)
        finally:
            self._quiet_until = loop.time() + self._frame_gap_s

    async def _execute(self, request: _Request) -> list[int]:
        assert self._transport is not None
        self.requests_sent += 1
        try:
            # the transport has its own timeout; this one guards against a stuck transport
            async with asyncio.timeout(self.timeout_s + 1.0):
                if request.action == "read":
                    return await self._transport.read(
                        request.unit, request.table, request.address, request.count
                    )
                await self._transport.write(
                    request.unit, request.address, request.words, single=request.single
                )
                return []
        except TimeoutError:
            msg = f"unit {request.unit}: no response within {self.timeout_s:g} s"
            raise TransportError(msg) from None

    def _failed(self, request: _Request, health: _Health, exc: HinodeError) -> None:
        # An exception response to a write or a probe means the device is alive: it refused the
        # value, or it has nothing at that address.
        if isinstance(exc, DeviceError) and (request.action == "write" or request.probe):
            self._answered(health, request.unit)
            return
        loop = asyncio.get_running_loop()
        health.failures += 1
        delay = self.backoff.delay(health.failures, self._rng)
        health.retry_at = loop.time() + delay
        reason = str(exc)
        if health.online is not False:
            health.online = False
            health.reason = reason
            log.warning(
                "device offline",
                extra={
                    "bus": self.link.describe(),
                    "unit": request.unit,
                    "device": health.device,
                    "reason": reason,
                    "retry_in_s": round(delay, 2),
                },
            )
            event = DeviceEvent("device_offline", request.unit, health.device, reason, self._now())
            self._emit(event)

    def _answered(self, health: _Health, unit: int) -> None:
        was_offline = health.online is False
        health.online = True
        health.failures = 0
        health.reason = ""
        if was_offline:
            log.info(
                "device online",
                extra={"bus": self.link.describe(), "unit": unit, "device": health.device},
            )
            self._emit(DeviceEvent("device_online", unit, health.device, "", self._now()))

    def _emit(self, event: DeviceEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:
            log.exception("event sink failed", extra={"event_kind": event.kind})

    def _now(self) -> int:
        return now_ms(self.clock)

    @staticmethod
    def _check_unit(unit: int) -> None:
        if not 0 <= unit <= 255:
            msg = f"unit id must be 0..255, got {unit}"
            raise ValueError(msg)
