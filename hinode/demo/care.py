"""The demo's care recipients: two homes whose BLE vital-sign devices the real edge agent reads.

Each home is a gateway with a blood-pressure monitor, a pulse oximeter and a thermometer,
simulated as bumble GATT servers on one in-process radio (``simulators.ble``). The agent reaches
them through bleak on a bumble-backed backend, publishes ``vitals/{pseudonym}`` and the collector
stores them. The demo then reads the store back, as an operator would, and runs the
``cloud.health`` alert rules on what it finds. Only pseudonyms are ever shown: the demo knows no
names, and device addresses stay inside the gateway.
"""

import asyncio
import logging
import os
import random
import secrets
import zlib
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from cloud import ReadingQuery, StoredReading, TimeSeriesStore
from cloud.health import Alert, Thresholds, VitalReading, default_thresholds, threshold_alerts
from edge import Agent, GatewayConfig
from edge.ble import BleakTransport, subject_pseudonym
from edge.config import (
    BatchingConfig,
    BleDevice,
    BrokerConfig,
    CommandsConfig,
    OutboxConfig,
    VitalsConfig,
)
from hinode.demo.quarter import NO_CHARGERS_TIMEOUT_S
from hinode.demo.view import CareHomeView
from messages import Clock, HinodeError, now_ms
from simulators.ble import (
    BloodPressureReading,
    SimulatedAir,
    SimulatedBloodPressureMonitor,
    SimulatedPulseOximeter,
    SimulatedThermometer,
    SpotCheckReading,
    TemperatureReading,
    bind_backends,
)

logger = logging.getLogger(__name__)

TOKYO = ZoneInfo("Asia/Tokyo")
#: Real seconds between two measurement rounds in a home: a recipient measures a few times a
#: day, the demo every few seconds so that the view moves.
ROUND_REAL_S = 4.0
#: Real seconds between two looks at the store.
REFRESH_REAL_S = 1.0
#: How long one look at the store may take.
STORE_TIMEOUT_S = 10.0
#: bleak operations through bumble take milliseconds; this bounds a stuck one.
BLE_OPERATION_TIMEOUT_S = 5.0
#: The home whose recipient's SpO2 dips on the second round (an alert to show).
DIP_ROUND = 1
DIP_SPO2 = 87


@dataclass(frozen=True, slots=True)
class CareHome:
    """A care recipient's home: one gateway, three vital-sign devices."""

    site: str
    gateway: str
    #: Whether this recipient's oximeter shows a dip below the SpO2 alert threshold.
    spo2_dip: bool = False


CARE_HOMES = (
    CareHome("home-care-01", "gw-care-01"),
    CareHome("home-care-02", "gw-care-02", spo2_dip=True),
)

DeviceKind = Literal["blood_pressure", "pulse_oximeter", "thermometer"]
DEVICE_IDS: dict[DeviceKind, str] = {
    "blood_pressure": "bp-1",
    "pulse_oximeter": "ox-1",
    "thermometer": "thermo-1",
}


@dataclass
class _Home:
    """A home's simulated devices, their addresses and what the store holds of them."""

    home: CareHome
    monitor: SimulatedBloodPressureMonitor
    oximeter: SimulatedPulseOximeter
    thermometer: SimulatedThermometer
    addresses: dict[DeviceKind, str]
    rng: random.Random
    agent: Agent | None = None
    rounds: int = 0
    #: Pseudonymous subject → device id (for the view; the subject is what the cloud sees).
    subjects: dict[str, str] = field(default_factory=dict)
    readings: dict[str, list[StoredReading]] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)

    def measure(self, now: float) -> None:
        """One round: each device takes a measurement, stamped in the device's local time."""
        taken_at = datetime.fromtimestamp(now, UTC).astimezone(TOKYO).replace(tzinfo=None)
        rng = self.rng
        systolic = rng.randint(118, 142)
        self.monitor.measure(
            BloodPressureReading(
                systolic, rng.randint(72, 88), systolic - 35, rng.randint(60, 80), taken_at
            )
        )
        dip = self.home.spo2_dip and self.rounds == DIP_ROUND
        spo2 = DIP_SPO2 if dip else rng.randint(95, 98)
        self.oximeter.spot_check(SpotCheckReading(spo2, rng.randint(60, 80), taken_at))
        self.thermometer.measure(TemperatureReading(round(rng.uniform(36.2, 36.9), 1), taken_at))
        self.rounds += 1


