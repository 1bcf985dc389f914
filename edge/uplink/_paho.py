"""paho-mqtt 2.x adapter: one connection per session, driven by the asyncio event loop.

The only module of the edge that imports paho. Its sockets are registered with the loop
(``add_reader``/``add_writer``) as paho's external-loop API intends, so acknowledgements and
commands arrive on the loop without threads; only the blocking TCP/TLS connect runs in an
executor. paho's errors become :class:`messages.TransportError`.
"""

import asyncio
import contextlib
import logging
import ssl
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge.uplink._port import AckHandler, MessageHandler, Protocol_, SessionSettings, Will
from messages import TransportError

log = logging.getLogger(__name__)

#: CONNACK reason meaning "speak an older protocol" (v5 code 132, v3.1.1 code 1).
UNSUPPORTED_PROTOCOL = "unsupported protocol version"
_MISC_INTERVAL_S = 1.0
_SUBACK_TIMEOUT_S = 10.0


class ProtocolRefusedError(TransportError):
    """The broker refused the protocol version; a 3.1.1 retry may work."""


class NoConnackError(TransportError):
    """The connection opened but no CONNACK came (some 3.1.1-only brokers just hang up on 5)."""


class PahoSession:
    """One paho client bound to the running loop. Create with :func:`connect`."""

    def __init__(
        self,
        client: mqtt.Client,
        protocol: Protocol_,
        loop: asyncio.AbstractEventLoop,
        on_ack: AckHandler,
        on_message: MessageHandler,
    ) -> None:
        self._client = client
        self._protocol = protocol
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._on_ack = on_ack
        self._on_message = on_message
        self._connack: asyncio.Future[None] = loop.create_future()
        self._closed: asyncio.Future[str] = loop.create_future()
        self._subscribed: dict[int, asyncio.Future[None]] = {}
        self._sock: Any = None
        self._misc: asyncio.TimerHandle | None = None
        client.on_socket_open = self._socket_open
        client.on_socket_close = self._socket_close
        client.on_socket_register_write = self._register_write
        client.on_socket_unregister_write = self._unregister_write
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_publish = self._published
        client.on_message = self._received
        client.on_subscribe = self._subscribe_done

    @property
    def protocol(self) -> Protocol_:
        return self._protocol

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> int:
        if self._closed.done():
            msg = f"not connected: {self._closed.result()}"
            raise TransportError(msg)
        try:
            info = self._client.publish(topic, payload, qos=qos, retain=retain)
        except ValueError as exc:
            msg = f"cannot publish to {topic}: {exc}"
            raise TransportError(msg) from None
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            msg = f"publish failed: {mqtt.error_string(info.rc)}"
            raise TransportError(msg)
        return info.mid

    async def subscribe(self, topic_filter: str, *, qos: int = 1) -> None:
        result, mid = self._client.subscribe(topic_filter, qos=qos)
        if result != MQTTErrorCode.MQTT_ERR_SUCCESS or mid is None:
            msg = f"subscribe to {topic_filter} failed: {mqtt.error_string(result)}"
            raise TransportError(msg)
        done = self._loop.create_future()
        self._subscribed[mid] = done
        try:
            await asyncio.wait(
                [done, self._closed],
                timeout=_SUBACK_TIMEOUT_S,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            self._subscribed.pop(mid, None)
        if not done.done():
            why = "connection lost" if self._closed.done() else "no SUBACK"
            msg = f"{why} while subscribing to {topic_filter}"
            raise TransportError(msg)
        done.result()

    async def wait_closed(self) -> str:
        return await asyncio.shield(self._closed)

    async def close(self) -> None:
        if not self._closed.done():
            self._client.disconnect()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2.0):
                    await asyncio.shield(self._closed)
        self._teardown("closed by the gateway")

    # -- paho callbacks (on the loop, or on the connect thread for the first few) -----------

    def _call(self, function: Callable[..., object], *args: object) -> None:
        if threading.get_ident() == self._loop_thread:
            function(*args)
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(function, *args)

    def _socket_open(self, client: mqtt.Client, userdata: object, sock: Any) -> None:
        self._call(self._adopt_socket, sock)

    def _adopt_socket(self, sock: Any) -> None:
        if self._closed.done():
            # A connect that finished after its timeout: nobody wants this socket any more.
            with contextlib.suppress(OSError):
                sock.close()
            return
        self._sock = sock
        self._loop.add_reader(sock, self._read)
        self._schedule_misc()

    def _socket_close(self, client: mqtt.Client, userdata: object, sock: Any) -> None:
        self._call(self._forget_socket, sock)

    def _forget_socket(self, sock: Any) -> None:
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_reader(sock)
            self._loop.remove_writer(sock)

    def _register_write(self, client: mqtt.Client, userdata: object, sock: Any) -> None:
        self._call(self._add_writer, sock)

    def _add_writer(self, sock: Any) -> None:
        if sock.fileno() >= 0:
            self._loop.add_writer(sock, self._write)

    def _unregister_write(self, client: mqtt.Client, userdata: object, sock: Any) -> None:
        self._call(self._remove_writer, sock)

    def _remove_writer(self, sock: Any) -> None:
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_writer(sock)

    def _read(self) -> None:
        self._client.loop_read()
        sock = self._sock
        # TLS may hold decrypted bytes that the selector cannot see.
        if sock is not None and isinstance(sock, ssl.SSLSocket) and sock.pending():
            self._loop.call_soon(self._read)

    def _write(self) -> None:
        self._client.loop_write()

    def _schedule_misc(self) -> None:
        if not self._closed.done():
            self._misc = self._loop.call_later(_MISC_INTERVAL_S, self._run_misc)

    def _run_misc(self) -> None:
        self._client.loop_misc()
        self._schedule_misc()

    def _connected(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if self._connack.done():
            return
        if reason.is_failure:
            text = str(reason)
            error: TransportError = (
                ProtocolRefusedError(text)
                if reason.value in (1, 132) or text.lower() == UNSUPPORTED_PROTOCOL
                else TransportError(f"broker refused the connection: {text}")
            )
            self._connack.set_exception(error)
        else:
            self._connack.set_result(None)

    def _disconnected(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        why = str(reason)
        if not self._connack.done():
            self._connack.set_exception(NoConnackError(f"connection closed before CONNACK: {why}"))
        self._teardown(why)

    def _teardown(self, why: str) -> None:
        if not self._closed.done():
            self._closed.set_result(why)
        if self._misc is not None:
            self._misc.cancel()
            self._misc = None
        if self._sock is not None:
            self._forget_socket(self._sock)
        for waiter in self._subscribed.values():
            if not waiter.done():
                waiter.set_exception(TransportError(f"connection lost: {why}"))

    def _published(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason: ReasonCode,
        properties: Properties,
    ) -> None:
        self._on_ack(mid, not reason.is_failure)

    def _received(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self._on_message(message.topic, bytes(message.payload))

    def _subscribe_done(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties,
    ) -> None:
        waiter = self._subscribed.get(mid)
        if waiter is None or waiter.done():
            return
        failed = [str(reason) for reason in reasons if reason.is_failure]
        if failed:
            waiter.set_exception(TransportError(f"subscription refused: {', '.join(failed)}"))
        else:
            waiter.set_result(None)


def _client(settings: SessionSettings, protocol: Protocol_, will: Will | None) -> mqtt.Client:
    v5 = protocol == "v5"
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=settings.client_id,
        protocol=MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311,
        clean_session=None if v5 else True,
        reconnect_on_failure=False,
    )
    client.connect_timeout = settings.connect_timeout_s
    # The uplink bounds its own window; paho must not hold messages back below it.
    client.max_inflight_messages_set(settings.max_inflight + 10)
    client.max_queued_messages_set(0)
    if settings.tls:
        context = ssl.create_default_context(
            cafile=str(settings.ca) if settings.ca is not None else None
        )
        if settings.cert is not None:
            context.load_cert_chain(
                str(settings.cert), str(settings.key) if settings.key is not None else None
            )
        if settings.insecure_skip_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        client.tls_set_context(context)
    if settings.username is not None:
        client.username_pw_set(settings.username, settings.password)
    if will is not None:
        client.will_set(will.topic, will.payload, qos=1, retain=will.retain)
    return client


async def connect(
    settings: SessionSettings,
    *,
    protocol: Protocol_,
    will: Will | None,
    on_ack: AckHandler,
    on_message: MessageHandler,
) -> PahoSession:
    """Open a session, waiting for the CONNACK; raise TransportError (or ProtocolRefusedError)."""
    loop = asyncio.get_running_loop()
    try:
        client = _client(settings, protocol, will)
    except (OSError, ssl.SSLError, ValueError) as exc:
        msg = f"cannot set up TLS: {exc}"
        raise TransportError(msg) from None
    session = PahoSession(client, protocol, loop, on_ack, on_message)
    blocking_connect = (
        partial(
            client.connect, settings.host, settings.port, settings.keepalive_s, clean_start=True
        )
        if protocol == "v5"
        else partial(client.connect, settings.host, settings.port, settings.keepalive_s)
    )
    try:
        async with asyncio.timeout(settings.connect_timeout_s + 1.0):
            rc = await loop.run_in_executor(None, blocking_connect)
            _check(rc, "connect")
            await session._connack
    except TimeoutError:
        session._teardown("connect timed out")
        _drop_socket(client)
        msg = f"no CONNACK from {settings.host}:{settings.port} in {settings.connect_timeout_s} s"
        raise NoConnackError(msg) from None
    except (OSError, ssl.SSLError) as exc:
        session._teardown(str(exc))
        _drop_socket(client)
        msg = f"cannot connect to {settings.host}:{settings.port}: {exc}"
        raise TransportError(msg) from None
    except TransportError:
        session._teardown("refused")
        _drop_socket(client)
        raise
    return session


def _check(rc: MQTTErrorCode, what: str) -> None:
    if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
        msg = f"{what} failed: {mqtt.error_string(rc)}"
        raise TransportError(msg)


def _drop_socket(client: mqtt.Client) -> None:
    sock = client.socket()
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.close()
