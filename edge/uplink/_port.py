"""The MQTT session port: what the uplink needs from an MQTT client library."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

Protocol_ = Literal["v5", "v311"]

#: Called on the event loop with a message id and whether the broker accepted it.
AckHandler = Callable[[int, bool], None]
#: Called on the event loop with the topic and payload of a received message.
MessageHandler = Callable[[str, bytes], None]


@dataclass(frozen=True, slots=True)
class Will:
    topic: str
    payload: bytes
    retain: bool = True


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """Everything needed to open one MQTT connection."""

    host: str
    port: int
    client_id: str
    keepalive_s: int = 30
    connect_timeout_s: float = 10.0
    max_inflight: int = 1000
    tls: bool = False
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    insecure_skip_verify: bool = False
    username: str | None = None
    password: str | None = None


class MqttSession(Protocol):
    """One live connection; it ends when the broker goes away or :meth:`close` is called."""

    @property
    def protocol(self) -> Protocol_: ...

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> int:
        """Queue a message; return its message id. Raise TransportError when not connected."""
        ...

    async def subscribe(self, topic_filter: str, *, qos: int = 1) -> None: ...

    async def wait_closed(self) -> str:
        """Wait until the connection is lost; return why."""
        ...

    async def close(self) -> None:
        """Disconnect cleanly (the broker then does not publish the will)."""
        ...


class Connector(Protocol):
    """Opens sessions; the paho adapter is the production one."""

    async def __call__(
        self,
        settings: SessionSettings,
        *,
        protocol: Protocol_,
        will: Will | None,
        on_ack: AckHandler,
        on_message: MessageHandler,
    ) -> MqttSession: ...
