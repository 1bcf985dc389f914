"""MQTT subscriber with manual acknowledgements: paho-mqtt 2.x driven by the asyncio loop.

The only module of ``cloud`` that imports paho. paho's socket callbacks register its socket with
the running loop (no thread of paho's own); every blocking step runs under a timeout and paho's
errors leave this module as ``messages.TransportError``.
"""

import asyncio
import contextlib
import functools
import logging
import random
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions
from pydantic import BaseModel, ConfigDict, model_validator

from messages import ConfigError, TransportError

logger = logging.getLogger(__name__)

#: Which MQTT version to speak: "auto" tries 5 and falls back to 3.1.1.
MqttProtocol = Literal["auto", "v5", "v311"]

CONNECT_TIMEOUT_S = 10.0
SUBSCRIBE_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 5.0
#: How long an MQTT 5 CONNECT may go unanswered before "auto" tries MQTT 3.1.1.
PROBE_TIMEOUT_S = 3.0
KEEPALIVE_S = 30
#: How long the broker keeps our session (and queues for it) while we are away.
SESSION_EXPIRY_S = 24 * 3600
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
#: Packets read per readiness callback before yielding to the loop.
READ_BURST = 256


@dataclass(frozen=True, slots=True)
class Inbound:
    """A received message; ``ack`` it once what it says is durably stored."""

    topic: str
    payload: bytes
    qos: int
    mid: int
    retain: bool
    #: Which connection delivered it: an ack is only meaningful on that connection.
    connection: int


