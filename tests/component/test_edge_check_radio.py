"""``hinode edge check`` for BLE and GNSS devices, against bumble devices and a pty receiver."""

import asyncio
import gc
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from edge._check_radio import check_ble, check_gnss
from edge.ble import BleakTransport
from edge.config import BleDevice, GnssDevice
from simulators.ble import SimulatedAir, SimulatedBloodPressureMonitor, bind_backends
from simulators.vehicles import NmeaPty, ReceiverEpoch, encode_epoch

START = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)


async def talk(pty: NmeaPty, *, has_fix: bool) -> None:
    # pyserial flushes its input when the port opens, so the receiver keeps talking.
    for second in range(600):
        utc = START + timedelta(seconds=second)
        epoch = ReceiverEpoch(utc, 36.5946, 136.6256, 1.2, 90.0, has_fix=has_fix)
        pty.write(encode_epoch(epoch))
        await asyncio.sleep(0.1)


def receiver(serial: str) -> GnssDevice:
    return GnssDevice(kind="gnss", id="shuttle-1", profile="nmea", serial=serial)


@pytest.mark.parametrize(
    ("has_fix", "expected"), [(True, (True, "fix 36.59460, 136.62560")), (False, (False, "no fix"))]
)
async def test_a_receiver_is_ok_only_with_a_valid_fix(
    has_fix: bool, expected: tuple[bool, str]
) -> None:
    with NmeaPty() as pty:
        talker = asyncio.create_task(talk(pty, has_fix=has_fix))
        try:
            ok, detail = await check_gnss(receiver(pty.port_name), timeout_s=3)
        finally:
            talker.cancel()
    assert ok is expected[0]
    assert detail.startswith(expected[1]), detail


async def test_a_missing_receiver_says_why() -> None:
    ok, detail = await check_gnss(receiver("/dev/does-not-exist"), timeout_s=2)
    assert not ok
    assert "cannot open" in detail


@pytest.fixture
async def air() -> AsyncIterator[SimulatedAir]:
    simulated = SimulatedAir()
    yield simulated
    await simulated.close()
    gc.collect()  # bumble's cyclic garbage, collected here rather than in a later test


async def test_ble_devices_are_ok_when_seen_advertising(air: SimulatedAir) -> None:
    address = await air.add_peripheral(SimulatedBloodPressureMonitor())
    scanner, client = bind_backends(await air.add_adapter())
    transport = BleakTransport(scanner_backend=scanner, client_backend=client)
    present = BleDevice(
        kind="ble", id="bp-1", profile="bp", device_type="blood_pressure", address=address
    )
    absent = BleDevice(
        kind="ble",
        id="ox-1",
        profile="ox",
        device_type="pulse_oximeter",
        address="00:1C:05:FF:3A:09",
    )
    results = await check_ble([present, absent], transport, timeout_s=2)
    assert results["bp-1"][0] is True
    assert results["bp-1"][1].startswith("advertising")
    assert results["ox-1"] == (False, "not seen advertising within 2 s")
