"""Resident memory of the edge agent with 50 simulated Modbus devices over time.

The simulators (five Modbus TCP endpoints of ten units: meters and chargers) and a Mosquitto
run in this process's care; the agent runs as its own process, polling every device each
second, started as the systemd unit starts it (``python -m hinode.commands.edge_runtime run``;
``--entry hinode`` measures ``hinode edge run``, which also loads the other CLI areas).
RSS is sampled every few seconds; growth is the change of the mean RSS from the third to the
last quarter of the run. The baseline is a bare interpreter with the agent's imports, measured
in the same run.

    .venv/bin/python bench/agent_rss.py [--minutes 10] [--entry lean|hinode]
"""

import argparse
import asyncio
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulators.modbus import ModbusSimServer, create_device
from tests.support.mosquitto import Mosquitto

#: Simulator model = profile name for these.
MODELS = ("sdm630", "sdm120", "em24", "abb_terra_ac", "keba_p30")
ENDPOINTS, UNITS = 5, 10
ENTRIES = {
    "lean": [sys.executable, "-m", "hinode.commands.edge_runtime"],
    "hinode": [str(Path(sys.executable).parent / "hinode"), "edge"],
}


def model_of(unit: int) -> str:
    return MODELS[(unit - 1) % len(MODELS)]


def config(broker: Mosquitto, ports: list[int], outbox: Path) -> str:
    lines = [
        "site: bench",
        "gateway: gw-rss",
        f'broker: {{url: "{broker.url}"}}',
        f'outbox: {{path: "{outbox}"}}',
        "batching: {max_age_s: 5, max_readings: 500}",
        "commands: {heartbeat_timeout_s: 100000}",
        "devices:",
    ]
    lines.extend(
        f"  - {{kind: modbus_tcp, id: dev-{endpoint}-{unit}, profile: {model_of(unit)},"
        f" host: 127.0.0.1, port: {port}, unit: {unit}, poll_interval_s: 1}}"
        for endpoint, port in enumerate(ports)
        for unit in range(1, UNITS + 1)
    )
    return "\n".join(lines) + "\n"


def baseline_rss() -> float:
    code = "import edge, edge.modbus, hinode.commands.edge_runtime; input()"
    process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)
    time.sleep(3)
    rss = psutil.Process(process.pid).memory_info().rss / 2**20
    process.communicate(b"\n", timeout=10)
    return float(rss)


async def run(
    minutes: float, sample_s: float, entry: list[str]
) -> tuple[list[tuple[float, float]], int | None]:
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp) / "mosquitto")
        broker.start()
        try:
            async with AsyncExitStack() as stack:
                ports = []
                for endpoint in range(ENDPOINTS):
                    devices = {
                        unit: create_device(
                            model_of(unit), now=time.time, seed=endpoint * 100 + unit
                        )
                        for unit in range(1, UNITS + 1)
                    }
                    server = ModbusSimServer(devices, now=time.time)
                    await stack.enter_async_context(server)
                    ports.append(server.port)
                path = Path(tmp) / "gw.yaml"
                path.write_text(config(broker, ports, Path(tmp) / "outbox.sqlite"))
                agent = await asyncio.create_subprocess_exec(
                    *entry, "run", str(path), "--log-level", "warning",
                    stderr=asyncio.subprocess.DEVNULL,
                )  # fmt: skip
                watched = psutil.Process(agent.pid)
                samples: list[tuple[float, float]] = []
                started = time.monotonic()
                while time.monotonic() - started < minutes * 60:
                    await asyncio.sleep(sample_s)
                    rss = watched.memory_info().rss / 2**20
                    samples.append((time.monotonic() - started, rss))
                    print(f"  {samples[-1][0]:6.0f} s  {rss:6.1f} MB", flush=True)
                agent.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(agent.wait(), 10)
                return samples, code
        finally:
            broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--sample-s", type=float, default=10.0)
    parser.add_argument("--entry", choices=sorted(ENTRIES), default="lean")
    args = parser.parse_args()
    base = baseline_rss()
    samples, code = asyncio.run(run(args.minutes, args.sample_s, ENTRIES[args.entry]))
    quarter = max(len(samples) // 4, 1)
    third = statistics.mean(r for _, r in samples[2 * quarter : 3 * quarter] or samples[-1:])
    last = statistics.mean(r for _, r in samples[-quarter:])
    print(f"entry: {args.entry}, devices: {ENDPOINTS * UNITS}, minutes: {args.minutes:g}")
    print(f"agent exit status after SIGTERM: {code}")
    print(f"baseline (interpreter + the agent's imports): {base:.1f} MB")
    print(f"agent RSS at the end: {samples[-1][1]:.1f} MB, max {max(r for _, r in samples):.1f} MB")
    print(f"ratio to baseline: {samples[-1][1] / base:.2f}   (target ≤ 80 MB)")
    print(f"growth, third to last quarter: {last - third:+.2f} MB   (target: none)")


if __name__ == "__main__":
    main()