class BrokerTls(BaseModel):
    """Files for TLS to the broker: the CA that signed its certificate (default: the system's
    CAs) and a client certificate with its key (both or neither), as a gateway config names them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None

    @model_validator(mode="after")
    def _cert_with_key(self) -> Self:
        if (self.cert is None) != (self.key is None):
            msg = "cert and key must be given together"
            raise ValueError(msg)
        return self


def broker_ssl_context(url: str, tls: BrokerTls | None) -> ssl.SSLContext | None:
    """The SSL context for a broker at *url* (None for plain ``mqtt://`` without *tls*).

    It verifies the broker against *tls*'s CA, else the system CAs, and presents *tls*'s client
    certificate. A file that is missing, unreadable or not PEM raises ConfigError naming it.
    """
    if tls is None:
        if urlsplit(url).scheme != "mqtts":
            return None
        tls = BrokerTls()
    for what, path in (("tls.ca", tls.ca), ("tls.cert", tls.cert), ("tls.key", tls.key)):
        if path is not None:
            try:
                path.read_bytes()
            except OSError as exc:
                msg = f"{what} {path}: cannot read: {exc.strerror or exc}"
                raise ConfigError(msg) from None
    try:
        context = ssl.create_default_context(cafile=tls.ca)
    except ssl.SSLError as exc:
        msg = f"tls.ca {tls.ca}: not a PEM CA certificate ({exc.reason or exc})"
        raise ConfigError(msg) from None
    if tls.cert is not None:
        try:
            # An empty passphrase instead of OpenSSL's prompt on the terminal: a service must
            # fail, not wait, on an encrypted key.
            context.load_cert_chain(tls.cert, tls.key, password=lambda: b"")
        except ssl.SSLError as exc:
            msg = (
                f"tls.cert {tls.cert} with tls.key {tls.key}: cannot load them (expected PEM, "
                f"the key unencrypted and matching the certificate): {exc.reason or exc}"
            )
            raise ConfigError(msg) from None
    context.sslsocket_class = _ClosedOnFailedHandshake
    return context


class _ClosedOnFailedHandshake(ssl.SSLSocket):
    """An SSL socket that closes itself when its handshake fails.

    paho drops the socket of a failed TLS handshake (an untrusted broker certificate, say)
    without closing it: every reconnect attempt would leave an open file descriptor behind.
    """

    def do_handshake(self, block: bool = False) -> None:
        try:
            super().do_handshake(block)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            raise
        except OSError:
            self.close()
            raise


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> "BrokerAddress":
        """``mqtt://[user[:password]@]host[:port]`` or ``mqtts://…`` (TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in {"mqtt", "mqtts"} or not parts.hostname:
            msg = f"broker URL {url!r}: expected mqtt://host[:port] or mqtts://host[:port]"
            raise ConfigError(msg)
        tls = parts.scheme == "mqtts"
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError:
            msg = f"broker URL {url!r}: the port is not a number"
            raise ConfigError(msg) from None
        return cls(
            host=parts.hostname,
            port=port,
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class _RefusedError(TransportError):
    """The broker answered but refused the connection (perhaps the protocol version)."""


class Subscriber:
    """Keeps one subscribed session to the broker, reconnecting with backoff and jitter.

    Data filters are subscribed as a shared subscription ``$share/<group>/…`` when the session
    speaks MQTT 5 and a group is given; plain filters (and data filters on MQTT 3.1.1) are
    subscribed as they are. The session is persistent (fixed client id, no clean start), so
    messages not yet acknowledged when the collector dies are delivered again when it returns.
    """

    def __init__(
        self,
        url: str,
        *,
        client_id: str,
        data_filters: Sequence[str],
        plain_filters: Sequence[str] = (),
        shared_group: str | None,
        protocol: MqttProtocol,
        on_message: Callable[[Inbound], None],
        receive_maximum: int = 65535,
        tls: BrokerTls | None = None,
    ) -> None:
        self.address = BrokerAddress.parse(url)
        self.tls = tls
        self._tls_context = broker_ssl_context(url, tls)
        self.client_id = client_id
        self.data_filters = tuple(data_filters)
        self.plain_filters = tuple(plain_filters)
        self.shared_group = shared_group
        self.protocol: MqttProtocol = protocol
        self.receive_maximum = max(1, min(receive_maximum, 65535))
        self._on_message = on_message
        self._client: paho.Client | None = None
        self._connection = 0
        self._connected = False
        self._lost: asyncio.Future[str] | None = None
        self._closing = False
        self.ready = asyncio.Event()
        #: What the broker speaks, once known.
        self.speaks: Literal["v5", "v311"] | None = None

    # -- public ------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected

    def ack(self, message: Inbound) -> None:
        """Acknowledge *message* if the connection that brought it is still the current one.

        After a reconnect the broker sends every unacknowledged message again, so an ack for an
        older connection is dropped rather than sent with a packet id that now means another
        message.
        """
        client = self._client
        if message.qos == 0 or client is None or not self._connected:
            return
        if message.connection != self._connection:
            return
        client.ack(message.mid, message.qos)

    async def run(self) -> None:
        """Connect, subscribe and deliver messages until cancelled; reconnect on any loss."""
        attempt = 0
        was_down = False
        self._closing = False
        while True:
            try:
                lost = await self._session()
                if self._closing:
                    return
                attempt = 0
                logger.warning("broker connection lost", extra={"reason": lost, **self._where()})
                was_down = True
            except (TransportError, OSError) as exc:
                if not was_down:
                    logger.warning("broker unreachable", extra={"error": str(exc), **self._where()})
                    was_down = True
            finally:
                self._teardown()
            attempt += 1
            # Full jitter: collectors restarted together do not reconnect in lockstep.
            delay = random.uniform(0, min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2**attempt))
            await asyncio.sleep(delay)

    async def close(self) -> None:
        """Send what is queued (acks first: packets leave in order), disconnect and stop."""
        self._closing = True
        client, lost = self._client, self._lost
        if client is not None and lost is not None and self._connected:
            client.disconnect()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await asyncio.shield(lost)
        self._teardown()

    # -- one session ---------------------------------------------------------------------------

    def _where(self) -> dict[str, Any]:
        return {"broker": f"{self.address.host}:{self.address.port}", "client_id": self.client_id}

    async def _session(self) -> str:
        """One connection: connect (falling back to 3.1.1), subscribe, wait until it drops."""
        if self.protocol == "auto" and self.speaks is None:
            try:
                await self._connect("v5", probe=True)
                self.speaks = "v5"
            except _RefusedError as exc:
                self._teardown()
                logger.info(
                    "broker refused MQTT 5, using MQTT 3.1.1",
                    extra={"reason": str(exc), **self._where()},
                )
                await self._connect("v311")
                self.speaks = "v311"
        else:
            wanted = self.protocol
            version: Literal["v5", "v311"] = (self.speaks or "v5") if wanted == "auto" else wanted
            await self._connect(version)
            self.speaks = version
        await self._subscribe()
        logger.info(
            "subscribed",
            extra={"protocol": self.speaks, "shared": self._shared(), **self._where()},
        )
        self.ready.set()
        assert self._lost is not None
        misc = asyncio.create_task(self._housekeeping())
        try:
            return await self._lost
        finally:
            misc.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await misc

    def _shared(self) -> bool:
        return self.speaks == "v5" and self.shared_group is not None

    async def _connect(self, version: Literal["v5", "v311"], *, probe: bool = False) -> None:
        loop = asyncio.get_running_loop()
        v5 = version == "v5"
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=None if v5 else False,
            protocol=MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311,
            manual_ack=True,
            reconnect_on_failure=False,
        )
        if self.address.username is not None:
            client.username_pw_set(self.address.username, self.address.password)
        if self._tls_context is not None:
            client.tls_set_context(self._tls_context)
        self._connection += 1
        connection = self._connection
        connack: asyncio.Future[None] = loop.create_future()
        self._lost = loop.create_future()
        self._client = client

        def on_connect(_c: paho.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
            if connack.done():
                return
            if reason.is_failure:
                connack.set_exception(_RefusedError(f"broker refused the connection: {reason}"))
            else:
                self._connected = True
                connack.set_result(None)

        def on_disconnect(_c: paho.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
            self._connected = False
            if not connack.done():
                connack.set_exception(_RefusedError(f"broker closed the connection: {reason}"))
            if self._lost is not None and not self._lost.done():
                self._lost.set_result(str(reason))

        def on_message(_c: paho.Client, _u: Any, message: paho.MQTTMessage) -> None:
            try:
                topic = message.topic
            except UnicodeDecodeError:
                topic = bytes(message._topic).decode("utf-8", "replace")
            self._on_message(
                Inbound(
                    topic=topic,
                    payload=bytes(message.payload),
                    qos=message.qos,
                    mid=message.mid,
                    retain=message.retain,
                    connection=connection,
                )
            )

        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        client.on_message = on_message
        properties = None
        if v5:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = SESSION_EXPIRY_S
            properties.ReceiveMaximum = self.receive_maximum
        connect = functools.partial(
            client.connect,
            self.address.host,
            self.address.port,
            keepalive=KEEPALIVE_S,
            clean_start=False if v5 else paho.MQTT_CLEAN_START_FIRST_ONLY,
            properties=properties,
        )
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                rc = await loop.run_in_executor(None, connect)
        except ssl.SSLCertVerificationError as exc:
            trusted = f"the CA in {self.tls.ca}" if self.tls and self.tls.ca else "the system CAs"
            msg = (
                f"cannot connect to {self.address.host}:{self.address.port}: the broker's "
                f"certificate does not verify against {trusted} ({exc.verify_message or exc})"
            )
            raise TransportError(msg) from exc
        except (OSError, TimeoutError, ValueError, ssl.SSLError) as exc:
            msg = f"cannot connect to {self.address.host}:{self.address.port}: {exc or 'timeout'}"
            raise TransportError(msg) from exc
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            msg = f"cannot connect to {self.address.host}:{self.address.port}: {rc}"
            raise TransportError(msg)
        self._attach(loop, client)
        try:
            # A broker that cannot parse MQTT 5 (amqtt) may say nothing at all: probe briefly.
            async with asyncio.timeout(PROBE_TIMEOUT_S if probe else CONNECT_TIMEOUT_S):
                await connack
        except TimeoutError:
            msg = f"no CONNACK from {self.address.host}:{self.address.port}"
            raise _RefusedError(msg) from None

    def _attach(self, loop: asyncio.AbstractEventLoop, client: paho.Client) -> None:
        sock = client.socket()
        if sock is None:
            msg = "the connection closed while it opened"
            raise _RefusedError(msg)

        def readable() -> None:
            for _ in range(READ_BURST):
                if client.loop_read() != MQTTErrorCode.MQTT_ERR_SUCCESS or not _pending(client):
                    break

        loop.add_reader(sock, readable)

        def register_write(_c: paho.Client, _u: Any, s: Any) -> None:
            loop.add_writer(s, client.loop_write)

        def unregister_write(_c: paho.Client, _u: Any, s: Any) -> None:
            loop.remove_writer(s)

        def closed(_c: paho.Client, _u: Any, s: Any) -> None:
            loop.remove_reader(s)
            loop.remove_writer(s)

        client.on_socket_register_write = register_write
        client.on_socket_unregister_write = unregister_write
        client.on_socket_close = closed
        if client.want_write():
            loop.add_writer(sock, client.loop_write)

    async def _subscribe(self) -> None:
        client = self._client
        assert client is not None
        loop = asyncio.get_running_loop()
        v5 = self.speaks == "v5"
        shared = self._shared()
        filters = [
            f"$share/{self.shared_group}/{f}" if shared else f for f in self.data_filters
        ] + list(self.plain_filters)
        suback: asyncio.Future[list[ReasonCode]] = loop.create_future()

        def on_subscribe(
            _c: paho.Client, _u: Any, _mid: int, codes: list[ReasonCode], _p: Any
        ) -> None:
            if not suback.done():
                suback.set_result(codes)

        client.on_subscribe = on_subscribe
        topics: list[tuple[str, Any]] = [(f, SubscribeOptions(qos=1) if v5 else 1) for f in filters]
        rc, _mid = client.subscribe(topics)
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            msg = f"subscribe failed: {paho.error_string(rc)}"
            raise TransportError(msg)
        lost = self._lost
        assert lost is not None
        try:
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT_S):
                waiting: list[asyncio.Future[Any]] = [suback, lost]
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError:
            msg = "no SUBACK from the broker"
            raise TransportError(msg) from None
        if suback not in done:
            msg = "the connection closed while subscribing"
            raise TransportError(msg)
        refused = [f for f, code in zip(filters, suback.result(), strict=False) if code.is_failure]
        if refused:
            msg = f"the broker refused the subscriptions {refused}"
            raise TransportError(msg)

    async def _housekeeping(self) -> None:
        client = self._client
        assert client is not None
        while True:
            await asyncio.sleep(1.0)
            client.loop_misc()

    def _teardown(self) -> None:
        client, self._client = self._client, None
        self._connected = False
        if client is None:
            return
        # Detach from the loop before anything else, so that no callback of this client can
        # register its (soon closed, then reused) file descriptor again.
        client.on_socket_register_write = None
        client.on_socket_unregister_write = None
        client.on_socket_close = None
        client.on_disconnect = None
        client.on_connect = None
        client.on_message = None
        client.on_subscribe = None
        sock = client.socket()
        if isinstance(sock, socket.socket) and sock.fileno() >= 0:
            loop = asyncio.get_running_loop()
            loop.remove_reader(sock)
            loop.remove_writer(sock)
        with contextlib.suppress(OSError, ValueError):
            client.disconnect()
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.close()


def _pending(client: paho.Client) -> bool:
    """Whether more bytes wait on the client's socket (so the burst should read on)."""
    sock = client.socket()
    if isinstance(sock, ssl.SSLSocket):
        # TLS sockets refuse MSG_PEEK; decrypted bytes already buffered are what counts, and
        # anything still encrypted wakes the reader again.
        return sock.pending() > 0
    if not isinstance(sock, socket.socket):
        return False
    try:
        return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True  # let loop_read see the error and report the disconnect
