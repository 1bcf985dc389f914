"""The simulated city quarter: which sites, gateways and devices the demo runs."""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from edge import GatewayConfig
from edge.config import BatchingConfig, BrokerConfig, CommandsConfig, ModbusTcpDevice, OutboxConfig

#: How long a gateway with chargers waits for the cloud before its chargers go to fail-safe, at
#: real speed (a faster demo stretches it; see ``hinode.demo.timing``).
EDGE_TIMEOUT_S = 60.0
#: Gateways without chargers have nothing to fail safe; their watchdog is relaxed to a week.
NO_CHARGERS_TIMEOUT_S = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class SimulatedUnit:
    """One simulated Modbus unit and the profile its gateway reads it with.

    ``size_w`` is a meter's peak demand or an inverter's rating (None: the simulator's default).
    ``phases`` and ``max_current_a`` describe a charger's wiring for the charging controller.
    """

    device: str
    model: str
    profile: str
    unit: int
    load: str = "factory"
    size_w: float | None = None
    phases: Literal[1, 3] = 3
    max_current_a: float = 32.0


CHARGER_MODELS = frozenset({"abb_terra_ac", "phoenix_charx", "keba_p30"})


@dataclass(frozen=True, slots=True)
class SimulatedSite:
    """A site with one gateway and one Modbus TCP endpoint serving all its units."""

    site: str
    gateway: str
    kind: Literal["business", "public", "home"]
    units: tuple[SimulatedUnit, ...]
    #: The meter at the connection point: the site's inverters and chargers stand behind it.
    grid_meter: str | None = None
    #: Per-phase limit of the charging circuit, for the charging controller.
    charging_limit_a: float = 32.0

    @property
    def chargers(self) -> tuple[SimulatedUnit, ...]:
        return tuple(unit for unit in self.units if unit.model in CHARGER_MODELS)


QUARTER = (
    SimulatedSite(
        site="kanazawa-works",
        gateway="gw-works-1",
        kind="business",
        # A small works (15 kW peak) under a 30 kW roof array: on a sunny weekday the PV
        # covers the machines around noon and the surplus charges the commuters' cars.
        units=(
            SimulatedUnit("meter-main", "sdm630", "sdm630", 1, load="factory", size_w=15_000),
            SimulatedUnit("pv-roof", "sunspec_inverter", "sunspec", 2, size_w=30_000),
            SimulatedUnit("charger-1", "abb_terra_ac", "abb_terra_ac", 3),
            SimulatedUnit("charger-2", "phoenix_charx", "phoenix_charx", 4),
        ),
        grid_meter="meter-main",
        charging_limit_a=32.0,
    ),
    SimulatedSite(
        site="city-hall",
        gateway="gw-hall-1",
        kind="public",
        units=(SimulatedUnit("meter-main", "em24", "em24", 1, load="public"),),
    ),
    SimulatedSite(
        site="home-0412",
        gateway="gw-home-0412",
        kind="home",
        units=(SimulatedUnit("meter-home", "sdm120", "sdm120", 1, load="home"),),
    ),
)


def gateway_config(
    site: SimulatedSite,
    *,
    broker_url: str,
    protocol: Literal["auto", "v5", "v311"],
    modbus_port: int,
    data_dir: Path,
    poll_interval_s: float,
    edge_timeout_s: float = EDGE_TIMEOUT_S,
) -> GatewayConfig:
    """The gateway config a technician would write for *site*, pointing at its simulator."""
    return GatewayConfig(
        site=site.site,
        gateway=site.gateway,
        broker=BrokerConfig(url=broker_url, protocol=protocol),
        outbox=OutboxConfig(path=data_dir / f"outbox-{site.gateway}.sqlite"),
        # One telemetry message per poll: the demo shows each reading as it is taken.
        batching=BatchingConfig(max_age_s=0, max_readings=500),
        commands=CommandsConfig(
            heartbeat_timeout_s=edge_timeout_s if site.chargers else NO_CHARGERS_TIMEOUT_S
        ),
        devices=[
            ModbusTcpDevice(
                kind="modbus_tcp",
                id=unit.device,
                profile=unit.profile,
                host="127.0.0.1",
                port=modbus_port,
                unit=unit.unit,
                poll_interval_s=poll_interval_s,
                timeout_s=1.0,
            )
            for unit in site.units
        ],
    )
