"""Interchange planner: time for 50, 100, 200 and 500 sites × 48 slots, every site with a battery.

For each size it builds a plausible area (factories, public buildings and homes with PV and day
or night loads, a time-of-use tariff, a battery at every site with its own capacity, power,
efficiency and state of charge), plans the day and takes the median of several runs. It prints
each time, its ratio to the 50-site time measured in the same run, and the growth exponent k of
time ∝ sites^k fitted over all sizes (target: 500 sites < 1 s).

As a baseline formulation it also solves the textbook LP — every site's import, export, shared
in and out, charge, discharge and state of charge as variables, one pool row per slot — with the
same solver at 50 and 100 sites, and prints how much slower that is.

Run: .venv/bin/python bench/energy_plan.py [--repeats N] [--check]
"""

import argparse
import math
import statistics
import sys
import time
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from cloud.energy import PlanRequest, plan_interchange

SLOTS = 48
SIZES = (50, 100, 200, 500)
TARGET_S = 1.0


def area(sites: int, seed: int = 7) -> PlanRequest:
    rng = np.random.default_rng(seed)
    hours = np.arange(SLOTS) / 2
    daylight = np.clip(np.sin(np.pi * (hours - 6) / 12), 0, None)
    working = ((hours >= 8) & (hours < 18)).astype(float)
    entries: list[dict[str, Any]] = []
    for index in range(sites):
        kind = ("business", "public", "home")[index % 3]
        if kind == "business":
            pv_peak, base, shape = rng.uniform(5e3, 40e3), rng.uniform(3e3, 20e3), working
        elif kind == "public":
            pv_peak, base, shape = rng.uniform(2e3, 15e3), rng.uniform(2e3, 8e3), working
        else:
            pv_peak, base, shape = rng.uniform(0, 3e3), rng.uniform(100, 600), 1 - working
        generation = pv_peak * daylight * rng.uniform(0.6, 1.0, SLOTS)
        consumption = base * (0.4 + shape) * rng.uniform(0.8, 1.2, SLOTS)
        capacity = float(rng.choice([5e3, 10e3, 13.5e3, 50e3, 100e3]))
        entries.append(
            {
                "id": f"{kind}-{index:04d}",
                "kind": kind,
                "generation_wh": generation.tolist(),
                "consumption_wh": consumption.tolist(),
                "battery": {
                    "capacity_wh": capacity,
                    "power_w": capacity * float(rng.uniform(0.25, 0.5)),
                    "efficiency": float(rng.uniform(0.85, 0.95)),
                    "soc_wh": capacity * float(rng.uniform(0, 1)),
                },
            }
        )
    tariff = [22.0 if slot < 16 or slot >= 44 else 34.0 for slot in range(SLOTS)]
    return PlanRequest.model_validate(
        {
            "area": f"bench-{sites}",
            "start": "2026-05-11T00:00:00+09:00",
            "slot_minutes": 30,
            "prices": {
                "grid_import_yen_per_kwh": tariff,
                "grid_export_yen_per_kwh": 8.0,
                "interchange_yen_per_kwh": 18.0,
            },
            "sites": entries,
        }
    )


def time_plan(request: PlanRequest, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        plan_interchange(request, emission_factor_kg_per_kwh=0.5)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def time_textbook(request: PlanRequest) -> float:
    """The per-site formulation, built sparse and solved by the same HiGHS."""
    started = time.perf_counter()
    n, t = len(request.sites), SLOTS
    block = n * t
    imp, exp, sin, sout, ch, dis, soc = (k * block for k in range(7))
    size = 7 * block
    cell = np.arange(block)
    slot = cell % t
    one_way = np.repeat(
        [math.sqrt(s.battery.efficiency) if s.battery else 1.0 for s in request.sites], t
    )
    power = np.repeat([s.battery.power_w / 2 if s.battery else 0.0 for s in request.sites], t)
    capacity = np.repeat([s.battery.capacity_wh if s.battery else 0.0 for s in request.sites], t)
    soc0 = np.repeat([s.battery.soc_wh if s.battery else 0.0 for s in request.sites], t)
    net = np.concatenate(
        [np.array(s.consumption_wh) - np.array(s.generation_wh) for s in request.sites]
    )
    rows, cols, vals = [], [], []

    def add(row: np.ndarray, col: np.ndarray, val: np.ndarray | float) -> None:
        rows.append(row)
        cols.append(col)
        vals.append(np.broadcast_to(val, row.shape))

    for offset, sign in ((imp, 1), (sin, 1), (dis, 1), (exp, -1), (sout, -1), (ch, -1)):
        add(cell, offset + cell, float(sign))
    add(block + cell, soc + cell, 1.0)
    add(block + cell, ch + cell, -one_way)
    add(block + cell, dis + cell, 1 / one_way)
    later = cell[slot > 0]
    add(block + later, soc + later - 1, -1.0)
    add(2 * block + slot, sout + cell, 1.0)
    add(2 * block + slot, sin + cell, -1.0)
    matrix = coo_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(2 * block + t, size),
    ).tocsr()
    rhs = np.concatenate([net, np.where(slot == 0, soc0, 0.0), np.zeros(t)])
    prices = np.tile(request.prices.import_per_slot(), n)
    cost = np.zeros(size)
    cost[imp : imp + block] = prices
    cost[exp : exp + block] = -request.prices.grid_export_yen_per_kwh
    upper = np.full(size, np.inf)
    upper[ch : ch + block] = power
    upper[dis : dis + block] = power
    upper[soc : soc + block] = capacity
    result = milp(cost, constraints=LinearConstraint(matrix, rhs, rhs), bounds=Bounds(0, upper))
    assert result.status == 0, result.message
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="exit 1 if 500 sites take ≥ 1 s")
    args = parser.parse_args()

    requests = {sites: area(sites) for sites in SIZES}
    time_plan(requests[SIZES[0]], 1)  # warm-up: imports, solver library load
    times = {sites: time_plan(requests[sites], args.repeats) for sites in SIZES}
    baseline = times[SIZES[0]]
    print(f"interchange plan, {SLOTS} slots, a battery at every site (median of {args.repeats})")
    for sites, seconds in times.items():
        print(
            f"  {sites:4d} sites: {seconds * 1000:8.1f} ms   ×{seconds / baseline:5.2f} of 50 sites"
        )
    exponent = np.polyfit(np.log(list(times)), np.log(list(times.values())), 1)[0]
    print(f"  growth exponent k (time ∝ sites^k): {exponent:.2f}")
    largest = times[SIZES[-1]]
    verdict = "met" if largest < TARGET_S else "MISSED"
    print(f"  target {SIZES[-1]} sites < {TARGET_S:.0f} s: {verdict} ({largest:.3f} s)")
    for sites in (50, 100):
        textbook = time_textbook(requests[sites])
        print(
            f"  textbook per-site LP at {sites} sites: {textbook * 1000:.1f} ms,"
            f" ×{textbook / times[sites]:.1f} the planner's time"
        )
    return 1 if args.check and largest >= TARGET_S else 0


if __name__ == "__main__":
    sys.exit(main())
