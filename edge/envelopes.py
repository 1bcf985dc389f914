"""The messages a gateway sends, built with the wire contract's models (pure: time passed in)."""

from collections.abc import Sequence
from dataclasses import dataclass

from edge.commands import Result, result_payload
from edge.outbox import BatchBuilder, MessageBuilder, Sealed
from messages import (
    DeviceInfo,
    Event,
    EventsPayload,
    Reading,
    StatePayload,
    TelemetryPayload,
    encode,
)
from messages import topics as t


@dataclass(frozen=True, slots=True)
class Envelopes:
    """Builders of one gateway's messages for one boot; ``seq`` comes from the outbox."""

    site: str
    gateway: str
    boot_id: str
    version: str

    def telemetry(self, device: str, *, sent_at: int) -> BatchBuilder:
        """Seals staged readings (JSON texts of :class:`messages.Reading`) of *device*."""
        topic = t.telemetry_topic(self.site, self.gateway, device)

        def build(seq: int, staged: list[str]) -> Sealed:
            readings = [Reading.model_validate_json(text) for text in staged]
            payload = TelemetryPayload(
                gateway=self.gateway,
                boot_id=self.boot_id,
                seq=seq,
                sent_at=sent_at,
                device=device,
                readings=readings,
            )
            return Sealed(topic, encode(payload), len(readings))

        return build

    def events(self, events: Sequence[Event], *, sent_at: int) -> MessageBuilder:
        topic = t.events_topic(self.site, self.gateway)
        batch = list(events)

        def build(seq: int) -> Sealed:
            payload = EventsPayload(
                gateway=self.gateway,
                boot_id=self.boot_id,
                seq=seq,
                sent_at=sent_at,
                events=batch,
            )
            return Sealed(topic, encode(payload))

        return build

    def result(self, result: Result, *, sent_at: int) -> MessageBuilder:
        topic = t.cmd_result_topic(self.site, self.gateway, result.device)

        def build(seq: int) -> Sealed:
            payload = result_payload(
                result, gateway=self.gateway, boot_id=self.boot_id, seq=seq, sent_at=sent_at
            )
            return Sealed(topic, encode(payload))

        return build

    def state(
        self, *, online: bool, last_seq: int, sent_at: int, devices: Sequence[DeviceInfo] = ()
    ) -> tuple[str, bytes]:
        """Birth (online, with the devices) or will; it carries the last seq used, taking none."""
        payload = StatePayload(
            gateway=self.gateway,
            boot_id=self.boot_id,
            seq=max(last_seq, 0),
            sent_at=sent_at,
            online=online,
            version=self.version,
            devices=list(devices) if online else [],
        )
        return t.state_topic(self.site, self.gateway), encode(payload)
