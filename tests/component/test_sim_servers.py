"""The simulators as a plain pymodbus client sees them: TCP, RTU over TCP, RTU on a pty pair."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from pymodbus import FramerType
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.client.base import ModbusBaseClient
from pymodbus.exceptions import ModbusIOException
from sunspec2.modbus.client import SunSpecModbusClientDeviceTCP

from simulators.modbus import ModbusSimServer, NullModem, SimulatedDevice, create_device

NOW = 1_781_503_200.0  # 2026-06-15 15:00 JST, a Monday: sun up, factory running
DT = ModbusBaseClient.DATATYPE
SUNSPEC_BASE = 40000
SDM630, EM24, INVERTER, KEBA, SUNSPEC_METER = 1, 2, 3, 4, 7


def _fleet() -> dict[int, SimulatedDevice]:
    now = lambda: NOW  # noqa: E731 - a frozen clock
    return {
        SDM630: create_device("sdm630", now=now, seed=1),
        EM24: create_device("em24", now=now, load="public", seed=2),
        INVERTER: create_device("sunspec_inverter", now=now, seed=3),
        KEBA: create_device("keba_p30", now=now, seed=4),
        SUNSPEC_METER: create_device("sunspec_meter", now=now, load="home", seed=7),
    }


@asynccontextmanager
async def served(
    transport: str, timeout: float = 1.0
) -> AsyncIterator[tuple[ModbusBaseClient, ModbusSimServer]]:
    """A server of the fleet and a connected pymodbus client of the matching kind."""
    devices = _fleet()
    client: ModbusBaseClient
    if transport == "serial":
        async with NullModem() as cable:
            server = ModbusSimServer(
                devices, now=lambda: NOW, transport="serial", serial_port=cable.a, baudrate=38400
            )
            async with server:
                client = AsyncModbusSerialClient(
                    cable.b, baudrate=38400, timeout=timeout, retries=0
                )
                assert await client.connect()
                yield client, server
                client.close()
        return
    async with ModbusSimServer(devices, now=lambda: NOW, transport=transport) as server:
        framer = FramerType.SOCKET if transport == "tcp" else FramerType.RTU
        client = AsyncModbusTcpClient(
            "127.0.0.1", port=server.port, framer=framer, timeout=timeout, retries=0
        )
        assert await client.connect()
        yield client, server
        client.close()


async def _f32(client: ModbusBaseClient, unit: int, address: int) -> float:
    response = await client.read_input_registers(address, count=2, device_id=unit)
    assert not response.isError(), response
    value = client.convert_from_registers(response.registers, DT.FLOAT32)
    assert isinstance(value, float)
    return value


async def _check_readings(client: ModbusBaseClient, devices: dict[int, SimulatedDevice]) -> None:
    sdm = devices[SDM630].truth()
    assert await _f32(client, SDM630, 0x0034) == sdm[("active_power_w", None)]
    assert await _f32(client, SDM630, 0x0000) == sdm[("voltage_v", "l1")]
    assert await _f32(client, SDM630, 0x0046) == sdm[("frequency_hz", None)]
    assert await _f32(client, SDM630, 0x0048) * 1000 == pytest.approx(
        sdm[("energy_import_wh", None)]
    )

    # EM24: INT32, least significant word first, W×10; the same through functions 03 and 04.
    em24 = devices[EM24].truth()
    for read in (client.read_holding_registers, client.read_input_registers):
        response = await read(0x0028, count=2, device_id=EM24)
        raw = client.convert_from_registers(response.registers, DT.INT32, word_order="little")
        assert isinstance(raw, int)
        assert raw / 10 == pytest.approx(em24[("active_power_w", None)])

    # SunSpec: marker, then walk the model chain to the end model.
    response = await client.read_holding_registers(SUNSPEC_BASE, count=2, device_id=INVERTER)
    assert client.convert_from_registers(response.registers, DT.STRING) == "SunS"
    address, chain, inverter_at = SUNSPEC_BASE + 2, [], 0
    while True:
        header = await client.read_holding_registers(address, count=2, device_id=INVERTER)
        model_id, length = header.registers
        chain.append(model_id)
        if model_id == 0xFFFF:
            break
        if model_id == 103:
            inverter_at = address
        address += 2 + length
    assert chain == [1, 103, 120, 121, 0xFFFF]
    # Model 103: W at offset 14, W_SF at 15 (ID and L included).
    response = await client.read_holding_registers(inverter_at + 14, count=2, device_id=INVERTER)
    watts, exponent = (
        client.convert_from_registers([word], DT.INT16) for word in response.registers
    )
    assert isinstance(watts, int)
    assert isinstance(exponent, int)
    assert watts * 10.0**exponent == devices[INVERTER].truth()[("active_power_w", None)]

    response = await client.read_holding_registers(1100, count=2, device_id=KEBA)
    limit_ma = client.convert_from_registers(response.registers, DT.UINT32)
    assert limit_ma == 1000 * devices[KEBA].truth()[("charge_current_limit_a", None)]


@pytest.mark.parametrize("transport", ["tcp", "rtu_over_tcp", "serial"])
async def test_a_plain_client_decodes_what_the_devices_show(transport: str) -> None:
    async with served(transport) as (client, server):
        await _check_readings(client, dict(server.devices))


async def test_the_sunspec_alliance_client_walks_the_model_chains() -> None:
    """pysunspec2's own Modbus client scans the simulated SunSpec devices."""
    async with served("tcp") as (_, server):

        def scan(unit: int) -> dict[str, dict[str, object]]:
            device = SunSpecModbusClientDeviceTCP(
                slave_id=unit, ipaddr="127.0.0.1", ipport=server.port, timeout=2
            )
            try:
                device.scan()
                return {
                    name: {point: value.cvalue for point, value in models[0].points.items()}
                    for name, models in device.models.items()
                    if isinstance(name, str)
                }
            finally:
                device.close()

        inverter = await asyncio.to_thread(scan, INVERTER)
        meter = await asyncio.to_thread(scan, SUNSPEC_METER)
    assert list(inverter) == ["common", "inverter_three_phase", "nameplate", "settings"]
    truth = server.devices[INVERTER].truth()
    points = inverter["inverter_three_phase"]
    assert points["W"] == truth[("active_power_w", None)]
    assert points["AphA"] == pytest.approx(truth[("current_a", "l1")])
    assert points["WH"] == truth[("energy_export_wh", None)]
    assert inverter["nameplate"]["WRtg"] == 10_000
    assert list(meter) == ["common", "ac_meter_abcn"]
    meter_truth = server.devices[SUNSPEC_METER].truth()
    assert meter["ac_meter_abcn"]["W"] == pytest.approx(meter_truth[("active_power_w", None)])
    assert meter["ac_meter_abcn"]["TotWhImp"] == meter_truth[("energy_import_wh", None)]


