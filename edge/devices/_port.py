"""The device driver port and the plain values that cross it."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from messages import Reading


@dataclass(frozen=True, slots=True)
class PointLimits:
    """What a writable point accepts.

    *allowed* are the profile's closed ranges (``((0, 0), (6, 32))`` for an EV charger); *floor*
    and *ceiling* narrow them for one installation (a 16 A supply); *fail_safe* is the value to
    fall back to when the cloud falls silent.
    """

    allowed: tuple[tuple[float, float], ...]
    unit: str = ""
    fail_safe: float | None = None
    floor: float = float("-inf")
    ceiling: float = float("inf")

    def describe(self) -> str:
        parts = [f"{lo:g}" if lo == hi else f"{lo:g}–{hi:g}" for lo, hi in self.allowed]
        unit = f" {self.unit}" if self.unit else ""
        return " or ".join(parts) + unit


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """A device went offline (with the reason) or came back."""

    device: str
    online: bool
    reason: str
    ts: int


StatusSink = Callable[[DeviceStatus], None]


class DeviceDriver(Protocol):
    """One device of the gateway."""

    @property
    def id(self) -> str: ...

    @property
    def kind(self) -> Literal["modbus_tcp", "modbus_rtu", "ble", "gnss"]: ...

    @property
    def model(self) -> str: ...

    @property
    def poll_interval_s(self) -> float: ...

    @property
    def points(self) -> Mapping[str, PointLimits]:
        """Writable points with the limits of the profile narrowed by the installation."""
        ...

    async def poll(self) -> list[Reading]:
        """Read the device once; raise TransportError or DeviceError."""
        ...

    async def write(self, point: str, value: float) -> float | None:
        """Write a setpoint and return the value read back, if the device offers one."""
        ...
