"""Route commands: hand a shuttle the stops ahead of it through its own interface."""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from edge.config import GatewayConfig, GnssDevice
from messages.models import Route

#: Takes a route on the vehicle's own controller; raises HinodeError when the vehicle refuses.
RouteTaker = Callable[[Route], Awaitable[None]]
#: The vehicles' own interfaces: given a GNSS device, how to hand it a route (None: cannot).
VehicleRoutes = Callable[[GnssDevice], RouteTaker | None]


@dataclass(frozen=True, slots=True)
class Vehicles:
    """The gateway's GNSS vehicles: what each rides on, and which can take a route."""

    kinds: Mapping[str, str | None]
    takers: Mapping[str, RouteTaker]

    @classmethod
    def of(cls, config: GatewayConfig, routes: VehicleRoutes | None) -> "Vehicles":
        devices = [device for device in config.devices if isinstance(device, GnssDevice)]
        takers = {}
        for device in devices:
            taker = None if routes is None else routes(device)
            if taker is not None:
                takers[device.id] = taker
        return cls({device.id: device.vehicle for device in devices}, takers)


NO_VEHICLES = Vehicles({}, {})
