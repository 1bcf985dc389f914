"""The edge agent drives BLE vital-sign devices: bleak → bumble devices, vitals → a real Mosquitto.

The real ``Agent`` with its transport on a bumble-backed bleak backend (``simulators.ble``): a BP
monitor's and a glucose meter's measurements arrive as ``vitals/{subject}`` messages whose
subject is the site's HMAC pseudonym of the device, never its address; links that drop in the
middle of a stored-record transfer, and a gateway restart, lose and repeat nothing.
"""

import asyncio
import gc
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from edge import Agent
from edge.ble import BleakTransport, BleConnection, ValueHandler, subject_pseudonym
from edge.config import GatewayConfig, parse_gateway_config
from messages import ConfigError, VitalsPayload, WallClock
from simulators.ble import (
    BloodPressureReading,
    SimulatedAir,
    SimulatedBloodPressureMonitor,
    SimulatedGlucoseMeter,
    SimulatedPulseOximeter,
    SpotCheckReading,
    bind_backends,
)
from tests.support.mosquitto import Mosquitto
from tests.support.recorder import Recorder

pytestmark = pytest.mark.integration

SITE = "home-0412"
KEY = secrets.token_bytes(32)


class Cloud(Recorder):
    """What a collector receives, raw."""

    def vitals(self) -> list[tuple[str, VitalsPayload]]:
        return self.decoded("vitals", VitalsPayload)


@pytest.fixture
def cloud(mosquitto: Mosquitto) -> Iterator[Cloud]:
    subscriber = Cloud(mosquitto.port, client_id="care-cloud")
    time.sleep(0.3)
    yield subscriber
    subscriber.close()


@pytest.fixture
async def air() -> AsyncIterator[SimulatedAir]:
    simulated = SimulatedAir()
    yield simulated
    await simulated.close()
    gc.collect()  # bumble's cyclic garbage, collected here rather than in a later test


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "site.key"
    path.write_text(KEY.hex() + "\n")
    path.chmod(0o600)
    return path


def gateway_config(port: int, tmp_path: Path, key_file: Path, devices: str) -> GatewayConfig:
    return parse_gateway_config(f"""
site: {SITE}
gateway: gw-home-0412
broker:
  url: mqtt://127.0.0.1:{port}
outbox:
  path: {tmp_path / "outbox.sqlite"}
vitals:
  pseudonym_key_file: {key_file}
  device_timezone: Asia/Tokyo
devices:
{devices}""")


async def bumble_transport(air: SimulatedAir) -> BleakTransport:
    scanner, client = bind_backends(await air.add_adapter())
    return BleakTransport(scanner_backend=scanner, client_backend=client, operation_timeout_s=5)


@asynccontextmanager
async def running(agent: Agent) -> AsyncIterator[Agent]:
    task = asyncio.create_task(agent.run())
    try:
        yield agent
    finally:
        agent.stop()
        async with asyncio.timeout(10):
            await task


async def wait_until(condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.02)


class DroppingTransport:
    """The bleak transport, with the link dropped by the device after chosen values arrived.

    The drop is asked for from inside the value handler, so it lands in the middle of the
    transfer, between two stored records, the way a care recipient walking away would.
    """

    def __init__(
        self, inner: BleakTransport, drop: Callable[[], Any], after_values: set[int]
    ) -> None:
        self._inner = inner
        self._drop = drop
        self._after = after_values
        self.values = 0
        self._drops: set[asyncio.Task[None]] = set()

    async def scan(self, *, timeout_s: float, service_uuids: Any = ()) -> Any:
        return await self._inner.scan(timeout_s=timeout_s, service_uuids=service_uuids)

    @asynccontextmanager
    async def connect(self, address: str) -> AsyncIterator[BleConnection]:
        async with self._inner.connect(address) as connection:
            outer = self

            class Counting:
                address = connection.address
                has = connection.has
                read = connection.read
                write = connection.write
                wait_disconnected = connection.wait_disconnected

                async def subscribe(self, uuid: str, handler: ValueHandler) -> None:
                    def on_value(data: bytes) -> None:
                        handler(data)
                        outer.values += 1
                        if outer.values in outer._after:
                            task = asyncio.create_task(outer._drop())
                            outer._drops.add(task)
                            task.add_done_callback(outer._drops.discard)

                    await connection.subscribe(uuid, on_value)

            yield Counting()


