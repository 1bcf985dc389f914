"""BLE: decoded frames/s against bare struct.unpack, and connect-to-first-reading through bumble.

Part 1 decodes a mix of realistic frames (blood pressure with every optional field, heart rate
with RR intervals, PLX spot check and continuous, thermometer, glucose, weight) with the
gateway's decoders, and unpacks the same frames with one precompiled ``struct.unpack_from`` per
layout — the floor any Python decoder stands on. It prints frames/s for both and their ratio
(target: ≥ 100,000 decoded frames/s).

Part 2 starts a simulated BP monitor holding one stored measurement on bumble's in-process link
and times seeing its advertisement → connect → service discovery → subscription → first decoded
reading through the real bleak code path (BleakTransport + DeviceSession), against bumble's own
GATT client doing the same steps without bleak and without the gateway, in the same run.

Run: .venv/bin/python bench/ble_decode.py [--frames N] [--connects N]
"""

import argparse
import asyncio
import logging
import statistics
import struct
import time
from datetime import datetime

from bumble.device import Advertisement, Peer

from edge.ble import DEVICE_KINDS, Backoff, BleakTransport, DeviceSession, Received, decode
from edge.ble import find_characteristic as characteristic_named
from messages import WallClock
from simulators.ble import (
    BloodPressureReading,
    SimulatedAir,
    SimulatedBloodPressureMonitor,
    bind_backends,
)

STAMP = bytes.fromhex("ea070b17080f1e")
#: (characteristic, frame, struct layout of the same frame for the baseline)
FRAMES: list[tuple[str, bytes, str]] = [
    (
        "blood_pressure_measurement",
        bytes.fromhex("1e800052005f00") + STAMP + bytes.fromhex("4700010400"),
        "<BHHHHBBBBBHBH",
    ),
    ("heart_rate_measurement", bytes.fromhex("1e48d2042003c002"), "<BBHHH"),
    (
        "plx_spot_check_measurement",
        bytes.fromhex("0560004200") + STAMP + b"\x20\x00\x00",
        "<BHHHBBBBB3s",
    ),
    ("plx_continuous_measurement", bytes.fromhex("0060004600"), "<BHH"),
    ("temperature_measurement", bytes.fromhex("06720100ff") + STAMP + b"\x06", "<BIHBBBBBB"),
    (
        "glucose_measurement",
        bytes.fromhex("0a2a00") + STAMP + bytes.fromhex("5fb0110100"),
        "<BHHBBBBBHBH",
    ),
    (
        "weight_measurement",
        bytes.fromhex("0eb036") + STAMP + bytes.fromhex("02e500720600"),
        "<BHHBBBBBBHH",
    ),
]


