"""A shuttle's own controller: it drives the stops it was last handed, waiting at each until due."""

from typing import NamedTuple

from simulators.vehicles._roads import distance_m
from simulators.vehicles._vehicles import SimulatedVehicle

#: Within this distance of a stop the shuttle is there (it drives onto the stop's exact point).
AT_STOP_M = 1.0


class ShuttleStop(NamedTuple):
    """One stop ahead: where, when it is due (epoch s), and who gets on or off there."""

    position: tuple[float, float]
    eta_s: float
    #: The booking whose riders board (or leave) here: a route handed again counts them once.
    booking: str = ""
    #: Riders getting on here; negative: getting off.
    boarding: int = 0


class ShuttleController:
    """Drives *vehicle* to each stop in turn; at a stop the doors stay open until the stop's ETA
    and then *dwell_s* have passed, and the riders get on or off once the stop is due.

    It acts at its steps: a stop is left at the first step at or after its dwell, so a position
    sampled at every step shows the shuttle standing at each stop after it was due. A new list
    of stops replaces the old one; if it starts where the shuttle stands with its doors open,
    the shuttle stays and keeps the time it arrived.
    """

    def __init__(self, vehicle: SimulatedVehicle, *, dwell_s: float) -> None:
        if vehicle.kind != "shuttle":
            raise ValueError(f"{vehicle.id} is a {vehicle.kind}, not a shuttle")
        if dwell_s < 0:
            raise ValueError("dwell_s must not be negative")
        self.vehicle = vehicle
        self.dwell_s = dwell_s
        #: How many lists of stops it was handed.
        self.routes_taken = 0
        #: Riders aboard, by booking.
        self.aboard: dict[str, int] = {}
        self._stops: list[ShuttleStop] = []
        self._arrived_at: float | None = None

    @property
    def stops(self) -> tuple[ShuttleStop, ...]:
        """The stops still ahead, the one it stands at first."""
        return tuple(self._stops)

    def take(self, stops: list[ShuttleStop]) -> None:
        """Drive these stops from now on, instead of the ones it had (empty: stand by)."""
        self.routes_taken += 1
        self._stops = list(stops)
        if self._arrived_at is not None and self._stops and self._at(self._stops[0]):
            return  # the new list starts here: the doors stay open
        self._arrived_at = None
        self.vehicle.door_open = False
        self.vehicle.follow([self._stops[0].position] if self._stops else [])

    def step(self, dt_s: float, now: float) -> None:
        """Drive on for *dt_s* seconds, then act at *now*, the end of them: open the doors at
        a stop reached, let the riders on or off once it is due, leave once the dwell is done."""
        self.vehicle.step(dt_s)
        if not self._stops or self.vehicle.moving:
            return
        stop = self._stops[0]
        if self._arrived_at is None:
            self._arrived_at = now
            self.vehicle.door_open = True
        if now >= stop.eta_s:
            self._board(stop)
        if now >= max(self._arrived_at, stop.eta_s) + self.dwell_s:
            self._stops.pop(0)
            self._arrived_at = None
            self.vehicle.door_open = False
            self.vehicle.follow([self._stops[0].position] if self._stops else [])

    def _at(self, stop: ShuttleStop) -> bool:
        return distance_m(self.vehicle.lat, self.vehicle.lon, *stop.position) <= AT_STOP_M

    def _board(self, stop: ShuttleStop) -> None:
        if stop.boarding > 0:
            self.aboard[stop.booking] = stop.boarding
        elif stop.boarding < 0:
            self.aboard.pop(stop.booking, None)
        self.vehicle.occupancy = min(sum(self.aboard.values()), self.vehicle.capacity)
