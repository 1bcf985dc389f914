"""GNSS on the gateway: NMEA 0183 parsing, fix assembly and the serial receiver.

Pure parts (no I/O): :func:`parse_sentence` (RMC, GGA, VTG, GSA; raises :class:`NmeaError` naming
the sentence and field, never anything else) and :class:`FixAssembler` (sentences → one
``messages.Fix`` per epoch, or a :class:`NoFix` with the reason, never published as a position).
Batching: :class:`PositionBatcher` and :func:`position_payload` build ``position/{vehicle}``.
I/O: :class:`SerialNmeaPort` (pyserial, read timeouts), :class:`GnssReceiver` (port → readings)
and :class:`VehicleTracker` (one vehicle's loop: opens its port, reconnects with backoff,
receiver → batches → an injected send).

For the agent: ``gnss_trackers(config, clock)`` gives one tracker per ``kind: gnss`` device, and
``position_message(config, boot_id=…, sent_at=…, vehicle=…, fixes=…, state=…)`` the outbox
builder of a batch::

    for tracker in gnss_trackers(config, clock, on_status=…):
        async def send(fixes, state, vehicle=tracker.vehicle):
            now = now_ms(clock)
            await outbox.append(position_message(config, boot_id=boot_id, sent_at=now,
                                                 vehicle=vehicle, fixes=fixes, state=state), now)
        tasks.create_task(tracker.run(send), name=f"gnss-{tracker.vehicle}")
"""

from edge.gnss._agent_wiring import gnss_trackers, position_message
from edge.gnss._assembler import FixAssembler, GnssReading, NoFix
from edge.gnss._errors import NmeaError
from edge.gnss._nmea import SUPPORTED, checksum, parse_sentence
from edge.gnss._port import NmeaLinePort
from edge.gnss._positions import PositionBatcher, position_payload
from edge.gnss._receiver import GnssReceiver, ReceiverStats
from edge.gnss._sentences import KNOT_MPS, Gga, Gsa, Rmc, Sentence, Vtg
from edge.gnss._serial_port import SerialNmeaPort
from edge.gnss._tracker import SendPositions, StatusChange, VehicleTracker

__all__ = [
    "KNOT_MPS",
    "SUPPORTED",
    "FixAssembler",
    "Gga",
    "GnssReading",
    "GnssReceiver",
    "Gsa",
    "NmeaError",
    "NmeaLinePort",
    "NoFix",
    "PositionBatcher",
    "ReceiverStats",
    "Rmc",
    "SendPositions",
    "Sentence",
    "SerialNmeaPort",
    "StatusChange",
    "VehicleTracker",
    "Vtg",
    "checksum",
    "gnss_trackers",
    "parse_sentence",
    "position_message",
    "position_payload",
]
