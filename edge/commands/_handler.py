"""Commands from the cloud: decide, write through the device's bus owner, report, and watch
for silence (fail-safe)."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from edge.commands._decide import Watchdog, decide, decide_route
from edge.commands._routes import NO_VEHICLES, Vehicles
from edge.devices import DeviceDriver, PointLimits
from messages import Clock, CmdPayload, ContractError, Event, HinodeError, decode, now_ms
from messages.models import CmdResultPayload

log = logging.getLogger(__name__)

Status = Literal["accepted", "rejected", "applied", "failed"]

_QUEUE_SIZE = 1000
_WRITE_TIMEOUT_S = 5.0
#: Real seconds between retries of fail-safe writes that failed (a device that was offline).
_FAILSAFE_RETRY_S = 5.0
#: Command ids remembered to ignore a QoS 1 redelivery.
_REMEMBERED_IDS = 1000


@dataclass(frozen=True, slots=True)
class Result:
    """A command result to publish on ``cmd-result/{device}``."""

    device: str
    command_id: str
    status: Status
    reason: str | None = None
    value: float | None = None


ResultSink = Callable[[Result], Awaitable[None]]
EventSink = Callable[[Event], Awaitable[None]]


@dataclass(slots=True)
class CommandCounters:
    received: int = 0
    applied: int = 0
    rejected: int = 0
    failed: int = 0
    invalid: int = 0
    failsafe_active: bool = False


class CommandHandler:
    """Consumes commands handed over by the uplink; owns the fail-safe watchdog."""

    def __init__(
        self,
        *,
        gateway: str,
        drivers: Mapping[str, DeviceDriver],
        clock: Clock,
        heartbeat_timeout_s: float,
        on_result: ResultSink,
        on_event: EventSink,
        vehicles: Vehicles = NO_VEHICLES,
    ) -> None:
        """*vehicles*: the GNSS vehicles, for route commands."""
        self._gateway = gateway
        self._vehicles = vehicles
        self._drivers = drivers
        self._clock = clock
        self._on_result = on_result
        self._on_event = on_event
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(_QUEUE_SIZE)
        self._watchdog = Watchdog(int(heartbeat_timeout_s * 1000), now_ms(clock))
        self._failsafe_pending: set[str] = set()
        self._fed = asyncio.Event()
        self._seen: dict[tuple[str, str], None] = {}
        self.counters = CommandCounters()

    def submit(self, topic: str, payload: bytes) -> None:
        """Hand over a received message (called on the loop by the uplink)."""
        try:
            self._queue.put_nowait((topic, payload))
        except asyncio.QueueFull:
            log.warning("command queue full: message dropped", extra={"topic": topic})

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._consume(), name="commands")
            # A gateway without a device that has a fail-safe value (a GNSS-only depot, a care
            # home) has nothing for the watchdog to protect, and nothing to say when it trips.
            if self._failsafe_points():
                tasks.create_task(self._watch(), name="failsafe-watchdog")

    async def _consume(self) -> None:
        while True:
            topic, payload = await self._queue.get()
            await self.handle(topic, payload)

    async def handle(self, topic: str, payload: bytes) -> None:
        try:
            message = decode(topic, payload)
        except ContractError as exc:
            self.counters.invalid += 1
            log.warning("invalid command", extra={"topic": topic, "reason": str(exc)})
            return
        command = message.payload
        device = message.topic.leaf
        if not isinstance(command, CmdPayload) or device is None:
            return
        if self._repeated(device, command.id):
            log.debug("repeated command ignored", extra={"command_id": command.id})
            return
        self.counters.received += 1
        now = now_ms(self._clock)
        if command.expires_at > now:
            self._fed.set()
            if self._watchdog.feed(now):
                await self._cleared(now)
        if command.kind == "heartbeat":
            return
        if command.kind == "route":
            await self._route(command, device, now)
            return
        decision = decide(command, device=device, now_ms=now, devices=self._points())
        if not decision.accepted or decision.value is None or command.target is None:
            self.counters.rejected += 1
            log.info(
                "command rejected",
                extra={"command_id": command.id, "device": device, "reason": decision.reason},
            )
            await self._on_result(Result(device, command.id, "rejected", decision.reason))
            return
        await self._on_result(Result(device, command.id, "accepted", decision.reason))
        point, value = command.target.point, decision.value
        try:
            async with asyncio.timeout(_WRITE_TIMEOUT_S):
                read_back = await self._drivers[device].write(point, value)
        except (HinodeError, TimeoutError) as exc:
            self.counters.failed += 1
            reason = str(exc) or "write timed out"
            context = {"command_id": command.id, "device": device, "reason": reason}
            log.warning("command failed", extra=context)
            await self._on_result(Result(device, command.id, "failed", reason, value))
            return
        self.counters.applied += 1
        applied = read_back if read_back is not None else value
        await self._on_result(Result(device, command.id, "applied", decision.reason, applied))

    async def _route(self, command: CmdPayload, device: str, now: int) -> None:
        vehicles = self._vehicles
        decision = decide_route(
            command, device=device, now_ms=now, vehicles=vehicles.kinds, interfaces=vehicles.takers
        )
        context = {"command_id": command.id, "device": device, "reason": decision.reason}
        if not decision.accepted or command.route is None:
            self.counters.rejected += 1
            log.info("route rejected", extra=context)
            await self._on_result(Result(device, command.id, "rejected", decision.reason))
            return
        await self._on_result(Result(device, command.id, "accepted"))
        try:
            async with asyncio.timeout(_WRITE_TIMEOUT_S):
                await vehicles.takers[device](command.route)
        except (HinodeError, TimeoutError) as exc:
            self.counters.failed += 1
            reason = str(exc) or "the vehicle did not answer in time"
            log.warning("route failed", extra={**context, "reason": reason})
            await self._on_result(Result(device, command.id, "failed", reason))
            return
        self.counters.applied += 1
        stops = len(command.route.stops)
        await self._on_result(Result(device, command.id, "applied", f"{stops} stops ahead"))

    def _repeated(self, device: str, command_id: str) -> bool:
        key = (device, command_id)
        if key in self._seen:
            return True
        self._seen[key] = None
        if len(self._seen) > _REMEMBERED_IDS:
            del self._seen[next(iter(self._seen))]
        return False

    def _points(self) -> dict[str, Mapping[str, PointLimits]]:
        return {device: driver.points for device, driver in self._drivers.items()}

    # -- fail-safe --------------------------------------------------------------------------

    async def _watch(self) -> None:
        while True:
            now = now_ms(self._clock)
            if self._watchdog.check(now):
                await self._trip(now)
            elif self._watchdog.tripped and self._failsafe_pending:
                await self._apply_failsafe()
            self._fed.clear()
            if self._watchdog.tripped:
                # Nothing to wait for but the cloud (or the next retry of a failed write).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(_FAILSAFE_RETRY_S):
                        await self._fed.wait()
            else:
                # A command that arrives meanwhile moves the deadline later: waking up early
                # only means looking again.
                await self._clock.sleep(max(self._watchdog.deadline_ms() - now, 0) / 1000)

    def _failsafe_points(self) -> dict[str, tuple[str, float]]:
        targets: dict[str, tuple[str, float]] = {}
        for device, driver in self._drivers.items():
            for point, limits in driver.points.items():
                if limits.fail_safe is not None:
                    targets[device] = (point, limits.fail_safe)
                    break
        return targets

    async def _trip(self, now: int) -> None:
        self.counters.failsafe_active = True
        targets = self._failsafe_points()
        self._failsafe_pending = set(targets)
        failed = await self._apply_failsafe()
        silent_s = (now - self._watchdog.last_ms) / 1000
        log.warning(
            "no command from the cloud: chargers set to fail-safe",
            extra={"silent_s": silent_s, "devices": sorted(targets), "failed": failed},
        )
        await self._on_event(
            Event(
                ts=now,
                kind="failsafe",
                reason=f"no command or heartbeat for {silent_s:g} s",
                details={
                    "timeout_s": self._watchdog.timeout_ms / 1000,
                    "devices": len(targets),
                    "failed": len(failed),
                },
            )
        )

    async def _apply_failsafe(self) -> list[str]:
        targets = self._failsafe_points()
        failed: list[str] = []
        for device in sorted(self._failsafe_pending):
            point, value = targets[device]
            try:
                async with asyncio.timeout(_WRITE_TIMEOUT_S):
                    await self._drivers[device].write(point, value)
            except (HinodeError, TimeoutError) as exc:
                failed.append(device)
                log.debug("fail-safe write failed", extra={"device": device, "error": str(exc)})
            else:
                self._failsafe_pending.discard(device)
        return failed

    async def _cleared(self, now: int) -> None:
        self.counters.failsafe_active = False
        self._failsafe_pending.clear()
        log.info("cloud is back: fail-safe cleared")
        await self._on_event(Event(ts=now, kind="failsafe_cleared", reason="command received"))


def result_payload(
    result: Result, *, gateway: str, boot_id: str, seq: int, sent_at: int
) -> CmdResultPayload:
    return CmdResultPayload(
        gateway=gateway,
        boot_id=boot_id,
        seq=seq,
        sent_at=sent_at,
        command_id=result.command_id,
        device=result.device,
        status=result.status,
        reason=result.reason,
        value=result.value,
        ts=sent_at,
    )
