"""What the demo shows and reports: a snapshot of every part, as plain values."""

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DeviceView:
    """One simulated device as seen from its gateway and from the store."""

    site: str
    gateway: str
    device: str
    model: str
    online: bool
    last_values: dict[str, float] = field(default_factory=dict)
    readings_stored: int = 0


@dataclass(frozen=True, slots=True)
class ChargerView:
    """One charger of the charging loop: what the controller set and what the car draws."""

    device: str
    setpoint_a: float | None
    reason: str | None
    offered_a: float | None
    drawn_a: float | None
    state: float | None


@dataclass(frozen=True, slots=True)
class ChargingView:
    """A site's EV charging loop at one instant."""

    site: str
    mode: str
    surplus_w: float | None
    grid_w: float | None
    pv_w: float | None
    rounds: int
    decisions: int
    failsafe_active: bool
    chargers: list[ChargerView] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SiteDayView:
    """One site's planned day of interchange."""

    site: str
    self_sufficiency: float | None
    shared_in_wh: float
    shared_out_wh: float
    cost_yen: float
    co2_kg: float


@dataclass(frozen=True, slots=True)
class InterchangeDayView:
    """The quarter's planned interchange on one day."""

    date: str
    weekday: str
    day_off: bool
    sites: list[SiteDayView]
    total: SiteDayView


@dataclass(frozen=True, slots=True)
class CareHomeView:
    """A care recipient's home: its devices, today's measurements and alerts (pseudonyms only)."""

    site: str
    gateway: str
    subjects: list[str]
    devices_online: int
    devices: int
    measurements_today: int
    last_values: dict[str, float] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ShuttleView:
    """A shuttle as the dispatcher sees it from the positions it received."""

    vehicle: str
    online: bool
    position: tuple[float, float] | None
    onboard: int
    seats: int
    stops_ahead: int
    next_stop: str | None
    next_eta: float | None


@dataclass(frozen=True, slots=True)
class ScooterView:
    """A scooter of the fleet: its MDS state, battery and finished trips."""

    vehicle: str
    online: bool
    position: tuple[float, float] | None
    state: str
    battery_pct: float
    trips: int


@dataclass(frozen=True, slots=True)
class MobilityView:
    """The estate shuttles' service and the scooter fleet at one instant."""

    shuttles: list[ShuttleView]
    scooters: list[ScooterView]
    requests: int
    refused: int
    picked_up: int
    completed: int
    mean_wait_s: float | None
    mean_ride_s: float | None
    #: Route commands the service sent (resends included), those the depot gateway answered
    #: as applied, and the resends.
    route_commands_sent: int = 0
    route_commands_acknowledged: int = 0
    route_commands_resent: int = 0
    decisions: list[str] = field(default_factory=list)
    feed_urls: dict[str, str] = field(default_factory=dict)
    #: Where the bearer token for the MDS feed is (GBFS needs none).
    mds_token_file: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The whole demo at one instant of simulated time."""

    sim_time: float
    elapsed_s: float
    broker: str
    messages_published: int
    readings_published: int
    readings_stored: int
    duplicates_dropped: int
    invalid_messages: int
    outbox_depth: int
    gaps: list[dict[str, object]]
    devices: list[DeviceView]
    messages_per_s: float = 0.0
    charging: ChargingView | None = None
    interchange: list[InterchangeDayView] = field(default_factory=list)
    care: list[CareHomeView] = field(default_factory=list)
    mobility: MobilityView | None = None
