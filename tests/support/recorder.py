"""A plain paho subscriber keeping every message under ``hinode/#``: what a collector gets."""

import json
import threading
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from messages import CmdResultPayload, Payload, decode

P = TypeVar("P", bound=Payload)


class Recorder:
    """Records raw messages; decodes them on demand with the wire contract."""

    def __init__(self, port: int, *, client_id: str) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.on_message = self._on_message
        self._client.on_connect = lambda c, u, f, rc, p: c.subscribe("hinode/#", qos=1)
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload)))

    def raw(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return list(self.messages)

    def decoded(self, kind: str, model: type[P]) -> list[tuple[str, P]]:
        """Every message of topic *kind* (e.g. ``vitals``), validated as *model*."""
        found = []
        for topic, payload in self.raw():
            if topic.split("/")[4] != kind:
                continue
            message = decode(topic, payload)
            assert isinstance(message.payload, model)
            found.append((topic, message.payload))
        return found

    def topics(self, kind: str) -> list[str]:
        """The topics of every message of topic *kind* (e.g. ``cmd``), in order."""
        return [topic for topic, _ in self.raw() if topic.split("/")[4] == kind]

    def statuses(self, command_id: str) -> list[str]:
        """What the gateways answered to command *command_id*, in order."""
        return [
            result.status
            for _, result in self.decoded("cmd-result", CmdResultPayload)
            if result.command_id == command_id
        ]

    def events(self) -> list[dict[str, Any]]:
        raw = [payload for topic, payload in self.raw() if topic.endswith("/events")]
        return [event for payload in raw for event in json.loads(payload)["events"]]

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
