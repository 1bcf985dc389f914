"""The simulated air: bumble controllers on one local link, no radio needed.

Every simulated device and every gateway adapter is a bumble ``Device`` with its own
``Controller``; the controllers share a ``LocalLink`` that carries advertising, connections
and ATT traffic between them in-process.
"""

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
        self._controllers: dict[str, Controller] = {}
        self._devices: list[Device] = []
        self._address_source = _addresses()

    def _new_device(self, name: str, address: str) -> Device:
        controller = Controller(name, link=self.link, public_address=address)
        self._controllers[address] = controller
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
        return address

    async def out_of_range(self, address: str) -> None:
        """The device is carried away: its links drop and nobody hears it any more.

        Its controller moves to a link of its own, so it may go on advertising (bumble restarts
        advertising after a lost link) without being seen, as a device in another room.
        """
        await self.peripherals[address].disconnect_all()
        controller = self._controllers[address]
        self.link.remove_controller(controller)
        controller.link = LocalLink()  # type: ignore[no-untyped-call]  # bumble leaves it untyped

    async def back_in_range(self, address: str) -> None:
        """The device is back within reach (it kept what it stored meanwhile)."""
        controller = self._controllers[address]
        controller.link = self.link
        self.link.add_controller(controller)

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
