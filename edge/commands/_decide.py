"""What to do with a command: reject it, or the value to write (pure; time is passed in)."""

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from edge.devices import PointLimits
from messages import CmdPayload


@dataclass(frozen=True, slots=True)
class Decision:
    """Either a value to write (possibly clamped, *reason* says from what) or a rejection."""

    accepted: bool
    value: float | None = None
    reason: str | None = None


def reject(reason: str) -> Decision:
    return Decision(accepted=False, reason=reason)


def decide(
    command: CmdPayload,
    *,
    device: str,
    now_ms: int,
    devices: Mapping[str, Mapping[str, PointLimits]],
) -> Decision:
    """Check a setpoint command for *device* against expiry, the device list and the limits."""
    if command.expires_at <= now_ms:
        return reject(f"expired {now_ms - command.expires_at} ms ago")
    points = devices.get(device)
    if points is None:
        return reject(f"unknown device {device!r}")
    if command.target is None:
        return reject("no target")
    limits = points.get(command.target.point)
    if limits is None:
        known = ", ".join(sorted(points)) or "none"
        return reject(f"unknown point {command.target.point!r} (writable: {known})")
    return clamp(command.target.value, limits)


def clamp(value: float, limits: PointLimits) -> Decision:
    """Reject a value outside the profile's range; else bring it within the installation's
    limits and onto an allowed value, preferring the one below (less current is the safe side).
    """
    if not limits.allowed:
        return reject("the point accepts no value")
    lowest = min(low for low, _ in limits.allowed)
    highest = max(high for _, high in limits.allowed)
    if not math.isfinite(value) or not lowest <= value <= highest:
        return reject(f"out of range: {value:g} (accepts {limits.describe()})")
    bounded = min(max(value, limits.floor), limits.ceiling)
    candidates = [
        (max(low, limits.floor), min(high, limits.ceiling))
        for low, high in limits.allowed
        if max(low, limits.floor) <= min(high, limits.ceiling)
    ]
    if not candidates:
        return reject(f"no allowed value within the installation's limits ({limits.describe()})")
    if any(low <= bounded <= high for low, high in candidates):
        chosen = bounded
    else:
        below = [high for _, high in candidates if high <= bounded]
        chosen = max(below) if below else min(low for low, _ in candidates)
    if chosen == value:
        return Decision(accepted=True, value=value)
    unit = f" {limits.unit}" if limits.unit else ""
    return Decision(
        accepted=True, value=chosen, reason=f"clamped from {value:g}{unit} to {chosen:g}{unit}"
    )


@dataclass(slots=True)
class Watchdog:
    """Trips once when no command has arrived for *timeout_ms*; clears when one arrives."""

    timeout_ms: int
    last_ms: int
    tripped: bool = False

    def feed(self, now_ms: int) -> bool:
        """A command arrived; return True when this ends a fail-safe period."""
        self.last_ms = max(self.last_ms, now_ms)
        if self.tripped:
            self.tripped = False
            return True
        return False

    def check(self, now_ms: int) -> bool:
        """Return True exactly once, when the silence first exceeds the timeout."""
        if not self.tripped and now_ms - self.last_ms >= self.timeout_ms:
            self.tripped = True
            return True
        return False

    def deadline_ms(self) -> int:
        return self.last_ms + self.timeout_ms


def decide_route(
    command: CmdPayload,
    *,
    device: str,
    now_ms: int,
    vehicles: Mapping[str, str | None],
    interfaces: Collection[str],
) -> Decision:
    """Check a route command: *vehicles* maps each GNSS device to what it rides on,
    *interfaces* names the vehicles whose own interface can take a route."""
    if command.expires_at <= now_ms:
        return reject(f"expired {now_ms - command.expires_at} ms ago")
    if device not in vehicles:
        return reject(f"unknown vehicle {device!r}")
    if vehicles[device] != "shuttle":
        return reject(f"{device!r} is not a shuttle (a {vehicles[device] or 'vehicle'})")
    if command.route is None:
        return reject("no route")
    if device not in interfaces:
        return reject(f"no interface to hand {device!r} a route")
    return Decision(accepted=True)
