"""Batches a vehicle's fixes into ``position/{vehicle}`` payloads; invalid epochs never go in.

Pure: readings and instants in, payloads out. A batch is due every ``interval_ms`` or when
``max_fixes`` have gathered; epochs without a usable fix are counted with their last reason,
so the operator can see a receiver that lost the sky without a false position on the map.
"""

from dataclasses import dataclass, field

from edge.gnss._assembler import GnssReading, NoFix
from messages import Fix, PositionPayload, VehicleState


@dataclass
class PositionBatcher:
    vehicle: str
    interval_ms: int = 5_000
    max_fixes: int = 60
    no_fix_epochs: int = 0
    last_no_fix_reason: str | None = None
    _fixes: list[Fix] = field(default_factory=list)
    _opened_ms: int | None = None

    def add(self, reading: GnssReading, now_ms: int) -> None:
        if isinstance(reading, NoFix):
            self.no_fix_epochs += 1
            self.last_no_fix_reason = reading.reason
            return
        if self._opened_ms is None:
            self._opened_ms = now_ms
        self._fixes.append(reading)

    def due(self, now_ms: int) -> bool:
        if not self._fixes or self._opened_ms is None:
            return False
        return len(self._fixes) >= self.max_fixes or now_ms - self._opened_ms >= self.interval_ms

    def take(self) -> list[Fix]:
        """The fixes gathered since the last batch, oldest first; the batch starts anew."""
        fixes, self._fixes, self._opened_ms = self._fixes, [], None
        return fixes


def position_payload(
    *,
    gateway: str,
    boot_id: str,
    seq: int,
    sent_at: int,
    vehicle: str,
    fixes: list[Fix],
    state: VehicleState | None = None,
) -> PositionPayload:
    """The wire payload of one batch (ContractError-free: the parts are already validated)."""
    return PositionPayload(
        gateway=gateway,
        boot_id=boot_id,
        seq=seq,
        sent_at=sent_at,
        vehicle=vehicle,
        fixes=fixes,
        state=state,
    )
