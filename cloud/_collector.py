"""The collector: subscribe, validate, deduplicate, write in batches, acknowledge when written."""

import asyncio
import contextlib
import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Self

from cloud._ingest import DATA_KINDS, Batch, Ingest
from cloud._model import SequenceReport
from cloud._mqtt import BrokerTls, Inbound, MqttProtocol, Subscriber
from cloud._ports import StateStore, TimeSeriesStore
from cloud._stats import CollectorStats
from messages import Clock, TopicKind, TransportError, now_ms
from messages.topics import subscription

logger = logging.getLogger(__name__)

#: Upper bound of one batch write (both stores); a slower write is retried.
WRITE_TIMEOUT_S = 60.0
#: How long a stopping collector tries to write what it holds before leaving it unacknowledged.
STOP_TIMEOUT_S = 15.0
#: How long ``async with`` waits for the first subscription.
READY_TIMEOUT_S = 30.0
#: A batch is also written when no message arrived for this long (a broker with a small
#: in-flight window stops sending until we acknowledge, so waiting longer gains nothing).
IDLE_FLUSH_S = 0.02


class Collector:
    """Collects the telemetry, vitals, position, events and state topics into the stores.

    Each QoS 1 message is acknowledged only after the batch holding it is written to both
    stores, so a collector that dies loses nothing: the broker delivers the unacknowledged
    messages again when a collector with the same *client_id* returns (its session persists),
    and the stores ignore what they already hold.
    """

    def __init__(
        self,
        broker_url: str,
        timeseries: TimeSeriesStore,
        state: StateStore,
        clock: Clock,
        *,
        client_id: str,
        shared_group: str | None = "hinode",
        protocol: MqttProtocol = "auto",
        batch_max: int = 1000,
        batch_age_s: float = 0.2,
        tls: BrokerTls | None = None,
    ) -> None:
        if batch_max < 1:
            msg = f"batch_max must be at least 1, got {batch_max}"
            raise ValueError(msg)
        if batch_age_s <= 0:
            msg = f"batch_age_s must be positive, got {batch_age_s}"
            raise ValueError(msg)
        self.timeseries = timeseries
        self.state = state
        self.clock = clock
        self.batch_max = batch_max
        self.batch_age_s = batch_age_s
        self.stats = CollectorStats()
        self._ingest = Ingest()
        self._batch = Batch()
        self._acks: list[Inbound] = []
        self._batch_started = 0.0
        self._last_input = 0.0
        self._wake = asyncio.Event()
        self._stopping = False
        self._store_failing = False
        self._executor: ThreadPoolExecutor | None = None
        self._task: asyncio.Task[None] | None = None
        self._subscriber = Subscriber(
            broker_url,
            client_id=client_id,
            data_filters=[subscription(kind) for kind in sorted(DATA_KINDS)],
            plain_filters=[subscription(TopicKind.STATE)],
            shared_group=shared_group,
            protocol=protocol,
            on_message=self._receive,
            # Two batches may be unacknowledged at once: one being written, one filling.
            receive_maximum=2 * batch_max + 100,
            tls=tls,
        )

    # -- public ------------------------------------------------------------------------------

    @property
    def protocol(self) -> str | None:
        """``v5`` or ``v311`` once connected."""
        return self._subscriber.speaks

    @property
    def connected(self) -> bool:
        return self._subscriber.connected

    async def wait_ready(self) -> None:
        """Wait until the first subscription is in place (or raise TransportError)."""
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                await self._subscriber.ready.wait()
        except TimeoutError:
            msg = f"collector not subscribed after {READY_TIMEOUT_S} s"
            raise TransportError(msg) from None

    async def run(self) -> None:
        """Collect until cancelled; on the way out write what is held and acknowledge it."""
        self._stopping = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hinode-store")
        subscriber = asyncio.create_task(self._subscriber.run(), name="collector-mqtt")
        flusher = asyncio.create_task(self._flush_loop(), name="collector-flush")
        try:
            done, _ = await asyncio.wait({subscriber, flusher}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            self._stopping = True
            self._wake.set()
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await asyncio.shield(flusher)
            except (TimeoutError, TransportError, asyncio.CancelledError):
                flusher.cancel()
                logger.warning(
                    "stopped with messages unwritten; the broker will deliver them again",
                    extra={"messages": len(self._batch)},
                )
            await self._subscriber.close()
            subscriber.cancel()
            with contextlib.suppress(asyncio.CancelledError, TransportError):
                await subscriber
            self._executor.shutdown(wait=True)
            summary = self.stats.as_dict()
            del summary["devices"], summary["gaps"]
            logger.info("collector stopped", extra=summary)

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self.run(), name="collector")
        ready = asyncio.create_task(self.wait_ready())
        await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done():
            ready.cancel()
            with contextlib.suppress(asyncio.CancelledError, TransportError):
                await ready
            self._task.result()
        try:
            ready.result()
        except TransportError:
            await self._stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stop()

    async def _stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- receiving -------------------------------------------------------------------------------

    def _receive(self, message: Inbound) -> None:
        if self._stopping:
            return  # left unacknowledged: the broker delivers it again to the next collector
        self.stats.received += 1
        batch = self._batch
        now = time.monotonic()
        if not batch.messages:
            self._batch_started = now
            self._wake.set()
        self._last_input = now
        self._ingest.accept(message.topic, message.payload, now_ms(self.clock), batch)
        self._acks.append(message)
        if batch.messages >= self.batch_max or len(batch.readings) >= self.batch_max:
            self._wake.set()

    def _full(self) -> bool:
        batch = self._batch
        return batch.messages >= self.batch_max or len(batch.readings) >= self.batch_max

    # -- writing ---------------------------------------------------------------------------------

    async def _flush_loop(self) -> None:
        idle_s = min(IDLE_FLUSH_S, self.batch_age_s)
        while True:
            if not self._batch.messages:
                if self._stopping:
                    return
                await self._wake.wait()
                self._wake.clear()
                continue
            while not (self._full() or self._stopping):
                now = time.monotonic()
                age = now - self._batch_started
                idle = now - self._last_input
                if age >= self.batch_age_s or idle >= idle_s:
                    break
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(self.batch_age_s - age, idle_s - idle)):
                        await self._wake.wait()
                self._wake.clear()
            await self._flush()

    async def _flush(self) -> None:
        batch, acks = self._batch, self._acks
        self._batch, self._acks = Batch(), []
        batch.state.recorded_at = now_ms(self.clock)
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            try:
                async with asyncio.timeout(WRITE_TIMEOUT_S):
                    stored, report = await loop.run_in_executor(self._executor, self._write, batch)
                break
            except (TransportError, TimeoutError) as exc:
                self.stats.write_failures += 1
                if not self._store_failing:
                    self._store_failing = True
                    logger.warning("store write failed; retrying", extra={"error": str(exc)})
                if self._stopping:
                    raise TransportError(str(exc)) from exc
                attempt += 1
                await asyncio.sleep(random.uniform(0, min(10.0, 0.2 * 2**attempt)))
        if self._store_failing:
            self._store_failing = False
            logger.info("store write recovered", extra={"attempts": attempt + 1})
        for message in acks:
            self._subscriber.ack(message)
        self._account(batch, stored, report)

    def _write(self, batch: Batch) -> tuple[int, SequenceReport]:
        # Readings first: if the state write fails, the retry writes them again harmlessly,
        # while the other order could mark a sequence seen whose readings were never stored.
        stored = self.timeseries.write(batch.readings)
        return stored, self.state.record(batch.state)

    def _account(self, batch: Batch, stored: int, report: SequenceReport) -> None:
        stats = self.stats
        stats.batches += 1
        stats.stored_readings += stored
        stats.duplicates_dropped += batch.duplicates + report.duplicates
        stats.invalid += batch.invalid
        stats.filled_gaps += report.filled
        stats.note_stored(batch.readings)
        for key, ranges in report.open_gaps.items():
            if ranges:
                stats.gaps[key] = ranges
            else:
                stats.gaps.pop(key, None)
        for gateway, boot_id, gap in report.opened:
            logger.debug(
                "sequence gap",
                extra={
                    "gateway": gateway,
                    "boot_id": boot_id,
                    "first": gap.first,
                    "last": gap.last,
                },
            )
