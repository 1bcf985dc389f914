"""The simulated air: bumble controllers on one local link, no radio needed.

Every simulated device and every gateway adapter is a bumble ``Device`` with its own
``Controller``; the controllers share a ``LocalLink`` that carries advertising, connections
and ATT traffic between them in-process.
"""

import asyncio
import contextlib
import struct
from collections.abc import Iterator

from bumble.controller import Controller
from bumble.core import AdvertisingData, BaseBumbleError
from bumble.device import Device
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from simulators.ble._devices import SimulatedDevice

_GENERAL_DISCOVERABLE_NO_BR_EDR = 0x06
#: The fastest interval the Core specification allows (20 ms): simulated scans end quickly.
_ADVERTISING_INTERVAL_MS = 20.0
_RESTART_WAIT_S = 2.0


def _addresses() -> Iterator[str]:
    serial = 0
    while True:
        serial += 1
        yield ":".join(["D0", *(f"{(serial >> shift) & 0xFF:02X}" for shift in (32, 24, 16, 8, 0))])


class SimulatedAir:
    """Hosts simulated peripherals and gateway adapters on one in-process link."""

    def __init__(self) -> None:
        self.link = LocalLink()  # type: ignore[no-untyped-call]  # bumble leaves it untyped
        self.peripherals: dict[str, SimulatedDevice] = {}
        self._peripheral_devices: dict[str, Device] = {}
        self._devices: list[Device] = []
        self._address_source = _addresses()

    def _new_device(self, name: str, address: str) -> Device:
        controller = Controller(name, link=self.link, public_address=address)
        device = Device(
            name=name, address=Address(address), host=Host(controller, AsyncPipeSink(controller))
        )
        self._devices.append(device)
        return device

    async def add_peripheral(self, simulator: SimulatedDevice, address: str | None = None) -> str:
        """Power the simulated device on and let it advertise; return its address."""
        address = address or next(self._address_source)
        device = self._new_device(simulator.name, address)
        device.add_services(simulator.services())
        simulator.attach(device)
        await device.power_on()
        self.peripherals[address] = simulator
        self._peripheral_devices[address] = device
        await self._advertise(device, simulator)
        return address

    async def _advertise(self, device: Device, simulator: SimulatedDevice) -> None:
        advertising = AdvertisingData(
            [
                (AdvertisingData.FLAGS, bytes([_GENERAL_DISCOVERABLE_NO_BR_EDR])),
                (AdvertisingData.COMPLETE_LOCAL_NAME, simulator.name.encode()),
                (
                    AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                    struct.pack("<H", simulator.service_uuid),
                ),
            ]
        )
        # auto_restart: a peripheral advertises again as soon as a link drops, as devices do.
        await device.start_advertising(
            advertising_data=bytes(advertising),
            auto_restart=True,
            advertising_interval_min=_ADVERTISING_INTERVAL_MS,
            advertising_interval_max=_ADVERTISING_INTERVAL_MS,
        )

    async def out_of_range(self, address: str) -> None:
        """The device is carried away: its links drop and it is no longer seen advertising."""
        device = self._peripheral_devices[address]
        simulator = self.peripherals[address]
        advertising = device.legacy_advertising_set
        had_links = bool(simulator.connections())
        await simulator.disconnect_all()
        # bumble restarts advertising after each lost link (auto_restart) in a task of its own;
        # stopping before that restart happened would be undone by it.
        if had_links and advertising is not None:
            async with asyncio.timeout(_RESTART_WAIT_S):
                while not advertising.enabled:  # noqa: ASYNC110 - bumble emits no event for it
                    await asyncio.sleep(0.005)
        await device.stop_advertising()

    async def back_in_range(self, address: str) -> None:
        """The device is back: it advertises again (and keeps what it stored meanwhile)."""
        await self._advertise(self._peripheral_devices[address], self.peripherals[address])

    async def add_adapter(self, address: str | None = None) -> Device:
        """A gateway's Bluetooth adapter (the central side), powered on."""
        device = self._new_device("gateway-adapter", address or next(self._address_source))
        await device.power_on()
        return device

    async def close(self) -> None:
        """Drop every link and power every device off; nothing is left running."""
        for simulator in self.peripherals.values():
            await simulator.disconnect_all()
            simulator.stop()
        for device in self._devices:
            with contextlib.suppress(BaseBumbleError, TimeoutError):
                await device.power_off()
