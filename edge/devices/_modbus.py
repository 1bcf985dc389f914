"""Modbus devices of a gateway config as drivers, one bus owner (``ModbusBus``) per link."""

import contextlib
import logging
import math
from collections.abc import AsyncIterator, Mapping
from typing import Literal

from edge.config import GatewayConfig, ModbusRtuDevice, ModbusTcpDevice, PointLimit
from edge.devices._port import DeviceDriver, DeviceStatus, PointLimits, StatusSink
from edge.modbus import (
    DeviceEvent,
    Link,
    ModbusBus,
    ModbusDevice,
    Profile,
    RtuOverTcpLink,
    SerialLink,
    TcpLink,
    WritablePoint,
    load_profile,
)
from messages import Clock, ConfigError, Reading

log = logging.getLogger(__name__)


class ModbusDriver:
    """A :class:`edge.modbus.ModbusDevice` behind the driver port."""

    def __init__(
        self, config: ModbusTcpDevice | ModbusRtuDevice, device: ModbusDevice, profile: Profile
    ) -> None:
        self._config = config
        self._device = device
        self._points = {
            point.name: _limits(point, config.limits.get(point.name)) for point in profile.writable
        }

    @property
    def id(self) -> str:
        return self._config.id

    @property
    def kind(self) -> Literal["modbus_tcp", "modbus_rtu"]:
        return self._config.kind

    @property
    def model(self) -> str:
        return self._config.profile

    @property
    def poll_interval_s(self) -> float:
        return self._config.poll_interval_s

    @property
    def points(self) -> Mapping[str, PointLimits]:
        return self._points

    async def poll(self) -> list[Reading]:
        return await self._device.poll()

    async def write(self, point: str, value: float) -> float | None:
        return await self._device.write(point, value)


def _limits(point: WritablePoint, narrower: PointLimit | None) -> PointLimits:
    return PointLimits(
        allowed=tuple((r.min, r.max) for r in point.allowed),
        unit=point.unit,
        fail_safe=point.fail_safe_value,
        floor=narrower.min if narrower is not None and narrower.min is not None else -math.inf,
        ceiling=narrower.max if narrower is not None and narrower.max is not None else math.inf,
    )


def check_profiles(config: GatewayConfig) -> None:
    """Load every Modbus device's profile now; ConfigError names the device's YAML path."""
    for index, device in enumerate(config.devices):
        if isinstance(device, ModbusTcpDevice | ModbusRtuDevice):
            try:
                load_profile(device.profile)
            except ConfigError as exc:
                raise ConfigError(f"devices[{index}].profile: {exc}") from None


def link_of(device: ModbusTcpDevice | ModbusRtuDevice) -> Link:
    if isinstance(device, ModbusRtuDevice):
        return SerialLink(
            device.serial,
            device.baud,
            device.parity,
            device.stopbits,
            device.bytesize,
        )
    if device.framer == "rtu":
        return RtuOverTcpLink(device.host, device.port)
    return TcpLink(device.host, device.port)


@contextlib.asynccontextmanager
async def open_drivers(
    config: GatewayConfig, *, clock: Clock, on_status: StatusSink
) -> AsyncIterator[list[DeviceDriver]]:
    """Open one bus owner per link and yield a driver per Modbus device.

    BLE and GNSS devices are not polled: the agent runs them as their own tasks.
    """

    def forward(event: DeviceEvent) -> None:
        on_status(
            DeviceStatus(
                device=event.device,
                online=event.kind == "device_online",
                reason=event.reason,
                ts=event.ts,
            )
        )

    modbus = [d for d in config.devices if isinstance(d, ModbusTcpDevice | ModbusRtuDevice)]
    by_link: dict[Link, list[ModbusTcpDevice | ModbusRtuDevice]] = {}
    for device in modbus:
        by_link.setdefault(link_of(device), []).append(device)
    drivers: list[DeviceDriver] = []
    async with contextlib.AsyncExitStack() as stack:
        for link, devices in by_link.items():
            bus = await stack.enter_async_context(
                ModbusBus(
                    link,
                    clock=clock,
                    timeout_s=min(d.timeout_s for d in devices),
                    on_event=forward,
                )
            )
            for device in devices:
                profile = load_profile(device.profile)
                unit = bus.device(device.unit, profile, name=device.id)
                drivers.append(ModbusDriver(device, unit, profile))
        yield drivers
