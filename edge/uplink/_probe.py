"""One-off broker check for technicians: connect, then disconnect."""

from typing import Literal

from edge.uplink import _paho
from edge.uplink._port import Protocol_, SessionSettings


async def probe_broker(
    settings: SessionSettings, *, protocol: Literal["auto", "v5", "v311"] = "auto"
) -> Protocol_:
    """Connect once (MQTT 5, or 3.1.1 when refused and *protocol* is auto); return the protocol.

    Raises TransportError saying why the broker cannot be used.
    """
    chosen: Protocol_ = "v311" if protocol == "v311" else "v5"
    try:
        session = await _paho.connect(
            settings, protocol=chosen, will=None, on_ack=_ignore_ack, on_message=_ignore_message
        )
    except (_paho.ProtocolRefusedError, _paho.NoConnackError):
        if protocol != "auto":
            raise
        chosen = "v311"
        session = await _paho.connect(
            settings, protocol=chosen, will=None, on_ack=_ignore_ack, on_message=_ignore_message
        )
    await session.close()
    return chosen


def _ignore_ack(mid: int, ok: bool) -> None:
    del mid, ok


def _ignore_message(topic: str, payload: bytes) -> None:
    del topic, payload
