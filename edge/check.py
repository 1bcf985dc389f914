"""``hinode edge check``: is the broker reachable, does every device answer? One line each."""

import asyncio
from dataclasses import dataclass

from edge._check_radio import check_ble, check_gnss
from edge.agent import DriverFactory, modbus_drivers, session_settings
from edge.ble import BleTransport
from edge.config import BleDevice, GatewayConfig, GnssDevice
from edge.devices import DeviceDriver, DeviceStatus
from edge.devices._ble import default_ble_transport
from edge.uplink import probe_broker
from messages import Clock, HinodeError, Reading, unit_of


@dataclass(frozen=True, slots=True)
class CheckLine:
    """One thing checked: the broker or a device."""

    name: str
    ok: bool
    detail: str


async def check_gateway(
    config: GatewayConfig,
    *,
    clock: Clock,
    drivers: DriverFactory | None = None,
    ble_transport: BleTransport | None = None,
    timeout_s: float = 10.0,
) -> list[CheckLine]:
    """Connect to the broker once and try every device once; never raises for a failure.

    Modbus devices are polled; BLE devices must be seen advertising (one scan for all);
    GNSS receivers must deliver a valid fix.
    """
    lines: list[CheckLine] = []
    try:
        async with asyncio.timeout(timeout_s):
            protocol = await probe_broker(session_settings(config), protocol=config.broker.protocol)
        lines.append(CheckLine("broker", ok=True, detail=f"{config.broker.url} (MQTT {protocol})"))
    except (HinodeError, TimeoutError) as exc:
        lines.append(CheckLine("broker", ok=False, detail=f"{config.broker.url}: {_why(exc)}"))
    ble_devices = [device for device in config.devices if isinstance(device, BleDevice)]
    advertising: dict[str, tuple[bool, str]] = {}
    if ble_devices:
        transport = ble_transport or default_ble_transport()
        advertising = await check_ble(ble_devices, transport, timeout_s)
    opener = drivers or modbus_drivers
    try:
        async with opener(config, clock, _ignore_status) as opened:
            by_id = {driver.id: driver for driver in opened}
            for device in config.devices:
                driver = by_id.get(device.id)
                if driver is not None:
                    lines.append(await _try(driver, timeout_s))
                elif isinstance(device, GnssDevice):
                    ok, detail = await check_gnss(device, timeout_s)
                    lines.append(CheckLine(device.id, ok=ok, detail=detail))
                elif device.id in advertising:
                    ok, detail = advertising[device.id]
                    lines.append(CheckLine(device.id, ok=ok, detail=detail))
                else:
                    lines.append(CheckLine(device.id, ok=False, detail="no driver for this device"))
    except HinodeError as exc:
        lines.append(CheckLine("devices", ok=False, detail=str(exc)))
    return lines


async def _try(driver: DeviceDriver, timeout_s: float) -> CheckLine:
    try:
        async with asyncio.timeout(timeout_s):
            readings = await driver.poll()
    except (HinodeError, TimeoutError) as exc:
        return CheckLine(driver.id, ok=False, detail=_why(exc))
    if not readings:
        return CheckLine(driver.id, ok=False, detail="answered but produced no readings")
    detail = f"{len(readings)} readings, e.g. {_sample(readings)}"
    return CheckLine(driver.id, ok=True, detail=detail)


def _sample(readings: list[Reading]) -> str:
    power = [r for r in readings if r.quantity == "active_power_w"]
    first = next((r for r in power if r.phase is None), power[0] if power else readings[0])
    phase = f"[{first.phase}]" if first.phase else ""
    return f"{first.quantity}{phase}={first.value:g} {unit_of(first.quantity)}"


def _why(exc: BaseException) -> str:
    return str(exc) or ("timed out" if isinstance(exc, TimeoutError) else type(exc).__name__)


def _ignore_status(status: DeviceStatus) -> None:
    del status