def bp(hour: int, systolic: int) -> BloodPressureReading:
    return BloodPressureReading(systolic, 80, 95, 70, datetime(2026, 11, 23, hour, 0, 0))


async def test_a_bp_measurement_arrives_as_vitals_of_the_pseudonymous_subject(
    air: SimulatedAir, cloud: Cloud, mosquitto: Mosquitto, tmp_path: Path, key_file: Path
) -> None:
    monitor = SimulatedBloodPressureMonitor()
    oximeter = SimulatedPulseOximeter()
    bp_address = await air.add_peripheral(monitor)
    ox_address = await air.add_peripheral(oximeter)
    config = gateway_config(mosquitto.port, tmp_path, key_file, f"""\
  - {{kind: ble, id: bp-1, profile: blood_pressure, address: "{bp_address}"}}
  - {{kind: ble, id: ox-1, profile: nonin-3230, device_type: pulse_oximeter,
      address: "{ox_address}"}}
""")  # fmt: skip
    monitor.measure(bp(7, 128))
    # A monitor shared by two residents: each user slot is a subject of its own.
    monitor.measure(BloodPressureReading(150, 90, 110, 80, datetime(2026, 11, 23, 7, 30), 2))
    oximeter.spot_check(SpotCheckReading(96, 66, datetime(2026, 11, 23, 7, 5)))
    agent = Agent(
        config,
        clock=WallClock(),
        ble_transport=await bumble_transport(air),
        outbox_synchronous="NORMAL",
    )
    async with running(agent):
        await wait_until(lambda: len(cloud.vitals()) >= 3)
        await wait_until(lambda: agent.stats.device_online == {"bp-1": True, "ox-1": True})
        await wait_until(lambda: {e["device"] for e in cloud.events()} == {"bp-1", "ox-1"})

    bp_subject = subject_pseudonym(KEY, site=SITE, device_address=bp_address, user_id=1)
    other_resident = subject_pseudonym(KEY, site=SITE, device_address=bp_address, user_id=2)
    ox_subject = subject_pseudonym(KEY, site=SITE, device_address=ox_address)
    by_subject = {payload.subject: (topic, payload) for topic, payload in cloud.vitals()}
    assert set(by_subject) == {bp_subject, other_resident, ox_subject}
    assert by_subject[other_resident][1].observations[0].value == 150
    topic, payload = by_subject[bp_subject]
    assert topic == f"hinode/v1/{SITE}/gw-home-0412/vitals/{bp_subject}"
    assert payload.boot_id == agent.boot_id
    values = {o.quantity: o.value for o in payload.observations}
    assert values == {
        "systolic_mmhg": 128,
        "diastolic_mmhg": 80,
        "mean_arterial_pressure_mmhg": 95,
        "pulse_rate_bpm": 70,
    }
    # The device's own time, local in Tokyo: 07:00 JST is 22:00 UTC the day before.
    assert {o.ts for o in payload.observations} == {
        int(datetime.fromisoformat("2026-11-22T22:00:00+00:00").timestamp() * 1000)
    }
    assert {o.device for o in payload.observations} == {"bp-1"}
    ox_values = {o.quantity: o.value for o in by_subject[ox_subject][1].observations}
    assert ox_values == {"spo2_pct": 96, "pulse_rate_bpm": 66}
    # No device address anywhere on the wire: not in a topic, not in a payload.
    for address in (bp_address, ox_address):
        for wire_topic, wire_payload in cloud.raw():
            for form in (address.upper(), address.lower(), address.replace(":", "").upper()):
                assert form not in wire_topic
                assert form.encode() not in wire_payload
    assert next(e["kind"] for e in cloud.events() if e["device"] == "bp-1") == "device_online"
    assert agent.stats.last_observations["ox-1"] == by_subject[ox_subject][1].observations
    state = next(json.loads(p) for t, p in cloud.raw() if t.endswith("/state"))
    assert {(d["id"], d["kind"]) for d in state["devices"]} == {("bp-1", "ble"), ("ox-1", "ble")}


