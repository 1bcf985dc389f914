"""The base of every simulated Modbus device: physics stepped by time, a register image, truth."""

import abc
from collections.abc import Callable, Iterable

from simulators.modbus._registers import ModbusError, Point, RegisterImage, Table

TruthKey = tuple[str, str | None]
PHASES = ("l1", "l2", "l3")
#: What a device draws from its site's supply on one phase: (active W, reactive var), positive
#: when consuming; a generator's active power is negative.
PhaseExchange = tuple[float, float]

# Physics advances in steps of at most this many seconds, so a fast clock (an hour between two
# polls) still integrates energy along the load curve rather than across it. Load and sun change
# over tens of minutes; a charger's car can fill up or a watchdog expire within a minute.
SMOOTH_STEP_S = 300.0
STATEFUL_STEP_S = 60.0


class SimulatedDevice(abc.ABC):
    """One Modbus unit: physics advanced to ``now``, its registers, and what it truly shows.

    Subclasses describe their register blocks, advance their physics between two instants and
    render the current state into registers with :meth:`show`, which records the truth exactly
    as a reader will decode it.
    """

    model: str
    max_step_s: float = SMOOTH_STEP_S

    def __init__(
        self, *, now: Callable[[], float], seed: int, blocks: Iterable[tuple[Table, int, int]]
    ) -> None:
        self.seed = seed
        self._image = RegisterImage(blocks)
        self._truth: dict[TruthKey, float] = {}
        self._truth_points: dict[TruthKey, Point] = {}
        self._time = now()
        self._stale = True

    # -- physics -----------------------------------------------------------------------------

    def update(self, now: float) -> None:
        """Advance physics to *now* (never backwards) and refresh the registers."""
        self.advance_to(now)
        self._refresh()

    def advance_to(self, now: float) -> None:
        """Advance physics to *now* (never backwards); the registers render on the next read.

        A site meter calls this on the devices behind it, so that it measures them at its own
        instant without re-rendering their registers in the middle of someone's poll.
        """
        if now > self._time:
            start = self._time
            while start < now:
                end = min(now, start + self.max_step_s)
                self._advance(start, end)
                start = end
            self._time = now
            self._stale = True

    def ac_exchange(self, t: float) -> tuple[PhaseExchange, PhaseExchange, PhaseExchange] | None:
        """What the device draws from its site's supply per phase at *t* (state as of its last
        advance), or None for a device that is no load or source of its own (a meter)."""
        del t
        return None

    def forecast_power_w(self, t: float) -> float:
        """The power the device's own curves give at any *t*, without touching its state.

        A meter's own load (without the devices behind it), an inverter's production (positive,
        under its present WMax); 0 for a charger, whose draw depends on who controls it.
        """
        del t
        return 0.0

    def _refresh(self) -> None:
        """Render the registers if anything changed since they were last rendered."""
        if self._stale:
            self._truth.clear()
            self._render(self._time)
            self._stale = False

    @property
    def time(self) -> float:
        """The instant the physics has reached."""
        return self._time

    @abc.abstractmethod
    def _advance(self, start: float, end: float) -> None:
        """Integrate state (energy counters, state machines) from *start* to *end*."""

    @abc.abstractmethod
    def _render(self, t: float) -> None:
        """Write the state at *t* into the registers through :meth:`show`."""

    def show(self, point: Point, value: float, key: TruthKey | None = None) -> float:
        """Put *value* into *point*; remember what a reader decodes under *key* (if any)."""
        decoded = self._image.put(point, value)
        if key is not None:
            self._truth[key] = decoded
            self._truth_points[key] = point
        return decoded

    def record(self, key: TruthKey, value: float) -> None:
        """Remember a truth no register carries in canonical form (e.g. an IEC state)."""
        self._truth[key] = value

    def show_text(self, point: Point, text: str) -> None:
        """Put a string into a string point."""
        self._image.put_string(point, text)

    def truth(self) -> dict[TruthKey, float]:
        """What the device currently shows: (canonical quantity, phase) → decoded value."""
        self._refresh()
        return dict(self._truth)

    def truth_points(self) -> dict[TruthKey, Point]:
        """The register each truth value is read from (state codes like charger_state have
        none: their registers hold the device's own codes)."""
        self._refresh()
        return dict(self._truth_points)

    # -- the Modbus face -------------------------------------------------------------------------

    def blocks(self) -> list[tuple[Table, int, int]]:
        """Every (table, first address, count) this device answers."""
        return self._image.blocks()

    def read(self, table: Table, address: int, count: int) -> list[int] | ModbusError:
        """Registers for a read request, or the exception the device answers with."""
        if not self._image.serves(table):  # e.g. function 04 to a holding-only SunSpec device
            return ModbusError.ILLEGAL_FUNCTION
        self._refresh()
        words = self._image.read(table, address, count)
        return ModbusError.ILLEGAL_ADDRESS if words is None else words

    def write(self, address: int, values: list[int]) -> ModbusError | None:
        """Apply a write to holding registers at the current time; None when accepted."""
        result = self._write(address, values)
        if result is None:
            self._stale = True
        return result

    def _write(self, address: int, values: list[int]) -> ModbusError | None:
        """Device-specific write handling; read-only devices refuse every write."""
        del address, values
        return ModbusError.ILLEGAL_ADDRESS

    def mirror_holding_to_input(self) -> None:
        """Make function 04 read what function 03 reads (many devices serve one table twice)."""
        for table, start, count in self._image.blocks():
            if table is Table.HOLDING and self._image.covers(Table.INPUT, start, count):
                words = self._image.read(Table.HOLDING, start, count)
                if words is not None:
                    self._image.set_words(Table.INPUT, start, words)

    def received(self, now: float) -> None:
        """Called for every request addressed to this unit (for communication watchdogs)."""
        del now
