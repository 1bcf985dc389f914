"""An AC charge point as an IEC 61851 state machine, with commuters' cars and a fail-safe watchdog.

The charge point offers a current (the pilot duty cycle); the car draws at most that. It offers
the commanded limit, capped by the device maximum, or the fail-safe current once the watchdog
has expired; below 6 A it pauses (IEC 61851-1: 0 or 6–32 A). The watchdog is armed by the first
accepted write and fed by writes, or by any request on devices that watch all communication.
"""

import math
from dataclasses import dataclass

from simulators.modbus._calendar import is_day_off, jst_date, jst_day_index, jst_midnight
from simulators.modbus._electrics import grid_voltage_v
from simulators.modbus._noise import smooth, unit_hash

STATE_A, STATE_B, STATE_C = 1, 2, 3  # no car / car connected / charging
MIN_CURRENT_A = 6.0
MAX_CURRENT_A = 32.0
CHARGING_POWER_FACTOR = 0.99
_DAY_S = 86_400.0


def accepted_limit(amps: float, device_max_a: float) -> bool:
    """Whether a commanded current is one IEC 61851 allows and the device can offer."""
    return amps == 0 or MIN_CURRENT_A <= amps <= device_max_a


@dataclass(frozen=True, slots=True)
class Visit:
    """One car's stay at the charge point."""

    arrive: float
    depart: float
    energy_wh: float
    max_current_a: float
    phases: int


def commuter_visit(seed: int, day_index: int) -> Visit | None:
    """The seeded visit of a commuter's car on a JST day (see ``jst_day_index``), or None.

    Working days: arrive 07:30–09:30, leave 16:30–19:00, wanting 8–30 kWh. Days off: one car in
    four drops by around midday. Most Japanese EVs charge AC on one phase; some on three.
    """
    key = day_index
    midnight = jst_midnight(day_index)
    draws = [unit_hash(seed, 0xCA4, key, n) for n in range(5)]
    if is_day_off(jst_date(day_index)):
        if draws[0] > 0.25:
            return None
        arrive, depart = midnight + (10.0 + 2.0 * draws[1]) * 3600, midnight + 15.0 * 3600
    else:
        arrive = midnight + (7.5 + 2.0 * draws[1]) * 3600
        depart = midnight + (16.5 + 2.5 * draws[2]) * 3600
    return Visit(
        arrive=arrive,
        depart=depart,
        energy_wh=8_000.0 + 22_000.0 * draws[3],
        max_current_a=16.0 if draws[4] < 0.7 else 32.0,
        phases=3 if unit_hash(seed, 0x3F, key) < 0.4 else 1,
    )


