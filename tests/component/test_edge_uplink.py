"""The uplink's window, ordered replay, protocol fallback and goodbye, over a scripted session."""

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from edge.outbox import OutboxLimits, Sealed, SqliteOutbox
from edge.uplink import SessionSettings, Uplink, Will
from edge.uplink._paho import ProtocolRefusedError
from edge.uplink._port import AckHandler, MessageHandler, Protocol_
from messages import TransportError

LIMITS = OutboxLimits(max_rows=10**6, max_bytes=10**9, max_age_ms=10**12)
SETTINGS = SessionSettings(host="broker", port=1883, client_id="gw")
BIRTH = ("hinode/v1/s/g/state", b"online")
WILL = ("hinode/v1/s/g/state", b"offline")


class ScriptedSession:
    def __init__(self, protocol: Protocol_, on_ack: AckHandler) -> None:
        self._protocol: Protocol_ = protocol
        self.on_ack = on_ack
        self.published: list[tuple[str, bytes, bool]] = []
        self.mids: list[int] = []
        self.subscribed: list[str] = []
        self.closed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    @property
    def protocol(self) -> Protocol_:
        return self._protocol

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> int:
        if self.closed.done():
            raise TransportError("closed")
        self.published.append((topic, payload, retain))
        mid = len(self.published)
        self.mids.append(mid)
        return mid

    async def subscribe(self, topic_filter: str, *, qos: int = 1) -> None:
        self.subscribed.append(topic_filter)

    async def wait_closed(self) -> str:
        return await asyncio.shield(self.closed)

    async def close(self) -> None:
        if not self.closed.done():
            self.closed.set_result("closed by the gateway")

    def data(self) -> list[bytes]:
        return [payload for topic, payload, _ in self.published if topic == "t"]

    def ack_data(self, count: int) -> None:
        data_mids = [
            mid
            for mid, (topic, _, _) in zip(self.mids, self.published, strict=True)
            if topic == "t"
        ]
        for mid in data_mids[:count]:
            self.on_ack(mid, True)  # noqa: FBT003 - the AckHandler signature

    def drop(self) -> None:
        self.closed.set_result("connection lost")


class ScriptedBroker:
    """Hands out sessions; *refuse* lists what the next connects raise."""

    def __init__(self, refuse: list[Exception] | None = None) -> None:
        self.refuse = refuse or []
        self.sessions: list[ScriptedSession] = []
        self.attempts: list[tuple[Protocol_, Will | None]] = []

    async def __call__(
        self,
        settings: SessionSettings,
        *,
        protocol: Protocol_,
        will: Will | None,
        on_ack: AckHandler,
        on_message: MessageHandler,
    ) -> ScriptedSession:
        self.attempts.append((protocol, will))
        if self.refuse:
            raise self.refuse.pop(0)
        session = ScriptedSession(protocol, on_ack)
        self.sessions.append(session)
        return session


async def eventually(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


def numbered(i: int) -> Callable[[int], Sealed]:
    return lambda seq: Sealed("t", str(i).encode(), 1)


async def filled_outbox(tmp_path: Path, count: int) -> SqliteOutbox:
    outbox = await SqliteOutbox.open(tmp_path / "o.sqlite", LIMITS).__aenter__()
    for i in range(count):
        await outbox.append(numbered(i), 0)
    return outbox


def uplink_for(outbox: SqliteOutbox, broker: ScriptedBroker, **options: object) -> Uplink:
    return Uplink(
        SETTINGS,
        outbox=outbox,
        birth=lambda: BIRTH,
        will=lambda: WILL,
        connector=broker,
        reconnect_min_s=0.01,
        reconnect_max_s=0.02,
        subscriptions=["hinode/v1/s/g/cmd/+"],
        **options,  # type: ignore[arg-type]
    )


async def test_window_bounds_unacknowledged_messages(tmp_path: Path) -> None:
    outbox = await filled_outbox(tmp_path, 50)
    broker = ScriptedBroker()
    uplink = uplink_for(outbox, broker, max_inflight=10)
    task = asyncio.create_task(uplink.run())
    await eventually(lambda: bool(broker.sessions) and len(broker.sessions[0].data()) == 10)
    session = broker.sessions[0]
    assert session.published[0] == (*BIRTH, True)
    assert session.subscribed == ["hinode/v1/s/g/cmd/+"]
    await asyncio.sleep(0.1)
    assert len(session.data()) == 10
    session.ack_data(5)
    await eventually(lambda: len(session.data()) == 15)
    await eventually(lambda: outbox.depth == 45)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await outbox.__aexit__(None, None, None)


async def test_replay_in_order_after_a_lost_connection(tmp_path: Path) -> None:
    outbox = await filled_outbox(tmp_path, 10)
    broker = ScriptedBroker()
    uplink = uplink_for(outbox, broker)
    task = asyncio.create_task(uplink.run())
    await eventually(lambda: bool(broker.sessions) and len(broker.sessions[0].data()) == 10)
    first = broker.sessions[0]
    first.ack_data(3)
    first.drop()
    await eventually(lambda: len(broker.sessions) == 2 and len(broker.sessions[1].data()) == 7)
    assert broker.sessions[1].data() == [str(i).encode() for i in range(3, 10)]
    assert uplink.stats.connects == 2
    await outbox.append(lambda seq: Sealed("t", b"new", 1), 0)
    await eventually(lambda: broker.sessions[1].data()[-1] == b"new")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await outbox.__aexit__(None, None, None)


async def test_falls_back_to_311_and_backs_off_while_refused(tmp_path: Path) -> None:
    outbox = await filled_outbox(tmp_path, 1)
    broker = ScriptedBroker(
        refuse=[
            TransportError("connection refused"),
            ProtocolRefusedError("unsupported protocol version"),
        ]
    )
    uplink = uplink_for(outbox, broker, protocol="auto")
    task = asyncio.create_task(uplink.run())
    await eventually(lambda: bool(broker.sessions))
    assert [protocol for protocol, _ in broker.attempts] == ["v5", "v5", "v311"]
    assert broker.sessions[0].protocol == "v311"
    assert uplink.stats.protocol == "v311"
    will = broker.attempts[0][1]
    assert will is not None
    assert (will.topic, will.payload, will.retain) == (*WILL, True)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await outbox.__aexit__(None, None, None)


async def test_v5_only_does_not_fall_back(tmp_path: Path) -> None:
    outbox = await filled_outbox(tmp_path, 1)
    broker = ScriptedBroker(refuse=[ProtocolRefusedError("unsupported protocol version")] * 3)
    uplink = uplink_for(outbox, broker, protocol="v5")
    task = asyncio.create_task(uplink.run())
    await eventually(lambda: len(broker.attempts) >= 3)
    assert {protocol for protocol, _ in broker.attempts} == {"v5"}
    assert uplink.stats.last_error == "unsupported protocol version"
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await outbox.__aexit__(None, None, None)


async def test_stop_says_goodbye_and_deletes_what_was_acknowledged(tmp_path: Path) -> None:
    outbox = await filled_outbox(tmp_path, 4)
    broker = ScriptedBroker()
    uplink = uplink_for(outbox, broker)
    task = asyncio.create_task(uplink.run())
    await eventually(lambda: bool(broker.sessions) and len(broker.sessions[0].data()) == 4)
    session = broker.sessions[0]
    session.ack_data(4)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert session.published[-1] == (*WILL, True)
    assert session.closed.done()
    assert outbox.depth == 0
    await outbox.__aexit__(None, None, None)
