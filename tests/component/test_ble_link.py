"""The gateway's bleak code path against simulated devices on bumble's in-process link.

bleak client → bumble-backed bleak backend → bumble controllers on a LocalLink → bumble GATT
servers of a BP monitor, a pulse oximeter and a glucose meter. Nothing is mocked.
"""

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from edge.ble import (
    DEVICE_KINDS,
    Backoff,
    BleakTransport,
    DeviceSession,
    Received,
    observations,
    subject_pseudonym,
)
from messages import VitalsPayload, WallClock
from simulators.ble import (
    BloodPressureReading,
    SimulatedAir,
    SimulatedBloodPressureMonitor,
    SimulatedGlucoseMeter,
    SimulatedHeartRateSensor,
    SimulatedPulseOximeter,
    SimulatedThermometer,
    SimulatedWeightScale,
    SpotCheckReading,
    TemperatureReading,
    WeightReading,
    bind_backends,
)

FAST = Backoff(initial_s=0.05, maximum_s=0.2)
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
async def air() -> AsyncIterator[SimulatedAir]:
    simulated = SimulatedAir()
    yield simulated
    await simulated.close()
    # bumble leaves cyclic garbage with finalizers; collected here, they cannot run in the
    # middle of a later compile() (CPython 3.11 then fails with "AST constructor recursion
    # depth mismatch").
    gc.collect()


async def transport_on(air: SimulatedAir) -> BleakTransport:
    scanner, client = bind_backends(await air.add_adapter())
    return BleakTransport(scanner_backend=scanner, client_backend=client, operation_timeout_s=5)


async def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


async def keep_sending(
    send: Callable[[], Awaitable[None]], until: Callable[[], bool], timeout_s: float = 10.0
) -> None:
    async with asyncio.timeout(timeout_s):
        while not until():
            await send()
            await asyncio.sleep(0.02)


class Running:
    """A device session running in the background for the duration of a test."""

    def __init__(self, session: DeviceSession) -> None:
        self.session = session
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> DeviceSession:
        self._task = asyncio.create_task(self.session.run())
        return self.session

    async def __aexit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def bp_reading(hour: int, systolic: int, *, irregular: bool = False) -> BloodPressureReading:
    return BloodPressureReading(
        systolic, 80, 95, 70, datetime(2026, 11, 23, hour, 0, 0), irregular_pulse=irregular
    )


async def test_scan_finds_the_simulated_devices_and_their_services(air: SimulatedAir) -> None:
    bp_address = await air.add_peripheral(SimulatedBloodPressureMonitor())
    ox_address = await air.add_peripheral(SimulatedPulseOximeter())
    transport = await transport_on(air)
    found = {ad.address: ad for ad in await transport.scan(timeout_s=0.3)}
    assert found[bp_address].name == "Hinode-BP"
    assert found[bp_address].service_uuids == ("00001810-0000-1000-8000-00805f9b34fb",)
    assert found[ox_address].service_uuids == ("00001822-0000-1000-8000-00805f9b34fb",)
    only_bp = await transport.scan(
        timeout_s=0.3, service_uuids=["00001810-0000-1000-8000-00805f9b34fb"]
    )
    assert [ad.address for ad in only_bp] == [bp_address]


async def test_blood_pressure_indications_are_decoded_and_become_a_vitals_payload(
    air: SimulatedAir,
) -> None:
    monitor = SimulatedBloodPressureMonitor()
    address = await air.add_peripheral(monitor)
    transport = await transport_on(air)
    received: list[Received] = []
    monitor.measure(bp_reading(7, 128, irregular=True))
    session = DeviceSession(
        transport, address, DEVICE_KINDS["blood_pressure"], received.append, WallClock(),
        backoff=FAST,
    )  # fmt: skip
    async with Running(session):
        await wait_until(lambda: len(received) == 1)
        # Live cuff pressure while the next measurement runs; a live value sent before the
        # gateway subscribed is simply not seen, so the cuff keeps reporting.
        await keep_sending(lambda: monitor.inflate(145), until=lambda: len(received) == 2)
    measurement = received[0].measurement
    assert measurement.values["systolic_mmhg"] == 128
    assert measurement.values["timestamp"] == "2026-11-23T07:00:00"
    assert measurement.status == ("irregular_pulse_detected",)
    assert received[1].measurement.values["cuff_pressure_mmhg"] == 145

    obs = observations(
        measurement, device="bp-1", received_at_ms=received[0].received_at_ms, device_tz=TOKYO
    )
    payload = VitalsPayload(
        gateway="gw-home-0412", boot_id="9f1c2a7b3d4e5f60", seq=1,
        sent_at=received[0].received_at_ms,
        subject=subject_pseudonym(b"site-key-home-0412", site="home-0412", device_address=address),
        observations=obs,
    )  # fmt: skip
    assert {o.quantity for o in payload.observations} == {
        "systolic_mmhg",
        "diastolic_mmhg",
        "mean_arterial_pressure_mmhg",
        "pulse_rate_bpm",
    }


