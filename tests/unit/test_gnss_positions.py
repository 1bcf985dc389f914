"""Position batches: due by time or size, no-fix epochs counted and never sent as positions."""

from edge.gnss import NoFix, PositionBatcher, position_payload
from messages import Fix, decode, encode

T0 = 1_795_392_000_000


def fix(offset_s: int) -> Fix:
    return Fix(ts=T0 + offset_s * 1000, lat=36.59, lon=136.63, speed_mps=1.2, fix_quality="gps")


def test_a_batch_is_due_after_the_interval_and_holds_only_fixes() -> None:
    batcher = PositionBatcher("shuttle-1", interval_ms=5000)
    for second in range(5):
        batcher.add(fix(second), T0 + second * 1000)
        assert not batcher.due(T0 + second * 1000)
    batcher.add(NoFix(T0 + 5000, "receiver reports no fix (RMC status V)"), T0 + 5000)
    assert batcher.due(T0 + 5000)
    fixes = batcher.take()
    assert [f.ts for f in fixes] == [T0 + s * 1000 for s in range(5)]
    assert batcher.no_fix_epochs == 1
    assert batcher.last_no_fix_reason == "receiver reports no fix (RMC status V)"
    assert not batcher.due(T0 + 60_000)  # nothing gathered: nothing to send


def test_a_full_batch_is_due_at_once() -> None:
    batcher = PositionBatcher("s", interval_ms=60_000, max_fixes=3)
    for second in range(3):
        batcher.add(fix(second), T0 + second * 1000)
    assert batcher.due(T0 + 2000)


def test_the_payload_crosses_the_wire_contract() -> None:
    payload = position_payload(
        gateway="gw-depot", boot_id="0123abcd", seq=7, sent_at=T0 + 5000, vehicle="shuttle-1",
        fixes=[fix(0), fix(1)],
    )  # fmt: skip
    message = decode("hinode/v1/midorigaoka/gw-depot/position/shuttle-1", encode(payload))
    assert message.payload == payload