def bench_decoding(total_frames: int) -> None:
    decoders = [characteristic_named(name) for name, _, _ in FRAMES]
    work = [(c.decode, frame) for c, (_, frame, _) in zip(decoders, FRAMES, strict=True) if c]
    layouts = [(struct.Struct(layout).unpack_from, frame) for _, frame, layout in FRAMES]
    for name, frame, layout in FRAMES:  # the baseline really covers each frame
        assert struct.calcsize(layout) <= len(frame), name
        decode(name, frame)
    rounds = max(total_frames // len(work), 1)
    frames = rounds * len(work)

    def run_decoders() -> float:
        start = time.perf_counter()
        for _ in range(rounds):
            for decode_frame, frame in work:
                decode_frame(frame)
        return time.perf_counter() - start

    def run_baseline() -> float:
        start = time.perf_counter()
        for _ in range(rounds):
            for unpack, frame in layouts:
                unpack(frame)
        return time.perf_counter() - start

    # Interleaved repeats, best of each: the machine is shared and noisy.
    decoder_times, baseline_times = [], []
    for _ in range(5):
        decoder_times.append(run_decoders())
        baseline_times.append(run_baseline())
    decoded_per_s = frames / min(decoder_times)
    baseline_per_s = frames / min(baseline_times)
    print(f"frames per run: {frames} ({len(work)} characteristics)")
    print(f"decoders            : {decoded_per_s:12,.0f} frames/s")
    print(f"bare struct.unpack  : {baseline_per_s:12,.0f} frames/s")
    print(
        f"ratio               : decoding costs {baseline_per_s / decoded_per_s:.1f}x a bare unpack"
    )
    verdict = "meets" if decoded_per_s >= 100_000 else "MISSES"
    print(f"target ≥ 100,000/s  : {verdict}")


async def gateway_first_reading() -> float:
    air = SimulatedAir()
    try:
        monitor = SimulatedBloodPressureMonitor()
        monitor.measure(BloodPressureReading(128, 82, 97, 71, datetime(2026, 11, 23, 8, 15)))
        address = await air.add_peripheral(monitor)
        scanner, client = bind_backends(await air.add_adapter())
        transport = BleakTransport(scanner_backend=scanner, client_backend=client)
        await transport.scan(timeout_s=0.1)  # the device is known, as after a technician's scan
        first = asyncio.get_running_loop().create_future()

        def deliver(received: Received) -> None:
            if not first.done():
                first.set_result(time.perf_counter())

        session = DeviceSession(
            transport, address, DEVICE_KINDS["blood_pressure"], deliver, WallClock(),
            backoff=Backoff(0.05, 0.2),
        )  # fmt: skip
        start = time.perf_counter()
        task = asyncio.create_task(session.run())
        async with asyncio.timeout(30):
            done_at = await first
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return done_at - start
    finally:
        await air.close()


async def bare_bumble_first_reading() -> float:
    air = SimulatedAir()
    try:
        monitor = SimulatedBloodPressureMonitor()
        monitor.measure(BloodPressureReading(128, 82, 97, 71, datetime(2026, 11, 23, 8, 15)))
        address = await air.add_peripheral(monitor)
        adapter = await air.add_adapter()
        first = asyncio.get_running_loop().create_future()
        seen = asyncio.get_running_loop().create_future()

        def on_advertisement(advertisement: Advertisement) -> None:
            text = advertisement.address.to_string(with_type_qualifier=False)
            if text == address and not seen.done():
                seen.set_result(advertisement.address)

        start = time.perf_counter()
        # Like any central (and the gateway's backend): connect once the device is seen.
        adapter.on(adapter.EVENT_ADVERTISEMENT, on_advertisement)
        await adapter.start_scanning(filter_duplicates=False)
        peer_address = await seen
        await adapter.stop_scanning()
        connection = await adapter.connect(peer_address)
        peer = Peer(connection)
        await peer.discover_services()
        for service in peer.services:
            for characteristic in await service.discover_characteristics():
                await characteristic.discover_descriptors()
        (measurement,) = peer.get_characteristics_by_uuid(
            next(
                iter(
                    c.uuid
                    for s in peer.services
                    for c in s.characteristics
                    if c.uuid.to_hex_str() == "2A35"
                )
            )
        )

        def on_value(value: bytes) -> None:
            if not first.done():
                first.set_result(time.perf_counter())

        await peer.subscribe(measurement, on_value)
        async with asyncio.timeout(30):
            done_at = await first
        await connection.disconnect()
        return done_at - start
    finally:
        await air.close()


async def bench_connect(connects: int) -> None:
    gateway = [await gateway_first_reading() for _ in range(connects)]
    bare = [await bare_bumble_first_reading() for _ in range(connects)]
    gateway_ms = statistics.median(gateway) * 1000
    bare_ms = statistics.median(bare) * 1000
    print(f"connects per path: {connects} (median)")
    print(f"gateway (bleak + session)  : {gateway_ms:8.1f} ms connect → first decoded reading")
    print(f"bare bumble GATT client    : {bare_ms:8.1f} ms connect → first value")
    print(f"ratio                      : {gateway_ms / bare_ms:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=210_000)
    parser.add_argument("--connects", type=int, default=5)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # bumble's controller chatter is not the result
    print("== decoding")
    bench_decoding(args.frames)
    print("== connect to first reading (bumble in-process link)")
    asyncio.run(bench_connect(args.connects))


if __name__ == "__main__":
    main()
