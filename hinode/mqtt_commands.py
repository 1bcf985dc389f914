"""The controllers' command publisher: one paho client per controller, QoS 1 (the energy and
mobility loops' ``CommandPort``)."""

from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from cloud._mqtt import BrokerTls, broker_ssl_context
from messages import ConfigError


class PahoCommands:
    """The loop's command port: a paho client publishing at QoS 1, reconnecting on its own.

    *tls* names a private CA and a client certificate, as the collector's config does; without
    it an ``mqtts://`` broker is verified against the system CAs.
    """

    def __init__(self, broker_url: str, client_id: str, *, tls: BrokerTls | None = None) -> None:
        address = urlsplit(broker_url)
        if address.scheme not in ("mqtt", "mqtts") or not address.hostname:
            msg = f"--broker: expected mqtt://HOST:PORT or mqtts://HOST:PORT, got {broker_url!r}"
            raise ConfigError(msg)
        context = broker_ssl_context(broker_url, tls)
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        if address.username is not None:
            self._client.username_pw_set(address.username, address.password)
        if context is not None:
            self._client.tls_set_context(context)
        port = address.port or (8883 if address.scheme == "mqtts" else 1883)
        self._client.connect_async(address.hostname, port, keepalive=30)
        self._client.loop_start()

    def publish(self, topic: str, payload: bytes) -> None:
        # paho queues while disconnected; an expired command is rejected by the edge anyway.
        self._client.publish(topic, payload, qos=1)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
