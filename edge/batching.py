"""When to seal the staged readings of a device into one telemetry message (pure)."""

from dataclasses import dataclass


@dataclass(slots=True)
class _Pending:
    readings: int
    first_ms: int
    through_id: int


class Batcher:
    """Tracks staged readings per device; a batch is due when full or old enough."""

    def __init__(self, *, max_readings: int, max_age_ms: int) -> None:
        self.max_readings = max_readings
        self.max_age_ms = max_age_ms
        self._pending: dict[str, _Pending] = {}

    def add(self, device: str, readings: int, through_id: int, now_ms: int) -> bool:
        """Record staged readings; return whether the device's batch should be sealed now."""
        pending = self._pending.get(device)
        if pending is None:
            pending = self._pending[device] = _Pending(0, now_ms, through_id)
        pending.readings += readings
        pending.through_id = max(pending.through_id, through_id)
        return pending.readings >= self.max_readings or now_ms - pending.first_ms >= self.max_age_ms

    def take(self, device: str) -> int | None:
        """Hand over the device's batch for sealing: the last staged row id, or None."""
        pending = self._pending.pop(device, None)
        return None if pending is None else pending.through_id

    def due(self, now_ms: int) -> list[str]:
        """Devices whose batch has reached its age limit."""
        return [
            device
            for device, pending in self._pending.items()
            if now_ms - pending.first_ms >= self.max_age_ms
        ]

    def pending(self) -> list[str]:
        """Devices with staged readings not yet sealed."""
        return list(self._pending)

    def next_due_ms(self) -> int | None:
        """When the oldest batch comes of age, or None when nothing is pending."""
        if not self._pending:
            return None
        return min(p.first_ms for p in self._pending.values()) + self.max_age_ms
