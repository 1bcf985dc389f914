"""The MQTT uplink: one connection, birth and will, ordered replay of the outbox, commands in.

:class:`Uplink` drains an :class:`edge.outbox.Outbox`; the MQTT library sits behind the
:class:`MqttSession` port, with paho-mqtt 2.x as the adapter.
"""

from edge.uplink._backoff import Backoff
from edge.uplink._port import Connector, MqttSession, SessionSettings, Will
from edge.uplink._probe import probe_broker
from edge.uplink._uplink import StateBuilder, Uplink, UplinkStats

__all__ = [
    "Backoff",
    "Connector",
    "MqttSession",
    "SessionSettings",
    "StateBuilder",
    "Uplink",
    "UplinkStats",
    "Will",
    "probe_broker",
]
