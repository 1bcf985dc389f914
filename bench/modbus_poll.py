"""Modbus polling: planned block reads against one request per value, as peers poll.

Part 1 reads the same device set (Eastron SDM630, SunSpec inverter, ABB Terra AC charger) from
the simulators twice per cycle: (a) one request per register value (and one per SunSpec scale
factor), the way ThingsBoard IoT Gateway and similar peers read, and (b) the engine's planned
block reads. It prints requests per cycle and cycle time for both and their ratios, over Modbus
TCP and over RTU framed on TCP. Part 2 polls 100 simulated meters of 40 points each on one TCP
server every second, server and poller in one process pinned to one core, and prints the
achieved cycle time.

Run: .venv/bin/python bench/modbus_poll.py [--cycles N] [--seconds S]
"""

import argparse
import asyncio
import contextlib
import os
import statistics
import time
from dataclasses import dataclass

from edge.modbus import (
    Link,
    ModbusBus,
    ModbusDevice,
    Profile,
    RtuOverTcpLink,
    TcpLink,
    load_profile,
)
from messages import WallClock
from simulators.modbus import ModbusSimServer, create_device

SET = {
    1: ("sdm630", "sdm630"),
    2: ("sunspec_inverter", "sunspec"),
    3: ("abb_terra_ac", "abb_terra_ac"),
}

#: The SDM630's 40 most used input registers (float32): the 31 of its profile and 9 more.
FORTY_POINTS_EXTRA = [
    ("average_voltage", 0x002A, "voltage_v"),
    ("average_current", 0x002E, "current_a"),
    ("average_voltage_ll", 0x00CE, "voltage_ll_v"),
    ("neutral_current", 0x00E0, "current_a"),
    ("total_energy", 0x0156, "energy_import_wh"),
    ("total_reactive_energy", 0x0158, "reactive_energy_import_varh"),
    ("energy_import_l1", 0x015A, "energy_import_wh"),
    ("energy_import_l2", 0x015C, "energy_import_wh"),
    ("energy_import_l3", 0x015E, "energy_import_wh"),
]


@dataclass
class Measured:
    requests_per_cycle: float
    cycle_s: float


def forty_point_profile() -> Profile:
    base = load_profile("sdm630")
    document = base.model_dump()
    for name, address, quantity in FORTY_POINTS_EXTRA:
        document["registers"].append(
            {
                "name": name,
                "table": "input",
                "address": address,
                "data_type": "f32",
                "quantity": quantity,
                "group": "fast",
            }
        )
    document["model"] = "sdm630_forty"
    profile = Profile.model_validate(document)
    assert len(profile.measured()) == 40
    return profile


async def read_value_by_value(bus: ModbusBus, device: ModbusDevice) -> None:
    """One request per value, plus one per scale-factor register: how peers poll."""
    profile = device.profile
    registers = profile.measured()
    for register in registers:
        await bus.read(device.unit, register.table, register.address, register.words)
    for sf_address in sorted({r.scale_factor_register for r in registers} - {None}):
        await bus.read(device.unit, "holding", sf_address, 1)


async def measure(
    bus: ModbusBus, devices: list[ModbusDevice], cycles: int, *, planned: bool
) -> Measured:
    times: list[float] = []
    sent_before = bus.requests_sent
    for _ in range(cycles):
        started = time.perf_counter()
        for device in devices:
            if planned:
                await device.poll()
            else:
                await read_value_by_value(bus, device)
        times.append(time.perf_counter() - started)
    return Measured((bus.requests_sent - sent_before) / cycles, statistics.median(times))


