"""``hinode simulate modbus`` as a technician runs it: it says where it listens, then answers."""

import asyncio
import os
import signal
import sys
from pathlib import Path

from pymodbus.client import AsyncModbusTcpClient
from typer.testing import CliRunner

from hinode.commands.simulate import app

HINODE = Path(sys.executable).with_name("hinode")


async def test_a_standalone_simulator_answers_until_interrupted() -> None:
    process = await asyncio.create_subprocess_exec(
        str(HINODE),
        *("simulate", "modbus", "keba_p30", "--port", "0", "--unit", "255", "--speed", "60"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert banner.startswith("keba_p30 unit 255: Modbus TCP on 127.0.0.1:")
        port = int(banner.split("127.0.0.1:")[1].split(",")[0])
        client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
        assert await client.connect()
        written = await client.write_register(5004, 10_000, device_id=255)
        assert not written.isError()
        response = await client.read_holding_registers(1100, count=2, device_id=255)
        assert response.registers == [0, 10_000]
        client.close()
    finally:
        process.send_signal(signal.SIGINT)
        stdout, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    assert stdout.decode().strip() == "stopped"


def test_a_missing_serial_device_is_one_line_and_exit_1(tmp_path: Path) -> None:
    missing = tmp_path / "ttyUSB9"
    result = CliRunner().invoke(app, ["modbus", "sdm120", "--serial", str(missing)])
    assert result.exit_code == 1
    assert (
        result.stderr == f"error: cannot listen on {missing} (in use, missing or not permitted)\n"
    )