async def test_pulse_oximeter_spot_checks_and_stream_are_decoded(air: SimulatedAir) -> None:
    oximeter = SimulatedPulseOximeter()
    address = await air.add_peripheral(oximeter)
    transport = await transport_on(air)
    received: list[Received] = []
    oximeter.spot_check(SpotCheckReading(96, 66, datetime(2026, 11, 23, 7, 5), low_perfusion=True))
    session = DeviceSession(
        transport, address, DEVICE_KINDS["pulse_oximeter"], received.append, WallClock(),
        backoff=FAST,
    )  # fmt: skip
    async with Running(session):
        await wait_until(lambda: len(received) == 1)
        await keep_sending(lambda: oximeter.stream(95, 68), until=lambda: len(received) >= 2)
    spot, live = (r.measurement for r in received[:2])
    assert spot.characteristic == "plx_spot_check_measurement"
    assert (spot.values["spo2_pct"], spot.values["pulse_rate_bpm"]) == (96, 66)
    assert spot.status == ("low_perfusion_detected",)
    assert live.characteristic == "plx_continuous_measurement"
    assert (live.values["spo2_pct"], live.values["pulse_rate_bpm"]) == (95, 68)


async def test_a_dropped_link_is_reestablished_and_no_stored_record_is_lost_or_repeated(
    air: SimulatedAir,
) -> None:
    monitor = SimulatedBloodPressureMonitor()
    address = await air.add_peripheral(monitor)
    transport = await transport_on(air)
    for hour in range(6):
        monitor.measure(bp_reading(hour, 110 + hour))
    received: list[Received] = []
    drops: list[asyncio.Task[None]] = []

    def deliver(item: Received) -> None:
        received.append(item)
        if len(received) in {2, 5}:  # the link drops in the middle of the transfer, twice
            drops.append(asyncio.create_task(monitor.disconnect_all()))

    session = DeviceSession(
        transport, address, DEVICE_KINDS["blood_pressure"], deliver, WallClock(), backoff=FAST
    )
    async with Running(session):
        await wait_until(lambda: session.connections >= 3 and not monitor.stored.pending)
        monitor.measure(bp_reading(20, 140))  # taken while connected again
        await wait_until(lambda: len({r.measurement.values["timestamp"] for r in received}) == 7)
        await asyncio.sleep(0.2)  # a repeat, if any, would arrive now
    await asyncio.gather(*drops)
    systolics = [r.measurement.values["systolic_mmhg"] for r in received]
    assert systolics == [110, 111, 112, 113, 114, 115, 140]
    assert session.connections >= 3


async def test_glucose_records_are_fetched_by_racp_once_across_a_drop(air: SimulatedAir) -> None:
    meter = SimulatedGlucoseMeter()
    for minute in range(5):
        meter.record(
            90 + minute, datetime(2026, 11, 23, 7, minute), meal=1 if minute == 2 else None
        )
    meter.drop_link_after_records = 3  # the first transfer breaks after three records
    address = await air.add_peripheral(meter)
    transport = await transport_on(air)
    received: list[Received] = []
    session = DeviceSession(
        transport, address, DEVICE_KINDS["glucose"], received.append, WallClock(), backoff=FAST
    )
    glucose = lambda: [  # noqa: E731
        r.measurement for r in received if r.measurement.characteristic == "glucose_measurement"
    ]
    async with Running(session):
        await wait_until(lambda: len(glucose()) == 5)
        meter.record(120, datetime(2026, 11, 23, 12, 0))
        await meter.disconnect_all()  # next connection asks only for sequence ≥ 6
        await wait_until(lambda: len(glucose()) == 6)
        await asyncio.sleep(0.2)
    assert [m.values["sequence_number"] for m in glucose()] == [1, 2, 3, 4, 5, 6]
    assert [m.values["glucose_mg_dl"] for m in glucose()] == [90, 91, 92, 93, 94, 120]
    contexts = [r.measurement for r in received if r.measurement.characteristic.endswith("context")]
    assert [(c.values["sequence_number"], c.values["meal"]) for c in contexts] == [
        (3, "preprandial")
    ]
    assert session.connections >= 3