class DemoCare:
    """The care homes of the demo: simulators, one agent per home, and their summary."""

    def __init__(
        self,
        clock: Clock,
        speed: float,
        homes: tuple[CareHome, ...] = CARE_HOMES,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.clock = clock
        self.speed = speed
        self.thresholds = thresholds or default_thresholds()
        self._homes_config = homes
        self._homes: list[_Home] = []
        self._started_ms = now_ms(clock)
        self._midnight_ms = self._started_ms

    async def open(
        self,
        stack: AsyncExitStack,
        *,
        broker_url: str,
        protocol: Literal["auto", "v5", "v311"],
        data_dir: Path,
    ) -> list[tuple[CareHome, Agent]]:
        """Power the devices on and build one agent per home; *stack* closes the radio."""
        air = SimulatedAir()
        stack.push_async_callback(air.close)
        key_file = _pseudonym_key(data_dir / "care-pseudonym.key")
        key = bytes.fromhex(key_file.read_text().strip())
        agents: list[tuple[CareHome, Agent]] = []
        for home in self._homes_config:
            monitor, oximeter = SimulatedBloodPressureMonitor(), SimulatedPulseOximeter()
            thermometer = SimulatedThermometer()
            addresses: dict[DeviceKind, str] = {
                "blood_pressure": await air.add_peripheral(monitor),
                "pulse_oximeter": await air.add_peripheral(oximeter),
                "thermometer": await air.add_peripheral(thermometer),
            }
            state = _Home(
                home,
                monitor,
                oximeter,
                thermometer,
                addresses,
                random.Random(zlib.crc32(home.site.encode())),
            )
            for kind, address in addresses.items():
                # A BP monitor has user slots; the demo's recipient is user 1.
                user = 1 if kind == "blood_pressure" else None
                subject = subject_pseudonym(
                    key, site=home.site, device_address=address, user_id=user
                )
                state.subjects[subject] = DEVICE_IDS[kind]
            scanner, client = bind_backends(await air.add_adapter())
            transport = BleakTransport(
                scanner_backend=scanner,
                client_backend=client,
                operation_timeout_s=BLE_OPERATION_TIMEOUT_S,
            )
            config = care_gateway_config(
                home,
                addresses,
                broker_url=broker_url,
                protocol=protocol,
                data_dir=data_dir,
                key_file=key_file,
            )
            state.agent = Agent(config, clock=self.clock, ble_transport=transport)
            self._homes.append(state)
            agents.append((home, state.agent))
        return agents

    async def measure(self) -> None:
        """Measurement rounds in every home until cancelled."""
        while True:
            for home in self._homes:
                home.measure(self.clock.now())
            await self.clock.sleep(ROUND_REAL_S * self.speed)

    async def watch(self, store: TimeSeriesStore) -> None:
        """Read the homes' stored vitals back and run the alert rules, until cancelled."""
        failing = False
        while True:
            try:
                async with asyncio.timeout(STORE_TIMEOUT_S):
                    await asyncio.to_thread(self.refresh, store)
            except (HinodeError, OSError, TimeoutError) as exc:
                # The view keeps what it last read; the store's trouble is logged once.
                if not failing:
                    logger.warning("care homes: store not readable", extra={"error": str(exc)})
                failing = True
            else:
                failing = False
            await self.clock.sleep(REFRESH_REAL_S * self.speed)

    def refresh(self, store: TimeSeriesStore) -> None:
        """The stored vitals of every subject, and the alerts they raise.

        From local midnight, or from this run's start if that was earlier (a fast demo crosses
        midnight: the report still covers the whole run, the live view counts today's).
        """
        local_now = datetime.fromtimestamp(self.clock.now(), UTC).astimezone(TOKYO)
        midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        self._midnight_ms = int(midnight.timestamp() * 1000)
        since = min(self._midnight_ms, self._started_ms)
        for home in self._homes:
            readings = {
                subject: [
                    r
                    for r in store.query(ReadingQuery(since=since, device=subject))
                    if r.site == home.home.site and r.kind == "vitals"
                ]
                for subject in home.subjects
            }
            home.readings = readings
            home.alerts = [
                alert
                for subject, rows in readings.items()
                for alert in threshold_alerts(
                    subject,
                    (VitalReading(subject, r.quantity, r.ts, r.value) for r in rows),
                    self.thresholds,
                )
            ]

    def views(self) -> list[CareHomeView]:
        """Per home: devices online, measurements today, the latest values, the alerts."""
        views: list[CareHomeView] = []
        for home in self._homes:
            rows = sorted((r for rs in home.readings.values() for r in rs), key=lambda r: r.ts)
            online = home.agent.stats.device_online if home.agent is not None else {}
            views.append(
                CareHomeView(
                    site=home.home.site,
                    gateway=home.home.gateway,
                    subjects=sorted(home.subjects),
                    devices_online=sum(1 for device in DEVICE_IDS.values() if online.get(device)),
                    devices=len(DEVICE_IDS),
                    measurements_today=len(
                        {(r.device, r.ts) for r in rows if r.ts >= self._midnight_ms}
                    ),
                    last_values={r.quantity: r.value for r in rows},
                    alerts=[alert.message for alert in home.alerts],
                )
            )
        return views

    def summary(self) -> dict[str, object]:
        """The report's ``care`` section: readings per pseudonymous subject, and the alerts
        (since this run started, or since local midnight if that was earlier)."""
        return {
            "homes": [
                {
                    "site": home.home.site,
                    "gateway": home.home.gateway,
                    "measurement_rounds": home.rounds,
                    "subjects": {
                        subject: {
                            "device": home.subjects[subject],
                            "stored_values": len(rows),
                            "measurements": len({r.ts for r in rows}),
                            "last_values": {r.quantity: r.value for r in sorted(rows, key=_ts)},
                        }
                        for subject, rows in sorted(home.readings.items())
                    },
                    "alerts": [_alert_document(alert) for alert in home.alerts],
                }
                for home in self._homes
            ],
            "thresholds_source": "cloud/health/alert_thresholds.yaml",
        }


def _ts(reading: StoredReading) -> int:
    return reading.ts


def _alert_document(alert: Alert) -> dict[str, object]:
    return {
        "subject": alert.person,
        "rule": alert.rule,
        "quantity": alert.quantity,
        "value": alert.value,
        "threshold": alert.threshold,
        "at": datetime.fromtimestamp(alert.ts / 1000, UTC).isoformat(timespec="seconds"),
        "message": alert.message,
    }


def _pseudonym_key(path: Path) -> Path:
    """The care sites' pseudonym key, created once (mode 0600), so pseudonyms last across runs."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as key:
            key.write(secrets.token_bytes(32).hex() + "\n")
    return path


def care_gateway_config(
    home: CareHome,
    addresses: dict[DeviceKind, str],
    *,
    broker_url: str,
    protocol: Literal["auto", "v5", "v311"],
    data_dir: Path,
    key_file: Path,
) -> GatewayConfig:
    """The gateway config a technician would write for *home*, pointing at its devices."""
    return GatewayConfig(
        site=home.site,
        gateway=home.gateway,
        broker=BrokerConfig(url=broker_url, protocol=protocol),
        outbox=OutboxConfig(path=data_dir / f"outbox-{home.gateway}.sqlite"),
        batching=BatchingConfig(max_age_s=0, max_readings=500),
        commands=CommandsConfig(heartbeat_timeout_s=NO_CHARGERS_TIMEOUT_S),
        devices=[
            BleDevice(kind="ble", id=DEVICE_IDS[kind], profile=kind, address=address)
            for kind, address in addresses.items()
        ],
        vitals=VitalsConfig(pseudonym_key_file=key_file, device_timezone="Asia/Tokyo"),
    )
