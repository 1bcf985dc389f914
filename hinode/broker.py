"""The demo's embedded MQTT broker (amqtt, in-process, MQTT 3.1.1 only).

Production and the integration tests use Mosquitto; amqtt is here so that ``hinode demo`` needs
nothing installed but Python packages.
"""

import asyncio
import logging
import socket
from types import TracebackType
from typing import Self

from amqtt.broker import Broker

from messages import TransportError

logger = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 3.0


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedBroker:
    """An amqtt broker listening on *host*:*port* (a free port when 0) while the context is open."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or _free_port(host)
        self._broker: Broker | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    async def __aenter__(self) -> Self:
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }
        self._broker = Broker(config)
        try:
            async with asyncio.timeout(START_TIMEOUT_S):
                await self._broker.start()
        except (OSError, TimeoutError) as exc:
            msg = f"embedded broker could not listen on {self.host}:{self.port}: {exc}"
            raise TransportError(msg) from exc
        logger.info("embedded broker started", extra={"url": self.url})
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._broker is None:
            return
        broker, self._broker = self._broker, None
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await broker.shutdown()
        except TimeoutError:
            # amqtt waits for every session's reader to finish and can wait forever on a
            # half-closed socket; its listeners are closed by then, so nothing is lost.
            logger.warning("embedded broker did not stop in time", extra={"url": self.url})
        else:
            logger.info("embedded broker stopped", extra={"url": self.url})
