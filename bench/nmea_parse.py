"""NMEA: sentences/s through the gateway's parser and fix assembler, against a bare baseline.

A receiver's one-second epoch (RMC, VTG, GGA, GSA, as the vehicle simulator writes it) is
parsed over and over: by ``parse_sentence`` alone, and by parsing plus ``FixAssembler`` (one
``messages.Fix`` per epoch, pydantic-validated). The baseline, in the same run, is the least
any parser must do: check the XOR checksum and split the fields. A vehicle sends 4 sentences
per second, so even the slowest path covers thousands of vehicles per gateway core.

Run: .venv/bin/python bench/nmea_parse.py [--epochs N]
"""

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import reduce

from edge.gnss import FixAssembler, parse_sentence
from simulators.vehicles import ReceiverEpoch, encode_epoch

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def bare_checksum_and_split(line: str) -> list[str]:
    body, _, given = line.rstrip("\r\n")[1:].partition("*")
    if reduce(lambda acc, char: acc ^ char, body.encode("ascii"), 0) != int(given, 16):
        raise ValueError(line)
    return body.split(",")


def best_of(runs: int, work: Callable[[], None]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5000)
    args = parser.parse_args()
    lines = [
        line
        for second in range(args.epochs)
        for line in encode_epoch(
            ReceiverEpoch(
                START + timedelta(seconds=second), 36.59 + second * 1e-6, 136.63, 1.4, 45.0
            )
        )
    ]

    def baseline() -> None:
        for line in lines:
            bare_checksum_and_split(line)

    def parse_only() -> None:
        for line in lines:
            parse_sentence(line)

    fixes = 0

    def parse_and_assemble() -> None:
        nonlocal fixes
        assembler = FixAssembler()
        fixes = 0
        for line in lines:
            fixes += len(assembler.push(parse_sentence(line)))

    # Interleaved repeats, best of each: the machine is shared and noisy.
    base_s, parse_s, full_s = [], [], []
    for _ in range(7):
        base_s.append(best_of(1, baseline))
        parse_s.append(best_of(1, parse_only))
        full_s.append(best_of(1, parse_and_assemble))
    assert fixes == args.epochs
    count = len(lines)
    base_rate, parse_rate, full_rate = (count / min(t) for t in (base_s, parse_s, full_s))
    print(f"sentences per run: {count} ({args.epochs} epochs of RMC, VTG, GGA, GSA)")
    print(f"bare checksum + split   : {base_rate:12,.0f} sentences/s")
    print(
        f"parse_sentence          : {parse_rate:12,.0f} sentences/s "
        f"({base_rate / parse_rate:.1f}x the baseline's cost)"
    )
    print(
        f"parse + assemble Fix    : {full_rate:12,.0f} sentences/s "
        f"({base_rate / full_rate:.1f}x the baseline's cost; "
        f"{full_rate / 4:,.0f} vehicles at 1 Hz per core)"
    )


if __name__ == "__main__":
    main()