async def test_charger_write_is_applied_and_out_of_range_is_refused() -> None:
    async with served("tcp") as (client, server):
        keba = server.devices[KEBA]
        written = await client.write_register(5004, 16_000, device_id=KEBA)
        assert not written.isError()
        response = await client.read_holding_registers(1100, count=2, device_id=KEBA)
        assert client.convert_from_registers(response.registers, DT.UINT32) == 16_000
        assert keba.truth()[("charge_current_limit_a", None)] == 16.0
        refused = await client.write_register(5004, 3_000, device_id=KEBA)
        assert refused.isError()
        assert refused.exception_code == 3  # illegal data value, as the wallbox answers
        assert keba.truth()[("charge_current_limit_a", None)] == 16.0
        # KEBA reads one 32-bit value per request; a block read is refused.
        block = await client.read_holding_registers(1000, count=6, device_id=KEBA)
        assert block.isError()


async def test_silenced_and_absent_units_never_answer_while_others_do() -> None:
    async with served("tcp", timeout=0.3) as (client, server):
        server.silence(SDM630)
        with pytest.raises(ModbusIOException):
            await client.read_input_registers(0, count=2, device_id=SDM630)
        with pytest.raises(ModbusIOException):
            await client.read_input_registers(0, count=2, device_id=99)
        ok = await client.read_holding_registers(0x0028, count=2, device_id=EM24)
        assert not ok.isError()
        server.silence(SDM630, silent=False)
        assert await _f32(client, SDM630, 0x0034) > 0