async def test_two_devices_share_one_adapter(air: SimulatedAir) -> None:
    monitor = SimulatedBloodPressureMonitor()
    oximeter = SimulatedPulseOximeter()
    bp_address = await air.add_peripheral(monitor)
    ox_address = await air.add_peripheral(oximeter)
    transport = await transport_on(air)  # one adapter: connections are set up one at a time
    received: list[Received] = []
    monitor.measure(bp_reading(8, 125))
    oximeter.spot_check(SpotCheckReading(97, 61, datetime(2026, 11, 23, 8, 1)))
    sessions = [
        DeviceSession(transport, bp_address, DEVICE_KINDS["blood_pressure"], received.append,
                      WallClock(), backoff=FAST),
        DeviceSession(transport, ox_address, DEVICE_KINDS["pulse_oximeter"], received.append,
                      WallClock(), backoff=FAST),
    ]  # fmt: skip
    async with Running(sessions[0]), Running(sessions[1]):
        await wait_until(lambda: len(received) == 2)
    assert {r.address for r in received} == {bp_address, ox_address}


async def test_thermometer_scale_and_heart_rate_sensor_reach_the_gateway_decoded(
    air: SimulatedAir,
) -> None:
    thermometer = SimulatedThermometer()
    scale = SimulatedWeightScale()
    heart = SimulatedHeartRateSensor()
    addresses = {
        "health_thermometer": await air.add_peripheral(thermometer),
        "weight_scale": await air.add_peripheral(scale),
        "heart_rate": await air.add_peripheral(heart),
    }
    thermometer.measure(TemperatureReading(38.2, datetime(2026, 11, 23, 6, 30)))
    scale.weigh(WeightReading(61.35, datetime(2026, 11, 23, 6, 40), bmi=23.4, height_m=1.62))
    transport = await transport_on(air)
    received: list[Received] = []
    sessions = [
        DeviceSession(transport, address, DEVICE_KINDS[kind], received.append, WallClock(),
                      backoff=FAST)
        for kind, address in addresses.items()
    ]  # fmt: skip
    by_characteristic = lambda: {r.measurement.characteristic: r for r in received}  # noqa: E731
    async with Running(sessions[0]), Running(sessions[1]), Running(sessions[2]):
        await wait_until(lambda: len(received) >= 2)
        await keep_sending(
            lambda: heart.beat(72, (0.8, 0.85)),
            until=lambda: "heart_rate_measurement" in by_characteristic(),
        )
    values = {name: r.measurement.values for name, r in by_characteristic().items()}
    assert values["temperature_measurement"]["body_temp_c"] == 38.2
    assert values["temperature_measurement"]["temperature_type"] == "mouth"
    assert values["weight_measurement"]["weight_kg"] == 61.35
    assert values["weight_measurement"]["bmi"] == 23.4
    assert values["weight_measurement"]["height_m"] == 1.62
    assert values["heart_rate_measurement"]["heart_rate_bpm"] == 72
    assert values["heart_rate_measurement"]["rr_intervals_s"] == [0.7998046875, 0.8496093750]


async def test_a_device_out_of_range_is_retried_with_backoff_until_it_returns(
    air: SimulatedAir,
) -> None:
    monitor = SimulatedBloodPressureMonitor()
    address = await air.add_peripheral(monitor)
    scanner, client = bind_backends(await air.add_adapter())
    # Short connect timeout: a device that does not advertise is given up on quickly.
    transport = BleakTransport(
        scanner_backend=scanner, client_backend=client, connect_timeout_s=0.5,
        operation_timeout_s=2, connect_attempts=1,
    )  # fmt: skip
    await transport.scan(timeout_s=0.2)
    received: list[Received] = []
    changes: list[bool] = []
    session = DeviceSession(
        transport, address, DEVICE_KINDS["blood_pressure"], received.append, WallClock(),
        backoff=FAST, on_status=lambda online, _reason: changes.append(online),
    )  # fmt: skip
    async with Running(session):
        await wait_until(lambda: changes == [True])
        await air.out_of_range(address)
        monitor.measure(bp_reading(9, 133))  # taken in another room
        await wait_until(lambda: changes == [True, False])
        await asyncio.sleep(1.5)  # several failed attempts meanwhile
        assert session.connections == 1
        await air.back_in_range(address)
        await wait_until(lambda: len(received) == 1)
    assert changes == [True, False, True]
    assert received[0].measurement.values["systolic_mmhg"] == 133
