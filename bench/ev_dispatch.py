"""EV charging dispatch: one round for 1,000 chargers, in every mode (target < 50 ms).

A depot-sized fleet — a mix of three-phase and single-phase chargers on all phases, most of them
with a car needing between nothing and 60 kWh before a departure later in the day, a site limit
that cannot serve everyone at once, a previous round's setpoints under a hold time — is
dispatched repeatedly. It prints the median time per mode at 1,000 chargers, the same at 100
chargers measured in the same run, and their ratio (10 would be linear growth).

Run: .venv/bin/python bench/ev_dispatch.py [--repeats N] [--check]
"""

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from typing import Any

from cloud.energy import JST, DispatchRequest, dispatch_chargers

NOW = datetime(2026, 5, 11, 9, 0, tzinfo=JST)
TARGET_S = 0.050


def fleet(size: int, mode: str, seed: int = 11) -> DispatchRequest:
    rng = random.Random(seed)
    chargers: list[dict[str, Any]] = []
    for index in range(size):
        three_phase = rng.random() < 0.5
        vehicle = None
        if rng.random() < 0.9:
            vehicle = {
                "energy_needed_wh": rng.choice([0.0, rng.uniform(1000, 60000)]),
                "departure": (NOW + timedelta(minutes=rng.randint(30, 600))).isoformat(),
                "max_current_a": rng.choice([16.0, 32.0]),
            }
        charger: dict[str, Any] = {
            "id": f"bay-{index:04d}",
            "phases": 3 if three_phase else 1,
            "max_current_a": rng.choice([16.0, 32.0]),
            "connected": rng.random() < 0.9,
            "vehicle": vehicle,
        }
        if not three_phase:
            charger["phase"] = rng.choice(["l1", "l2", "l3"])
        chargers.append(charger)
    previous = [
        {
            "charger": charger["id"],
            "current_a": rng.choice([0.0, 6.0, 10.0, 16.0]),
            "since": (NOW - timedelta(seconds=rng.randint(0, 120))).isoformat(),
        }
        for charger in chargers
        if rng.random() < 0.5
    ]
    return DispatchRequest.model_validate(
        {
            "now": NOW.isoformat(),
            # Room for about a third of the fleet at full current.
            "site_limit_a": size * 4.0,
            "mode": mode,
            "pv_surplus_w": size * 2500.0,
            "voltage_v": 230,
            "chargers": chargers,
            "previous": previous,
            "hold_seconds": 60,
        }
    )


def median_time(request: DispatchRequest, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        dispatch_chargers(request)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--check", action="store_true", help="exit 1 if any mode takes ≥ 50 ms")
    args = parser.parse_args()
    worst = 0.0
    print(f"EV dispatch, one round (median of {args.repeats})")
    for mode in ("now", "minpv", "pv"):
        small = median_time(fleet(100, mode), args.repeats)
        large = median_time(fleet(1000, mode), args.repeats)
        worst = max(worst, large)
        print(
            f"  {mode:5s}: 1,000 chargers {large * 1000:6.2f} ms, 100 chargers "
            f"{small * 1000:5.2f} ms, ratio ×{large / small:.1f}"
        )
    verdict = "met" if worst < TARGET_S else "MISSED"
    print(f"  target 1,000 chargers < {TARGET_S * 1000:.0f} ms: {verdict} ({worst * 1000:.2f} ms)")
    return 1 if args.check and worst >= TARGET_S else 0


if __name__ == "__main__":
    sys.exit(main())
