"""``hinode edge check``: is the broker reachable, does every device answer? One line each."""

import asyncio
from dataclasses import dataclass

from edge.agent import DriverFactory, modbus_drivers, session_settings
from edge.config import GatewayConfig
from edge.devices import DeviceDriver, DeviceStatus
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
    timeout_s: float = 10.0,
) -> list[CheckLine]:
    """Connect to the broker once and poll every device once; never raises for a failure."""
    lines: list[CheckLine] = []
    try:
        async with asyncio.timeout(timeout_s):
            protocol = await probe_broker(session_settings(config), protocol=config.broker.protocol)
        lines.append(CheckLine("broker", ok=True, detail=f"{config.broker.url} (MQTT {protocol})"))
    except (HinodeError, TimeoutError) as exc:
        lines.append(CheckLine("broker", ok=False, detail=f"{config.broker.url}: {_why(exc)}"))
    opener = drivers or modbus_drivers
    try:
        async with opener(config, clock, _ignore_status) as opened:
            by_id = {driver.id: driver for driver in opened}
            for device in config.devices:
                driver = by_id.get(device.id)
                if driver is None:
                    detail = f"{device.kind}: not driven yet"
                    lines.append(CheckLine(device.id, ok=False, detail=detail))
                    continue
                lines.append(await _try(driver, timeout_s))
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