async def test_a_dropped_link_is_reestablished_and_no_stored_record_is_lost_or_repeated(
    air: SimulatedAir, cloud: Cloud, mosquitto: Mosquitto, tmp_path: Path, key_file: Path
) -> None:
    monitor = SimulatedBloodPressureMonitor()
    address = await air.add_peripheral(monitor)
    for hour in range(6):
        monitor.measure(bp(hour, 110 + hour))
    config = gateway_config(mosquitto.port, tmp_path, key_file, f"""\
  - {{kind: ble, id: bp-1, profile: blood_pressure, address: "{address}"}}
""")  # fmt: skip
    # The link drops twice in the middle of the stored-record transfer.
    transport = DroppingTransport(await bumble_transport(air), monitor.disconnect_all, {2, 5})
    agent = Agent(config, clock=WallClock(), ble_transport=transport, outbox_synchronous="NORMAL")
    async with running(agent):
        await wait_until(lambda: len(cloud.vitals()) == 6 and not monitor.stored.pending)
        monitor.measure(bp(20, 140))  # taken once connected again
        await wait_until(lambda: len(cloud.vitals()) == 7)
        await asyncio.sleep(0.3)  # a repeat, if any, would arrive now
        offline = [e for e in cloud.events() if e["kind"] == "device_offline"]
    systolics = [
        next(o.value for o in payload.observations if o.quantity == "systolic_mmhg")
        for _, payload in cloud.vitals()
    ]
    assert systolics == [110, 111, 112, 113, 114, 115, 140]
    seqs = [payload.seq for _, payload in cloud.vitals()]
    assert seqs == sorted(set(seqs))
    assert len(offline) >= 2  # each drop reported, and each return
    kinds = [e["kind"] for e in cloud.events() if e["device"] == "bp-1"]
    assert kinds[:4] == ["device_online", "device_offline", "device_online", "device_offline"]


async def test_glucose_records_are_fetched_once_across_a_drop_and_a_gateway_restart(
    air: SimulatedAir, cloud: Cloud, mosquitto: Mosquitto, tmp_path: Path, key_file: Path
) -> None:
    meter = SimulatedGlucoseMeter()
    for minute in range(4):
        meter.record(90 + minute, datetime(2026, 11, 23, 7, minute))
    meter.drop_link_after_records = 2
    address = await air.add_peripheral(meter)
    config = gateway_config(mosquitto.port, tmp_path, key_file, f"""\
  - {{kind: ble, id: glucose-1, profile: glucose, address: "{address}"}}
""")  # fmt: skip
    transport = await bumble_transport(air)

    def agent() -> Agent:
        return Agent(
            config, clock=WallClock(), ble_transport=transport, outbox_synchronous="NORMAL"
        )

    def glucose() -> list[float]:
        return [p.observations[0].value for _, p in cloud.vitals()]

    async with running(agent()):
        await wait_until(lambda: len(glucose()) == 4)
    # Measured while the gateway was off; the restarted gateway asks only for what is new.
    meter.record(120, datetime(2026, 11, 23, 12, 0))
    meter.record(118, datetime(2026, 11, 23, 18, 0))
    async with running(agent()) as second:
        await wait_until(lambda: len(glucose()) == 6)
        await asyncio.sleep(0.3)
    assert glucose() == [90, 91, 92, 93, 120, 118]
    assert {p.subject for _, p in cloud.vitals()} == {
        subject_pseudonym(KEY, site=SITE, device_address=address)  # a meter has no user slots
    }
    assert second.stats.observations_received == 2


async def test_a_key_that_others_may_read_stops_the_start(
    mosquitto: Mosquitto, tmp_path: Path, key_file: Path
) -> None:
    key_file.chmod(0o644)
    config = gateway_config(mosquitto.port, tmp_path, key_file, """\
  - {kind: ble, id: bp-1, profile: blood_pressure, address: "AA:BB:CC:DD:EE:FF"}
""")  # fmt: skip
    with pytest.raises(ConfigError, match="mode 0644") as caught:
        await Agent(config, clock=WallClock()).run()
    assert KEY.hex() not in str(caught.value)
    assert not (tmp_path / "outbox.sqlite").exists()