class ChargePoint:
    """The physics of one charging connector."""

    def __init__(
        self,
        *,
        seed: int,
        start: float,
        device_max_a: float,
        failsafe_current_a: float,
        failsafe_timeout_s: float,
    ) -> None:
        self.seed = seed
        self.device_max_a = device_max_a
        self.commanded_limit_a = device_max_a  # standalone until someone takes control
        self.failsafe_current_a = failsafe_current_a
        self.failsafe_timeout_s = failsafe_timeout_s
        self.enabled = True
        self.last_heartbeat: float | None = None  # None: watchdog not armed yet
        self.total_energy_wh = 1_000_000.0 * unit_hash(seed, 0x70E)
        self.session_energy_wh = 0.0
        self.session_seconds = 0.0
        self._manual = False
        self._visit: Visit | None = None
        self._visit_delivered_wh = 0.0
        self._planned: tuple[int, Visit | None] | None = None  # (day index, that day's visit)
        self._sync_visit(start)

    # -- control -------------------------------------------------------------------------------

    def command(self, limit_a: float, now: float) -> None:
        """Apply a commanded limit (already validated by the device's register rules)."""
        self.commanded_limit_a = limit_a
        self.heartbeat(now)

    def heartbeat(self, now: float) -> None:
        """Feed (and arm) the fail-safe watchdog."""
        self.last_heartbeat = now

    def failsafe_active(self, t: float) -> bool:
        """Whether the watchdog has expired: armed, enabled (timeout > 0) and not fed in time."""
        return (
            self.last_heartbeat is not None
            and self.failsafe_timeout_s > 0
            and t - self.last_heartbeat >= self.failsafe_timeout_s
        )

    def applied_limit_a(self, t: float) -> float:
        """The limit in force: the commanded one, or the fail-safe one once the watchdog expired."""
        return self.failsafe_current_a if self.failsafe_active(t) else self.commanded_limit_a

    def offered_current_a(self, t: float) -> float:
        """The current the charge point offers the car at *t* (0 when paused or disabled)."""
        if not self.enabled:
            return 0.0
        limit = min(self.applied_limit_a(t), self.device_max_a)
        return limit if limit >= MIN_CURRENT_A else 0.0

    # -- the car ---------------------------------------------------------------------------------

    def connect_vehicle(
        self, now: float, *, energy_wh: float, max_current_a: float = 32.0, phases: int = 3
    ) -> None:
        """Plug a car in by hand; the daily commuter schedule stops for this charge point."""
        self._manual = True
        self._start_visit(Visit(now, math.inf, energy_wh, max_current_a, phases))

    def disconnect_vehicle(self) -> None:
        """Unplug by hand; the charge point stays empty until the next manual plug-in."""
        self._manual = True
        self._visit = None

    @property
    def connected(self) -> bool:
        return self._visit is not None

    def _start_visit(self, visit: Visit | None) -> None:
        self._visit = visit
        self._visit_delivered_wh = 0.0
        if visit is not None:
            self.session_energy_wh = 0.0
            self.session_seconds = 0.0

    def _sync_visit(self, t: float) -> None:
        """Follow the commuter schedule: plug in on arrival, unplug on departure."""
        if self._manual:
            return
        day = jst_day_index(t)
        if self._planned is None or self._planned[0] != day:
            self._planned = (day, commuter_visit(self.seed, day))
        visit = self._planned[1]
        present = visit if visit is not None and visit.arrive <= t < visit.depart else None
        if present != self._visit:
            self._start_visit(present)

    # -- physics ---------------------------------------------------------------------------------

    def phase_currents_a(self, t: float) -> tuple[float, float, float]:
        """Current the car draws on each phase: never above the offered current."""
        visit = self._visit
        offered = self.offered_current_a(t)
        if visit is None or offered <= 0.0:
            return (0.0, 0.0, 0.0)
        remaining = visit.energy_wh - self._visit_delivered_wh
        if remaining <= 0.0:
            return (0.0, 0.0, 0.0)
        # Cars settle a little below the offer and taper over the last 2 kWh.
        draw = min(offered, visit.max_current_a) * (0.96 + 0.03 * smooth(self.seed, t, 30.0, 0xCC))
        draw *= max(0.3, min(1.0, remaining / 2_000.0))
        return (draw, draw, draw) if visit.phases == 3 else (draw, 0.0, 0.0)

    def voltages_v(self, t: float) -> tuple[float, float, float]:
        """Supply voltage of each phase."""
        return (
            grid_voltage_v(self.seed, t, 0),
            grid_voltage_v(self.seed, t, 1),
            grid_voltage_v(self.seed, t, 2),
        )

    def phase_powers_w(self, t: float) -> tuple[float, float, float]:
        """Active power per phase: V·I·PF."""
        currents = self.phase_currents_a(t)
        if not any(currents):
            return (0.0, 0.0, 0.0)
        voltages = self.voltages_v(t)
        return (
            voltages[0] * currents[0] * CHARGING_POWER_FACTOR,
            voltages[1] * currents[1] * CHARGING_POWER_FACTOR,
            voltages[2] * currents[2] * CHARGING_POWER_FACTOR,
        )

    def exchange(
        self, t: float
    ) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
        """(active W, reactive var) drawn on each phase, as the site's meter sees the charger."""
        reactive_per_watt = math.tan(math.acos(CHARGING_POWER_FACTOR))
        first, second, third = self.phase_powers_w(t)
        return (
            (first, first * reactive_per_watt),
            (second, second * reactive_per_watt),
            (third, third * reactive_per_watt),
        )

    def state(self, t: float) -> int:
        """IEC 61851 state: A no car, B connected and not drawing, C charging."""
        if self._visit is None:
            return STATE_A
        return STATE_C if self.phase_currents_a(t)[0] > 0.0 else STATE_B

    def pilot_state(self, t: float) -> str:
        """IEC 61851 state and pilot, as chargers report it: "A1" no car, "B1" connected with no
        current offered (paused or disabled), "B2" offered but not drawing, "C2" charging."""
        state = self.state(t)
        if state == STATE_A:
            return "A1"
        if state == STATE_C:
            return "C2"
        return "B2" if self.offered_current_a(t) > 0 else "B1"

    def advance(self, start: float, end: float) -> None:
        """Plug cars in and out and deliver energy from *start* to *end*."""
        power = sum(self.phase_powers_w(start))
        energy = power * (end - start) / 3600.0
        if self._visit is not None:
            self._visit_delivered_wh += energy
            self.session_energy_wh += energy
            self.session_seconds += end - start if power > 0 else 0.0
        self.total_energy_wh += energy
        self._sync_visit(end)
