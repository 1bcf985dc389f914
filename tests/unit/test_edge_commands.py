"""Command decisions: expiry, unknown device/point, range, clamping; the fail-safe watchdog."""

import math

from hypothesis import given
from hypothesis import strategies as st

from edge.commands import Watchdog, clamp, decide
from edge.devices import PointLimits
from messages import CmdPayload, Setpoint

NOW = 1_800_000_000_000
CHARGER = PointLimits(allowed=((0, 0), (6, 32)), unit="A", fail_safe=6)
CHARGER_16A = PointLimits(allowed=((0, 0), (6, 32)), unit="A", fail_safe=6, ceiling=16)
DEVICES = {"charger-1": {"charge_current_limit_a": CHARGER_16A}, "meter-1": {}}


def command(
    value: float = 10, *, point: str = "charge_current_limit_a", expires: int = NOW + 60_000
) -> CmdPayload:
    return CmdPayload(
        gateway="gw-1",
        boot_id="c0ffee00",
        seq=1,
        sent_at=NOW - 1000,
        id="cmd-1",
        expires_at=expires,
        target=Setpoint(point=point, value=value),
    )


def test_valid_setpoint_is_accepted_as_is() -> None:
    decision = decide(command(10), device="charger-1", now_ms=NOW, devices=DEVICES)
    assert (decision.accepted, decision.value, decision.reason) == (True, 10, None)


def test_expired_unknown_device_unknown_point_out_of_range_are_rejected() -> None:
    cases = {
        "expired": decide(
            command(expires=NOW - 5), device="charger-1", now_ms=NOW, devices=DEVICES
        ),
        "unknown device": decide(command(), device="charger-9", now_ms=NOW, devices=DEVICES),
        "unknown point": decide(
            command(point="phases"), device="charger-1", now_ms=NOW, devices=DEVICES
        ),
        "no writable point": decide(command(), device="meter-1", now_ms=NOW, devices=DEVICES),
        "out of range": decide(command(40), device="charger-1", now_ms=NOW, devices=DEVICES),
        "negative": decide(command(-1), device="charger-1", now_ms=NOW, devices=DEVICES),
    }
    for name, decision in cases.items():
        assert not decision.accepted, name
        assert decision.reason, name
    assert "expired" in (cases["expired"].reason or "")
    assert "charger-9" in (cases["unknown device"].reason or "")
    assert "phases" in (cases["unknown point"].reason or "")
    assert "0 or 6–32 A" in (cases["out of range"].reason or "")


def test_clamped_to_device_maximum_and_below_the_gap() -> None:
    above = decide(command(25), device="charger-1", now_ms=NOW, devices=DEVICES)
    assert (above.accepted, above.value) == (True, 16)
    assert above.reason == "clamped from 25 A to 16 A"
    gap = clamp(3, CHARGER)
    assert (gap.accepted, gap.value) == (True, 0)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_clamp_never_leaves_the_allowed_values(value: float) -> None:
    decision = clamp(value, CHARGER_16A)
    if not decision.accepted:
        assert not (math.isfinite(value) and 0 <= value <= 32)
        return
    assert decision.value is not None
    assert decision.value == 0 or 6 <= decision.value <= 16
    assert decision.value <= max(value, 0)  # never more current than asked for


@given(st.floats(min_value=0, max_value=32), st.floats(min_value=6, max_value=32))
def test_clamp_respects_any_installation_ceiling(value: float, ceiling: float) -> None:
    limits = PointLimits(allowed=((0, 0), (6, 32)), unit="A", ceiling=ceiling)
    decision = clamp(value, limits)
    assert decision.accepted
    assert decision.value is not None
    assert decision.value <= ceiling
    assert decision.value == 0 or decision.value >= 6


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=50))
def test_watchdog_trips_once_per_silence_and_clears_on_a_command(gaps: list[int]) -> None:
    watchdog = Watchdog(timeout_ms=5000, last_ms=0)
    now = 0
    for gap in gaps:
        now += gap
        tripped_before = watchdog.tripped
        silent = now - watchdog.last_ms >= 5000
        trips = watchdog.check(now)
        assert trips == (silent and not tripped_before)
        assert not watchdog.check(now)  # never twice
        cleared = watchdog.feed(now)
        assert cleared == watchdog_was_tripped(tripped_before, trips)
        assert not watchdog.tripped


def watchdog_was_tripped(before: bool, now: bool) -> bool:
    return before or now
