"""The closed charging loop of one site: read fresh state, dispatch, command the chargers.

Everything it touches goes through ports (readings, command publishing, decision records, the
clock), so the loop is tested with in-memory adapters and run with the collector's store and an
MQTT client. Each round it reads the chargers' IEC 61851 state and session energy and the grid
meter's power from the store, runs :func:`dispatch_chargers`, publishes a setpoint command (with
an expiry) to every charger whose setpoint changed or whose last command is half-way to expiry,
records every change with its reason, and sends a heartbeat to each gateway at a third of the
edge's fail-safe timeout, so that a silent controller drives the chargers to fail-safe. It also
learns, per session, which phases each car draws on (:mod:`cloud.energy._car_phases`), so that a
one-phase car on a three-phase charger is budgeted on its one phase.
"""

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Annotated, Literal, NamedTuple, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cloud.energy._car_phases import CarPhases, observe_car_phases
from cloud.energy._ev_dispatch import PHASES, Setpoint, dispatch_chargers
from cloud.energy._ev_input import Charger, DispatchRequest, Mode, Phase, PreviousSetpoint, Vehicle
from cloud.energy._time import JST
from messages import Clock, CmdPayload, encode, now_ms
from messages.models import Setpoint as SetpointTarget
from messages.topics import Topic, TopicKind

#: IEC 61851 states (as the profiles map them) in which a vehicle is plugged in: B, C, D.
PLUGGED_IN = frozenset({2.0, 3.0, 4.0})

logger = logging.getLogger(__name__)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChargerConfig(_Model):
    """One charging point as the controller knows it."""

    device: str
    gateway: str
    phases: Literal[1, 3]
    phase: Literal["l1", "l2", "l3"] | None = None
    max_current_a: Annotated[float, Field(gt=0)]
    point: str = "charge_current_limit_a"
    #: What a commuter's car is assumed to need per session, and when it leaves (JST), until a
    #: booking system tells the controller better.
    session_target_wh: Annotated[float, Field(ge=0)] = 20_000.0
    departure: time = time(17, 30)
    vehicle_max_current_a: Annotated[float, Field(gt=0)] = 32.0
    #: The site phases a three-phase charger's L1, L2 and L3 are connected to, in that order:
    #: an installation that rotates phases from charger to charger (to spread one-phase cars)
    #: says so here, or a one-phase car would be budgeted on the wrong site phase.
    site_phases: tuple[Phase, Phase, Phase] = ("l1", "l2", "l3")

    @model_validator(mode="after")
    def _site_phases_fit(self) -> Self:
        if sorted(self.site_phases) != list(PHASES):
            msg = "site_phases: expected each of l1, l2 and l3 once"
            raise ValueError(msg)
        if self.phases == 1 and self.site_phases != PHASES:
            msg = "site_phases: only for a three-phase charger ('phase' names a single one's)"
            raise ValueError(msg)
        return self

    @property
    def wired_phases(self) -> tuple[Phase, ...]:
        return (self.phase,) if self.phase is not None else PHASES


class ChargingSiteConfig(_Model):
    """A site's charging controller."""

    site: str
    mode: Mode = "pv"
    site_limit_a: Annotated[float, Field(ge=0)]
    voltage_v: Annotated[float, Field(gt=0)] = 230.0
    #: Device whose ``active_power_w`` is the site's grid exchange (positive = import).
    grid_meter: str
    interval_s: Annotated[float, Field(gt=0)] = 5.0
    hold_seconds: Annotated[float, Field(ge=0)] = 60.0
    command_ttl_s: Annotated[float, Field(gt=0)] = 30.0
    #: The edge's fail-safe timeout (its ``commands.heartbeat_timeout_s``).
    edge_timeout_s: Annotated[float, Field(gt=0)] = 60.0
    #: Readings older than this are not believed.
    stale_after_s: Annotated[float, Field(gt=0)] = 30.0
    chargers: list[ChargerConfig]

    @property
    def heartbeat_interval_s(self) -> float:
        # Well under half the timeout: one lost heartbeat must not trip the fail-safe.
        return self.edge_timeout_s / 3


class PhaseReading(NamedTuple):
    """The newest value of a quantity on one phase, and when it was measured."""

    ts_ms: int
    value: float


class ReadingsPort(Protocol):
    """Fresh readings from the collector's store."""

    def latest(self, site: str, device: str, quantity: str, since_ms: int) -> float | None:
        """The newest value of *quantity* (summed over phases) at or after *since_ms*, if any."""
        ...

    def latest_by_phase(
        self, site: str, device: str, quantity: str, since_ms: int
    ) -> dict[str, PhaseReading]:
        """The newest reading of *quantity* on each phase (``l1``…) at or after *since_ms*.

        Phases without such a reading are missing; readings without a phase are left out.
        """
        ...


