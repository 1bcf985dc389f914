"""The uplink: keeps one MQTT connection up and drains the outbox through it in seq order."""

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from edge.outbox import Outbox, OutboxRow
from edge.uplink import _paho
from edge.uplink._backoff import Backoff
from edge.uplink._port import (
    Connector,
    MessageHandler,
    MqttSession,
    Protocol_,
    SessionSettings,
    Will,
)
from messages import TransportError

log = logging.getLogger(__name__)

#: A session shorter than this does not reset the backoff (a broker that accepts, then drops).
_STABLE_SESSION_S = 10.0
_GOODBYE_TIMEOUT_S = 2.0

#: Builds a retained state message, (topic, payload): the birth or the will.
StateBuilder = Callable[[], tuple[str, bytes]]


@dataclass(slots=True)
class UplinkStats:
    """What the uplink has done; read by dashboards and tests."""

    connected: bool = False
    protocol: str | None = None
    connects: int = 0
    published: int = 0
    acked: int = 0
    readings_acked: int = 0
    inflight: int = 0
    last_error: str | None = None


class Uplink:
    """Connect, announce, replay the outbox in order with a bounded window, reconnect on loss."""

    def __init__(
        self,
        settings: SessionSettings,
        *,
        outbox: Outbox,
        birth: StateBuilder,
        will: StateBuilder,
        protocol: Literal["auto", "v5", "v311"] = "auto",
        subscriptions: Sequence[str] = (),
        on_message: MessageHandler | None = None,
        max_inflight: int = 1000,
        reconnect_min_s: float = 0.5,
        reconnect_max_s: float = 60.0,
        connector: Connector | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._settings = settings
        self._outbox = outbox
        self._birth = birth
        self._will = will
        self._protocol_choice = protocol
        self._subscriptions = tuple(subscriptions)
        self._on_message = on_message or (lambda topic, payload: None)
        self._max_inflight = max_inflight
        self._backoff = Backoff(reconnect_min_s, reconnect_max_s, jitter)
        self._connect: Connector = connector or _paho.connect
        self.stats = UplinkStats()
        self._inflight: dict[int, OutboxRow] = {}
        self._room = asyncio.Event()
        self._acked: list[int] = []
        self._ack_ready = asyncio.Event()
        self._delete_lock = asyncio.Lock()
        self._protocol: Protocol_ = "v311" if protocol == "v311" else "v5"
        self._failing = False

    @property
    def _broker(self) -> str:
        return f"{self._settings.host}:{self._settings.port}"

    async def run(self) -> None:
        """Run until cancelled; on cancellation say goodbye (offline state) and flush acks."""
        flusher = asyncio.create_task(self._flush_acks_forever(), name="uplink-acks")
        try:
            while True:
                session = await self._open()
                if session is None:
                    await asyncio.sleep(self._backoff.next_delay())
                    continue
                started = time.monotonic()
                why = await self._serve(session)
                self._lost(why)
                if time.monotonic() - started >= _STABLE_SESSION_S:
                    self._backoff.reset()
                await asyncio.sleep(self._backoff.next_delay())
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            with contextlib.suppress(TransportError, OSError, TimeoutError):
                async with asyncio.timeout(_GOODBYE_TIMEOUT_S):
                    await asyncio.shield(self._flush_acks())

    # -- connection -------------------------------------------------------------------------

    async def _open(self) -> MqttSession | None:
        topic, payload = self._will()
        will = Will(topic, payload)
        try:
            session = await self._connect_with_fallback(will)
        except TransportError as exc:
            self.stats.last_error = str(exc)
            if not self._failing:
                log.warning(
                    "cannot connect to broker",
                    extra={"broker": self._broker, "error": str(exc)},
                )
                self._failing = True
            return None
        self._failing = False
        self.stats.connected = True
        self.stats.protocol = session.protocol
        self.stats.connects += 1
        log.info(
            "connected to broker",
            extra={
                "broker": self._broker,
                "protocol": session.protocol,
                "outbox_depth": self._outbox.depth,
            },
        )
        return session

    async def _connect_with_fallback(self, will: Will) -> MqttSession:
        """Connect with the current protocol; in auto mode a refused or unanswered MQTT 5
        CONNECT is retried as 3.1.1, which is kept once it works."""
        try:
            return await self._connect(
                self._settings,
                protocol=self._protocol,
                will=will,
                on_ack=self._on_ack,
                on_message=self._on_message,
            )
        except (_paho.ProtocolRefusedError, _paho.NoConnackError) as exc:
            if self._protocol_choice != "auto" or self._protocol == "v311":
                raise
            log.info("no MQTT 5 from the broker, trying 3.1.1", extra={"error": str(exc)})
        session = await self._connect(
            self._settings,
            protocol="v311",
            will=will,
            on_ack=self._on_ack,
            on_message=self._on_message,
        )
        self._protocol = "v311"
        return session

    def _lost(self, why: str) -> None:
        self.stats.connected = False
        self.stats.last_error = why
        self._inflight.clear()
        self.stats.inflight = 0
        log.warning("connection to broker lost", extra={"reason": why})

    async def _serve(self, session: MqttSession) -> str:
        """Announce, subscribe and pump until the session ends; return why it ended."""
        try:
            await self._flush_acks()
            self._inflight.clear()
            topic, payload = self._birth()
            session.publish(topic, payload, retain=True)
            for topic_filter in self._subscriptions:
                await session.subscribe(topic_filter)
            pump = asyncio.create_task(self._pump(session), name="uplink-pump")
            closed = asyncio.create_task(session.wait_closed(), name="uplink-closed")
            try:
                done, _ = await asyncio.wait({pump, closed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (pump, closed):
                    task.cancel()
                await asyncio.gather(pump, closed, return_exceptions=True)
            if pump in done:
                pump.result()  # raises what ended the pump (a TransportError)
            return closed.result() if closed in done else "connection lost"
        except TransportError as exc:
            with contextlib.suppress(TransportError):
                await session.close()
            return str(exc)
        except asyncio.CancelledError:
            await self._goodbye(session)
            raise

    async def _goodbye(self, session: MqttSession) -> None:
        with contextlib.suppress(TransportError, TimeoutError):
            async with asyncio.timeout(_GOODBYE_TIMEOUT_S):
                topic, payload = self._will()
                session.publish(topic, payload, retain=True)
                await session.close()
        self.stats.connected = False

    # -- the window -------------------------------------------------------------------------

    async def _pump(self, session: MqttSession) -> None:
        cursor = -1
        while True:
            while len(self._inflight) >= self._max_inflight:
                self._room.clear()
                await self._room.wait()
            await self._outbox.wait_for_rows(cursor)
            top = self._outbox.last_seq
            rows = await self._outbox.read_after(cursor, self._max_inflight - len(self._inflight))
            if not rows:
                # Everything up to *top* existed before the read and is gone (acked or dropped).
                cursor = max(cursor, top)
                continue
            for row in rows:
                mid = session.publish(row.topic, row.payload)
                self._inflight[mid] = row
            self.stats.published += len(rows)
            self.stats.inflight = len(self._inflight)
            cursor = rows[-1].seq

    def _on_ack(self, mid: int, ok: bool) -> None:
        row = self._inflight.pop(mid, None)
        if row is None:
            return
        self.stats.inflight = len(self._inflight)
        self._room.set()
        if not ok:
            # Left in the outbox: it goes out again after the next reconnect.
            log.warning("broker refused a message", extra={"seq": row.seq, "topic": row.topic})
            return
        self.stats.acked += 1
        self.stats.readings_acked += row.readings
        self._acked.append(row.seq)
        self._ack_ready.set()

    async def _flush_acks_forever(self) -> None:
        while True:
            await self._ack_ready.wait()
            self._ack_ready.clear()
            await self._flush_acks()

    async def _flush_acks(self) -> None:
        async with self._delete_lock:
            seqs, self._acked = self._acked, []
            if not seqs:
                return
            try:
                await self._outbox.delete(seqs)
            except BaseException:
                # Cancelled (a stop) or failed: keep them for the final flush; deleting a row
                # twice is harmless, forgetting an ack would send it again.
                self._acked[:0] = seqs
                raise