@pytest.mark.parametrize("transport", ["tcp", "rtu_over_tcp"])
async def test_injected_faults_and_healing(transport: str) -> None:
    async with served(transport, timeout=0.3) as (client, server):
        server.inject(SDM630, "exception")
        response = await client.read_input_registers(0, count=2, device_id=SDM630)
        assert response.isError()
        assert response.exception_code == 4  # server device failure
        server.inject(SDM630, "garbage")
        with pytest.raises(ModbusIOException):
            await client.read_input_registers(0, count=2, device_id=SDM630)
        server.inject(SDM630, None)
        if not client.connected:  # a corrupt Modbus TCP header makes pymodbus drop the link
            await client.connect()
        await asyncio.sleep(0)
        assert await _f32(client, SDM630, 0x0034) > 0


# What a poller reads of each model in one request: about 40 points.
POLL = {
    "sdm630": ("input", 0x0000, 0x50),
    "em24": ("holding", 0x0000, 0x52),
    "sunspec_meter": ("holding", SUNSPEC_BASE + 70, 0x6B),
}


async def test_a_hundred_units_on_one_port_answer_quickly() -> None:
    models = tuple(POLL)
    fleet = {unit: models[unit % len(models)] for unit in range(1, 101)}
    devices = {
        unit: create_device(model, now=lambda: NOW, seed=unit) for unit, model in fleet.items()
    }
    async with ModbusSimServer(devices, now=lambda: NOW) as server:
        client = AsyncModbusTcpClient("127.0.0.1", port=server.port, timeout=1.0, retries=0)
        assert await client.connect()
        loop = asyncio.get_running_loop()
        started = loop.time()
        for unit, model in fleet.items():
            table, address, count = POLL[model]
            read = (
                client.read_input_registers if table == "input" else client.read_holding_registers
            )
            response = await read(address, count=count, device_id=unit)
            assert not response.isError(), (model, response)
        elapsed = loop.time() - started
        client.close()
    assert elapsed < 1.0  # a whole 100-unit poll cycle fits well inside one second


async def test_charger_falls_back_over_the_wire_when_its_heartbeat_stops() -> None:
    """A hand-moved clock: no sleeping, and the very next read shows the fail-safe current."""
    clock = [NOW]
    keba = create_device("keba_p30", now=lambda: clock[0], seed=4)
    async with ModbusSimServer({255: keba}, now=lambda: clock[0]) as server:
        client = AsyncModbusTcpClient("127.0.0.1", port=server.port, timeout=1.0, retries=0)
        assert await client.connect()

        async def offered_ma() -> object:
            response = await client.read_holding_registers(1100, count=2, device_id=255)
            return client.convert_from_registers(response.registers, DT.UINT32)

        for address, value in ((5016, 6_000), (5018, 30), (5004, 16_000)):
            assert not (await client.write_register(address, value, device_id=255)).isError()
        clock[0] += 29.0
        assert await offered_ma() == 16_000
        clock[0] += 2.0
        assert await offered_ma() == 6_000
        assert keba.truth()[("charge_current_limit_a", None)] == 6.0
        assert not (await client.write_register(5018, 30, device_id=255)).isError()  # heartbeat
        assert await offered_ma() == 16_000
        client.close()


async def test_a_table_the_device_lacks_is_an_illegal_function() -> None:
    async with served("tcp") as (client, _):
        response = await client.read_input_registers(SUNSPEC_BASE, count=2, device_id=INVERTER)
        assert response.isError()
        assert response.exception_code == 1  # SunSpec lives in holding registers only
        response = await client.read_holding_registers(0x7000, count=2, device_id=SDM630)
        assert response.exception_code == 2  # outside the map: illegal data address