class CommandPort(Protocol):
    """Publishes a command (QoS 1) on its topic."""

    def publish(self, topic: str, payload: bytes) -> None: ...


@dataclass(frozen=True)
class Decision:
    """A setpoint the controller decided on, and why."""

    ts_ms: int
    site: str
    charger: str
    current_a: float
    previous_a: float | None
    reason: str
    mode: str
    pv_surplus_w: float
    #: The site phases the setpoint draws on: the car's when it was seen to use fewer than the
    #: charger is wired for, else the wiring.
    phases: tuple[Phase, ...] = ()


class DecisionPort(Protocol):
    def record(self, decision: Decision) -> None: ...


@dataclass
class _Published:
    current_a: float
    since_ms: int
    sent_ms: int
    phases: tuple[Phase, ...] = ()


@dataclass
class ChargingController:
    """One site's loop state: what it last commanded, its heartbeat times, its own sequence."""

    config: ChargingSiteConfig
    readings: ReadingsPort
    commands: CommandPort
    decisions: DecisionPort
    boot_id: str = field(default_factory=lambda: secrets.token_hex(8))
    rounds: int = 0
    _published: dict[str, _Published] = field(default_factory=dict)
    _heartbeat_ms: dict[str, int] = field(default_factory=dict)
    _seq: int = 0
    #: What each plugged-in car's session has shown of its phases, by charger.
    _car_phases: dict[str, CarPhases] = field(default_factory=dict)

    def step(self, now: int) -> DispatchRequest:
        """One round at *now* (epoch ms); returns the request it dispatched, for inspection."""
        config = self.config
        since = now - int(config.stale_after_s * 1000)
        now_local = datetime.fromtimestamp(now / 1000, JST)
        chargers: list[Charger] = []
        budgeted: dict[str, tuple[Phase, ...]] = {}
        charging_w = 0.0
        for entry in config.chargers:
            state = self.readings.latest(config.site, entry.device, "charger_state", since)
            session = self.readings.latest(config.site, entry.device, "session_energy_wh", since)
            drawn = self.readings.latest(config.site, entry.device, "active_power_w", since)
            charging_w += max(drawn or 0.0, 0.0)
            connected = state is not None and state in PLUGGED_IN
            vehicle = None
            if connected:
                car = self._observe_car(entry, since)
                one_phase = len(car.phases) == 1 and car.narrower_than_wiring
                departure = datetime.combine(now_local.date(), entry.departure, JST)
                vehicle = Vehicle(
                    energy_needed_wh=max(entry.session_target_wh - (session or 0.0), 0.0),
                    departure=departure,
                    max_current_a=entry.vehicle_max_current_a,
                    phases=1 if one_phase else None,
                    phase=car.phases[0] if one_phase else None,
                )
                budgeted[entry.device] = (car.phases[0],) if one_phase else entry.wired_phases
            else:
                # Unplugged (or no longer known to be plugged in): the next car starts afresh.
                self._car_phases.pop(entry.device, None)
            chargers.append(
                Charger(
                    id=entry.device,
                    phases=entry.phases,
                    phase=entry.phase,
                    max_current_a=entry.max_current_a,
                    connected=connected,
                    vehicle=vehicle,
                )
            )
        grid_w = self.readings.latest(config.site, config.grid_meter, "active_power_w", since)
        # What the chargers could use: the export now plus what they already draw. Without a
        # fresh meter reading there is no known surplus.
        surplus_w = 0.0 if grid_w is None else charging_w - grid_w
        request = DispatchRequest(
            now=now_local,
            site_limit_a=config.site_limit_a,
            mode=config.mode,
            pv_surplus_w=surplus_w,
            voltage_v=config.voltage_v,
            chargers=chargers,
            previous=[
                PreviousSetpoint(
                    charger=device,
                    current_a=published.current_a,
                    since=datetime.fromtimestamp(published.since_ms / 1000, JST),
                )
                for device, published in self._published.items()
            ],
            hold_seconds=config.hold_seconds,
        )
        result = dispatch_chargers(request)
        by_device = {entry.device: entry for entry in config.chargers}
        for setpoint in result.setpoints:
            entry = by_device[setpoint.charger]
            before = self._published.get(entry.device)
            phases = budgeted.get(entry.device, entry.wired_phases)
            changed = before is None or before.current_a != setpoint.current_a
            # A car seen to draw on fewer phases changes what its current costs: recorded too.
            rebudgeted = before is not None and before.phases != phases
            refresh_ms = int(config.command_ttl_s * 1000 / 2)
            if rebudgeted and not changed:
                assert before is not None
                before.phases = phases
                self.decisions.record(
                    self._decision(now, setpoint, before.current_a, phases, surplus_w)
                )
            if not changed and before is not None and now - before.sent_ms < refresh_ms:
                continue
            self._send_setpoint(entry, setpoint.current_a, now)
            if changed:
                previous = None if before is None else before.current_a
                self.decisions.record(self._decision(now, setpoint, previous, phases, surplus_w))
                self._published[entry.device] = _Published(setpoint.current_a, now, now, phases)
            else:
                assert before is not None
                before.sent_ms = now
        self._heartbeats(now)
        self.rounds += 1
        return request

    def _decision(
        self,
        now: int,
        setpoint: Setpoint,
        previous_a: float | None,
        phases: tuple[Phase, ...],
        surplus_w: float,
    ) -> Decision:
        return Decision(
            ts_ms=now,
            site=self.config.site,
            charger=setpoint.charger,
            current_a=setpoint.current_a,
            previous_a=previous_a,
            reason=setpoint.reason,
            mode=self.config.mode,
            pv_surplus_w=round(surplus_w, 1),
            phases=phases,
        )

    async def run(self, clock: Clock, *, rounds: int | None = None) -> None:
        """Run rounds every ``interval_s`` of *clock* until cancelled (or *rounds* are done)."""
        while rounds is None or self.rounds < rounds:
            self.step(now_ms(clock))
            await clock.sleep(self.config.interval_s)

    # -- the cars' phases --------------------------------------------------------------------------

    def _observe_car(self, entry: ChargerConfig, since: int) -> CarPhases:
        """The session's knowledge of the car's phases, updated with the newest currents."""
        known = self._car_phases.get(entry.device)
        if known is None:
            known = CarPhases.plugged_in(entry.wired_phases)
        car = known
        if entry.phases == 3:
            by_terminal = self.readings.latest_by_phase(
                self.config.site, entry.device, "current_a", since
            )
            currents: dict[Phase, float] = {
                site_phase: by_terminal[terminal].value
                for terminal, site_phase in zip(PHASES, entry.site_phases, strict=True)
                if terminal in by_terminal
            }
            # The oldest phase's time: a reading is only new once every phase in it is.
            measured = min((reading.ts_ms for reading in by_terminal.values()), default=None)
            car = observe_car_phases(known, currents, measured_ms=measured)
        if car.phases != known.phases:
            if len(car.phases) == 1:
                logger.info("car on charger %s charges on %s only", entry.device, car.phases[0])
            else:
                # Two phases (rare) are budgeted as the wiring: the dispatch input names one.
                logger.info(
                    "car on charger %s charges on %s: budgeted on all the charger's phases",
                    entry.device,
                    ", ".join(car.phases),
                )
        self._car_phases[entry.device] = car
        return car

    # -- messages -------------------------------------------------------------------------------

    def _next_seq(self, now: int) -> int:
        # Time-based, so that a restarted controller never goes back in sequence.
        self._seq = max(self._seq + 1, now)
        return self._seq

    def _send_setpoint(self, entry: ChargerConfig, current_a: float, now: int) -> None:
        seq = self._next_seq(now)
        payload = CmdPayload(
            gateway=entry.gateway,
            boot_id=self.boot_id,
            seq=seq,
            sent_at=now,
            id=f"ev-{seq}",
            kind="setpoint",
            expires_at=now + int(self.config.command_ttl_s * 1000),
            target=SetpointTarget(point=entry.point, value=current_a),
        )
        topic = Topic(self.config.site, entry.gateway, TopicKind.CMD, entry.device)
        self.commands.publish(str(topic), encode(payload))
        self._heartbeat_ms[entry.gateway] = now

    def _heartbeats(self, now: int) -> None:
        interval_ms = int(self.config.heartbeat_interval_s * 1000)
        first_device: dict[str, str] = {}
        for entry in self.config.chargers:
            first_device.setdefault(entry.gateway, entry.device)
        for gateway, device in first_device.items():
            # Any unexpired command feeds the edge's watchdog; a heartbeat fills the silences.
            if now - self._heartbeat_ms.get(gateway, -interval_ms) < interval_ms:
                continue
            seq = self._next_seq(now)
            payload = CmdPayload(
                gateway=gateway,
                boot_id=self.boot_id,
                seq=seq,
                sent_at=now,
                id=f"hb-{seq}",
                kind="heartbeat",
                expires_at=now + int(self.config.command_ttl_s * 1000),
            )
            topic = Topic(self.config.site, gateway, TopicKind.CMD, device)
            self.commands.publish(str(topic), encode(payload))
            self._heartbeat_ms[gateway] = now


def gateways_of(config: ChargingSiteConfig) -> Sequence[str]:
    """The gateways the controller commands."""
    return sorted({entry.gateway for entry in config.chargers})