async def part_one(transport: str, cycles: int) -> tuple[Measured, Measured]:
    now = time.time
    sims = {unit: create_device(model, now=now, seed=unit) for unit, (model, _) in SET.items()}
    async with ModbusSimServer(sims, now=now, transport=transport) as server:
        link: Link = (
            TcpLink("127.0.0.1", server.port)
            if transport == "tcp"
            else RtuOverTcpLink("127.0.0.1", server.port)
        )
        async with ModbusBus(link, clock=WallClock(), timeout_s=1.0) as bus:
            devices = [
                bus.device(unit, load_profile(profile)) for unit, (_, profile) in SET.items()
            ]
            for device in devices:
                await device.discover()
                await device.poll()  # warm-up: connection, caches
            # interleave the two ways so that machine noise hits both alike
            baseline_runs, planned_runs = [], []
            for _ in range(3):
                baseline_runs.append(await measure(bus, devices, cycles, planned=False))
                planned_runs.append(await measure(bus, devices, cycles, planned=True))
    return _median(baseline_runs), _median(planned_runs)


def _median(runs: list[Measured]) -> Measured:
    return Measured(
        statistics.median(r.requests_per_cycle for r in runs),
        statistics.median(r.cycle_s for r in runs),
    )


async def part_two(seconds: int, units: int) -> tuple[list[float], int, int]:
    now = time.time
    profile = forty_point_profile()
    sims = {unit: create_device("sdm630", now=now, seed=unit) for unit in range(1, units + 1)}
    async with (
        ModbusSimServer(sims, now=now) as server,
        ModbusBus(TcpLink("127.0.0.1", server.port), clock=WallClock(), timeout_s=2.0) as bus,
    ):
        devices = [bus.device(unit, profile) for unit in sims]
        await asyncio.gather(*(d.poll() for d in devices))  # warm-up
        cycle_times: list[float] = []
        readings = 0
        sent_before = bus.requests_sent
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        for _ in range(seconds):
            started = loop.time()
            results = await asyncio.gather(*(d.poll() for d in devices))
            cycle_times.append(loop.time() - started)
            readings += sum(len(r) for r in results)
            next_tick += 1.0
            await asyncio.sleep(max(0.0, next_tick - loop.time()))
        requests = (bus.requests_sent - sent_before) // seconds
    return cycle_times, readings // seconds, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20, help="cycles per measurement (part 1)")
    parser.add_argument("--seconds", type=int, default=10, help="one-second cycles (part 2)")
    parser.add_argument("--units", type=int, default=100, help="simulated meters (part 2)")
    args = parser.parse_args()
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, both sides

    print("part 1: SDM630 + SunSpec inverter + ABB Terra AC, one cycle = one read of each")
    print(f"{'transport':<14}{'way':<22}{'requests/cycle':>16}{'cycle ms':>11}")
    ratios: list[tuple[str, float, float]] = []
    for transport in ("tcp", "rtu_over_tcp"):
        baseline, planned = asyncio.run(part_one(transport, args.cycles))
        for label, result in (("one per value", baseline), ("planned blocks", planned)):
            print(
                f"{transport:<14}{label:<22}{result.requests_per_cycle:>16.0f}"
                f"{result.cycle_s * 1000:>11.2f}"
            )
        request_ratio = baseline.requests_per_cycle / planned.requests_per_cycle
        time_ratio = baseline.cycle_s / planned.cycle_s
        ratios.append((transport, request_ratio, time_ratio))
        print(f"{transport:<14}{'ratio':<22}{request_ratio:>15.1f}x{time_ratio:>10.1f}x")

    print(
        f"\npart 2: {args.units} simulated meters x 40 points on one TCP server, "
        "every 1 s, one core"
    )
    cycle_times, readings, requests = asyncio.run(part_two(args.seconds, args.units))
    worst = max(cycle_times)
    print(
        f"cycles {len(cycle_times)}, {requests} requests and {readings} readings per cycle, "
        f"cycle time median {statistics.median(cycle_times) * 1000:.0f} ms, "
        f"worst {worst * 1000:.0f} ms ({'fits' if worst < 1.0 else 'misses'} the 1 s period)"
    )
    summary = ", ".join(
        f"{t}: {r:.1f}x fewer requests, {c:.1f}x shorter cycle" for t, r, c in ratios
    )
    print(
        f"\nsummary: {summary}; 100x40 points cycle {statistics.median(cycle_times) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
