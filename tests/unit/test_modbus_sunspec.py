"""SunSpec discovery over an in-memory register image: marker bases, chain walk, read plan."""

import asyncio
from collections.abc import Sequence

import pytest

from edge.modbus import ModbusBus, TcpLink, load_profile
from edge.modbus._codec import encode_number
from edge.modbus._planner import Table
from edge.modbus._sunspec import model_layout
from messages import DeviceError, ScaledClock


class SunSpecImage:
    """Holding registers of a device whose SunSpec chain starts at *base*; elsewhere exception 2."""

    def __init__(self, base: int, models: Sequence[int]) -> None:
        self.words: dict[int, int] = {base: 0x5375, base + 1: 0x6E53}
        self.address_of: dict[int, int] = {}
        address = base + 2
        for model_id in models:
            length = sum(p.size for p in model_layout(model_id)) - 2
            self.address_of[model_id] = address
            self.words[address], self.words[address + 1] = model_id, length
            for offset in range(2, length + 2):
                self.words[address + offset] = 0
            address += 2 + length
        self.words[address], self.words[address + 1] = 0xFFFF, 0

    def put(self, model_id: int, point: str, words: list[int]) -> None:
        offset = next(p.offset for p in model_layout(model_id) if p.name == point)
        for i, word in enumerate(words):
            self.words[self.address_of[model_id] + offset + i] = word

    async def connect(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def read(self, unit: int, table: Table, address: int, count: int) -> list[int]:
        await asyncio.sleep(0)
        if table != "holding" or any(a not in self.words for a in range(address, address + count)):
            raise DeviceError(f"unit {unit}: exception response 2 (illegal data address)")
        return [self.words[a] for a in range(address, address + count)]

    async def write(self, unit: int, address: int, words: Sequence[int], *, single: bool) -> None:
        raise DeviceError("read only")


@pytest.mark.parametrize("base", [40000, 0, 50000])
async def test_discovery_finds_the_marker_at_each_base_and_reads_a_float_inverter(
    base: int,
) -> None:
    image = SunSpecImage(base, [1, 113, 120])
    image.put(113, "W", encode_number(4200.5, "f32", "big"))
    image.put(113, "WH", encode_number(1.5e6, "f32", "big"))
    image.put(113, "PhVphA", encode_number(229.5, "f32", "big"))
    image.put(113, "St", [4])
    bus = ModbusBus(TcpLink("192.0.2.1"), clock=ScaledClock(), transport=image)
    async with bus:
        inverter = bus.device(1, load_profile("sunspec"), name="pv-1")
        readings = {(r.quantity, r.phase): r.value for r in await inverter.poll()}
        assert bus.is_online(1) is True  # the exception responses while probing were answers
    assert readings[("active_power_w", None)] == pytest.approx(-4200.5)
    assert readings[("energy_export_wh", None)] == pytest.approx(1.5e6)
    assert readings[("voltage_v", "l1")] == pytest.approx(229.5)
    assert readings[("operating_state", None)] == 4


async def test_integer_points_use_their_scale_factor_and_skip_not_implemented() -> None:
    image = SunSpecImage(40000, [1, 203])
    image.put(203, "W", encode_number(-1234, "s16", "big"))
    image.put(203, "W_SF", encode_number(1, "s16", "big"))
    image.put(203, "Hz", encode_number(5002, "s16", "big"))
    image.put(203, "Hz_SF", encode_number(-2, "s16", "big"))
    image.put(203, "TotWhImp", encode_number(987_654, "u32", "big"))
    image.put(203, "TotWh_SF", encode_number(0, "s16", "big"))
    image.put(203, "VA", [0x8000])  # int16 "not implemented"
    bus = ModbusBus(TcpLink("192.0.2.1"), clock=ScaledClock(), transport=image)
    async with bus:
        meter = bus.device(2, load_profile("sunspec"))
        readings = {(r.quantity, r.phase): r.value for r in await meter.poll()}
        assert len(meter.plan()) == 1  # the whole meter model in one block read
    assert readings[("active_power_w", None)] == pytest.approx(-12_340.0)
    assert readings[("frequency_hz", None)] == pytest.approx(50.02)
    assert readings[("energy_import_wh", None)] == pytest.approx(987_654.0)
    assert ("apparent_power_va", None) not in readings


async def test_a_device_without_the_marker_is_a_device_error() -> None:
    image = SunSpecImage(40000, [1, 103])
    image.words[40000] = 0
    bus = ModbusBus(TcpLink("192.0.2.1"), clock=ScaledClock(), transport=image)
    async with bus:
        with pytest.raises(DeviceError, match="no SunSpec marker"):
            await bus.device(3, load_profile("sunspec")).discover()
