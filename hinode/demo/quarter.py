"""The simulated city quarter: which sites, gateways and devices the demo runs."""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from edge import GatewayConfig
from edge.config import BatchingConfig, BrokerConfig, CommandsConfig, ModbusTcpDevice, OutboxConfig


@dataclass(frozen=True, slots=True)
class SimulatedUnit:
    """One simulated Modbus unit and the profile its gateway reads it with."""

    device: str
    model: str
    profile: str
    unit: int
    load: str = "factory"


@dataclass(frozen=True, slots=True)
class SimulatedSite:
    """A site with one gateway and one Modbus TCP endpoint serving all its units."""

    site: str
    gateway: str
    kind: str
    units: tuple[SimulatedUnit, ...]


QUARTER = (
    SimulatedSite(
        site="kanazawa-works",
        gateway="gw-works-1",
        kind="business",
        units=(
            SimulatedUnit("meter-main", "sdm630", "sdm630", 1, load="factory"),
            SimulatedUnit("pv-roof", "sunspec_inverter", "sunspec", 2),
            SimulatedUnit("charger-1", "abb_terra_ac", "abb_terra_ac", 3),
        ),
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
) -> GatewayConfig:
    """The gateway config a technician would write for *site*, pointing at its simulator."""
    return GatewayConfig(
        site=site.site,
        gateway=site.gateway,
        broker=BrokerConfig(url=broker_url, protocol=protocol),
        outbox=OutboxConfig(path=data_dir / f"outbox-{site.gateway}.sqlite"),
        # One telemetry message per poll: the demo shows each reading as it is taken.
        batching=BatchingConfig(max_age_s=0, max_readings=500),
        # No controller runs in this demo yet; the chargers' watchdog is relaxed accordingly.
        commands=CommandsConfig(heartbeat_timeout_s=7 * 24 * 3600.0),
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
