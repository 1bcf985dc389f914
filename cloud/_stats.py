"""Counters a collector keeps for dashboards and reports."""

from dataclasses import dataclass, field
from typing import Any

from cloud._model import SeqRange, StoredReading


@dataclass(slots=True)
class DeviceStats:
    """What one collector stored of one device (or subject, or vehicle)."""

    site: str
    gateway: str
    device: str
    kind: str
    readings: int = 0
    last_ts: int | None = None
    #: ``quantity`` or ``quantity/phase`` → newest stored value.
    last_values: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class CollectorStats:
    """Counts since the collector started.

    ``gaps`` maps (gateway, boot_id) to the open ranges the state store reported after this
    collector's last write for that key; with several collectors, ``hinode cloud status`` (the
    store itself) is the current view.
    """

    received: int = 0
    stored_readings: int = 0
    duplicates_dropped: int = 0
    invalid: int = 0
    batches: int = 0
    write_failures: int = 0
    filled_gaps: int = 0
    gaps: dict[tuple[str, str], tuple[SeqRange, ...]] = field(default_factory=dict)
    devices: dict[tuple[str, str, str], DeviceStats] = field(default_factory=dict)

    def note_stored(self, readings: list[StoredReading]) -> None:
        devices = self.devices
        for reading in readings:
            key = (reading.site, reading.gateway, reading.device)
            device = devices.get(key)
            if device is None:
                device = DeviceStats(reading.site, reading.gateway, reading.device, reading.kind)
                devices[key] = device
            device.readings += 1
            if device.last_ts is None or reading.ts >= device.last_ts:
                device.last_ts = reading.ts
                name = (
                    reading.quantity
                    if reading.phase is None
                    else f"{reading.quantity}/{reading.phase}"
                )
                device.last_values[name] = reading.value

    def gap_list(self) -> list[dict[str, Any]]:
        """Open gaps as plain dicts, sorted by gateway, boot and first seq."""
        return [
            {"gateway": gateway, "boot_id": boot_id, "first": g.first, "last": g.last}
            for (gateway, boot_id), ranges in sorted(self.gaps.items())
            for g in ranges
        ]

    def lost(self) -> int:
        """Sequence numbers missing now (each may have been a message of several readings)."""
        return sum(len(g) for ranges in self.gaps.values() for g in ranges)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot."""
        return {
            "received": self.received,
            "stored_readings": self.stored_readings,
            "duplicates_dropped": self.duplicates_dropped,
            "invalid": self.invalid,
            "batches": self.batches,
            "write_failures": self.write_failures,
            "filled_gaps": self.filled_gaps,
            "missing_seqs": self.lost(),
            "gaps": self.gap_list(),
            "devices": [
                {
                    "site": d.site,
                    "gateway": d.gateway,
                    "device": d.device,
                    "kind": d.kind,
                    "readings": d.readings,
                    "last_ts": d.last_ts,
                    "last_values": dict(d.last_values),
                }
                for _, d in sorted(self.devices.items())
            ],
        }
