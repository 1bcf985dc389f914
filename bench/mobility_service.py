"""Shuttle service: the batch re-optimisation adopted while the shuttles' positions keep arriving.

The service computes its batch in a worker thread from a snapshot; meanwhile positions arrive
on the event loop, so by the time the batch is done the state has moved on. This drives the
morning of ``bench/mobility_dispatch.py`` (30 walking-speed shuttles, rides booked in random
order when the service starts) through a :class:`ShuttleService` in simulated time. Each
shuttle drives its route in straight lines at the travel model's speed, stands 30 s at each
stop served (as the plans count it), and reports its position every 5 s (as the edge's GNSS
tracker batches them; the fleet's 30 reports spread over the 5 s), when it reaches a stop and
when the rider it waits for is due.

Every ``--every-s`` a batch round (``--rounds`` of them): the snapshot (``batch_due``), the
batch computed with ``--budget-s``, then the positions that arrive in the time it took (applied
in order, as the event loop would meanwhile), then adoption. Three runs on the same bookings:

- rebase: ``ShuttleService.adopt`` (the batch re-timed from the newer positions);
- identity-only (baseline, the rule before rebasing): adopted only if the state is still the
  snapshot;
- insertion alone: no batch at all.

The batch is the service's own ``compute_batch`` on 300 rides: with every ride it is given
planned, ``reoptimise`` still rebuilds the plan in several orders and keeps one whose routes end
at least a minute sooner in all, never breaking a promise.

Prints per run the batches adopted and the rides they moved, the positions that arrived while
they were computed, the share of rides served with their promise kept, the fleet's driving over
the morning against insertion alone, waits and rides. Asserts that in every adopted state every
promised ride is still planned with its drop-off ETA within its window (+ 1 s), and that every
accepted ride was dropped off within its window; rides over their ride limit and promises the
service loosened in its plans (a stop re-timed behind its promise is stretched) are counted.

Run: .venv/bin/python bench/mobility_service.py [--rounds 10] [--every-s 300] [--budget-s 1]
     [--shuttles 30] [--requests 300]
"""

import argparse
import heapq
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from mobility_dispatch import NOW, TRAVEL, busy_morning

from cloud.mobility import (
    DispatchResult,
    RideRequest,
    ShuttleService,
    ShuttleState,
    compute_batch,
    distance_m,
)

REPORT_EVERY_S = 5.0
#: Straight-line speed at which a leg takes what the travel model says it takes.
SPEED_M_S = TRAVEL.speed_kmh / 3.6 / TRAVEL.detour_factor
#: Float noise, not a broken promise.
PROMISE_TOLERANCE_S = 1.0
#: How often the plans are looked at for loosened promises (batch rounds fall on these marks).
SAMPLE_EVERY_S = 60.0
#: The morning must be over by then.
HORIZON_S = 10 * 3600.0

Policy = Literal["rebase", "identity-only", "insertion alone"]
BatchMaker = Callable[[DispatchResult, float], DispatchResult]


@dataclass
class Morning:
    """What one run got."""

    policy: Policy
    computed: int = 0
    adopted: int = 0
    compute_s: list[float] = field(default_factory=list)
    #: Positions applied, and stops they served, while a batch was being computed.
    positions_meanwhile: int = 0
    served_meanwhile: int = 0
    #: Rides that adopted batches gave to another shuttle.
    moved: int = 0
    #: Why batches were dropped (rebase only), and how often.
    drops: dict[str, int] = field(default_factory=dict)
    #: Planned driving time and route time (until the last stop) adopted batches took off.
    driving_taken_off_s: float = 0.0
    route_taken_off_s: float = 0.0
    driving_s: float = 0.0
    accepted: int = 0
    kept: int = 0
    mean_wait_s: float = 0.0
    mean_ride_s: float = 0.0
    finished_at: float = 0.0
    #: Rides dropped off late or never, one line each.
    broken: list[str] = field(default_factory=list)
    #: Rides that rode longer than their limit, and by how much (s).
    rode_too_long: dict[str, float] = field(default_factory=dict)
    #: Rides planned beyond their ride limit in an adopted state.
    too_long_adopted: set[str] = field(default_factory=set)
    #: Rides whose promise the service loosened in its plan (seen at the minute marks).
    loosened: set[str] = field(default_factory=set)


class Fleet:
    """The shuttles on the road: each drives to the first stop of its route, stands there for
    the dwell of each stop served, and reports its position every 5 s (the fleet's reports spread
    over the 5 s), when it reaches a stop and when the rider it waits for is due."""

    def __init__(self, service: ShuttleService) -> None:
        self.service = service
        routes = service.routes
        start = service.result.now
        self.position = {sid: route.shuttle.position for sid, route in routes.items()}
        self.moved_at = dict.fromkeys(routes, start)
        self.leaves_at = dict.fromkeys(routes, start)
        self.next_report: dict[str, float] = {}
        #: (when, shuttle, periodic report or not)
        self._events: list[tuple[float, str, bool]] = []
        step = REPORT_EVERY_S / len(routes)
        for index, shuttle in enumerate(sorted(routes)):
            self.next_report[shuttle] = start + (index + 1) * step
            heapq.heappush(self._events, (self.next_report[shuttle], shuttle, True))
        self.driving_s = 0.0

    def run_until(self, until: float) -> tuple[int, int]:
        """Every report up to *until*, in time order; returns (positions, stops served)."""
        positions = served = 0
        while self._events[0][0] <= until:
            at, shuttle, periodic = heapq.heappop(self._events)
            served += self._report(shuttle, at, periodic=periodic)
            positions += 1
        return positions, served

    def _report(self, shuttle: str, at: float, *, periodic: bool) -> int:
        self._drive(shuttle, at)
        here = self.position[shuttle]
        served = len(self.service.position(shuttle, here, at))
        if served:
            # The plans count a dwell from the start of service at each stop.
            self.leaves_at[shuttle] = at + served * TRAVEL.dwell_s
        if periodic:
            self.next_report[shuttle] = at + REPORT_EVERY_S
            heapq.heappush(self._events, (self.next_report[shuttle], shuttle, True))
        stops = self.service.routes[shuttle].stops
        if not stops:
            return served
        if here != stops[0].position:
            event = max(at, self.leaves_at[shuttle]) + distance_m(here, stops[0].position) / (
                SPEED_M_S
            )
        else:
            # A pickup not due yet: the rider comes at the earliest, and the plan may hold the
            # pickup later still (to keep a ride limit); the shuttle's controller waits until then.
            event = max(stops[0].earliest, self.service.routes[shuttle].timing.service[0])
        if at < event < self.next_report[shuttle]:
            heapq.heappush(self._events, (event, shuttle, False))
        return served

    def _drive(self, shuttle: str, until: float) -> None:
        """Straight toward the first stop of its route once its dwell is over."""
        stops = self.service.routes[shuttle].stops
        here = self.position[shuttle]
        since = max(self.moved_at[shuttle], self.leaves_at[shuttle])
        if stops and here != stops[0].position and until > since:
            target = stops[0].position
            gap = distance_m(here, target)
            reach = SPEED_M_S * (until - since)
            if gap <= reach + 1e-6:
                moved = target
            else:
                share = reach / gap
                moved = (
                    here[0] + share * (target[0] - here[0]),
                    here[1] + share * (target[1] - here[1]),
                )
            self.driving_s += TRAVEL.seconds(here, moved)
            self.position[shuttle] = moved
        self.moved_at[shuttle] = until


def planned_driving_s(result: DispatchResult) -> float:
    return sum(route.driving_s(result.travel, result.now) for route in result.routes.values())


def planned_route_s(result: DispatchResult) -> float:
    """Until each shuttle's last stop, summed: what the batch makes shorter."""
    return sum((route.timing.end or result.now) - result.now for route in result.routes.values())


def check_promises(service: ShuttleService, requests: dict[str, RideRequest]) -> set[str]:
    """Asserts that every promised ride is still planned and each drop-off ETA is within the
    ride's window; returns the rides whose planned ride exceeds their ride limit."""
    result = service.result
    open_rides = {rid for rid, record in service.rides.items() if record.dropoff_at is None}
    planned = result.served()
    assert planned == open_rides, f"rides lost or invented: {sorted(planned ^ open_rides)}"
    too_long: set[str] = set()
    for route in result.routes.values():
        pickups: dict[str, float] = {}
        for stop, eta in zip(route.stops, route.timing.service, strict=True):
            if stop.action == "pickup":
                pickups[stop.request] = eta
                continue
            request = requests[stop.request]
            assert eta <= request.latest_dropoff + PROMISE_TOLERANCE_S, (
                f"{stop.request}: drop-off ETA {eta - request.latest_dropoff:.0f} s late"
            )
            boarded = pickups.get(stop.request, service.rides[stop.request].pickup_at)
            limit = request.max_ride_s
            if limit is not None and boarded is not None and eta - boarded > limit + 1:
                too_long.add(stop.request)
    return too_long


def loosened(service: ShuttleService, requests: dict[str, RideRequest]) -> set[str]:
    """Rides whose planned stops carry a later window or a longer ride limit than they were
    promised: the service stretches a stop that a re-timing puts behind its promise."""
    found: set[str] = set()
    for route in service.routes.values():
        for stop in route.stops:
            request = requests[stop.request]
            limit = request.max_ride_s
            if stop.action == "dropoff" and (
                stop.latest > request.latest_dropoff + PROMISE_TOLERANCE_S
                or (limit is not None and (stop.max_ride_s or 0) > limit + PROMISE_TOLERANCE_S)
            ):
                found.add(stop.request)
    return found


def service_batch(snapshot: DispatchResult, budget_s: float) -> DispatchResult:
    """The batch as the service computes it."""
    return compute_batch(snapshot, budget_s)


def moved_rides(snapshot: DispatchResult, batch: DispatchResult) -> int:
    """Rides the batch gives to another shuttle than the snapshot had them on."""
    before = {rid: sid for sid, route in snapshot.routes.items() for rid in route.requests()}
    return sum(
        1
        for sid, route in batch.routes.items()
        for rid in route.requests()
        if before.get(rid) != sid
    )


def drop_reason(snapshot: DispatchResult, batch: DispatchResult, current: DispatchResult) -> str:
    """Why ``rebase_batch`` would drop *batch* now (the same checks, in the same order)."""
    if current.requests.keys() != snapshot.requests.keys() or current.promised != snapshot.promised:
        return "a ride booked or cancelled meanwhile"
    ahead = {
        (stop.request, stop.action) for route in current.routes.values() for stop in route.stops
    }
    owner = {
        (stop.request, stop.action): sid
        for sid, route in snapshot.routes.items()
        for stop in route.stops
    }
    for sid, route in batch.routes.items():
        for stop in route.stops:
            key = (stop.request, stop.action)
            if key not in ahead and owner.get(key) != sid:
                return "a moved ride served meanwhile by its old shuttle"
    return "a window or a seat broken from the newer positions"


def adopt(policy: Policy, service: ShuttleService, snapshot: DispatchResult,
          batch: DispatchResult) -> bool:  # fmt: skip
    if policy == "rebase":
        return service.adopt(snapshot, batch)
    # The rule before rebasing: anything that arrived meanwhile (a position) drops the batch.
    if service.result is not snapshot:
        return False
    service.result = batch
    return True


def run_morning(
    policy: Policy,
    booked: ShuttleService,
    requests: dict[str, RideRequest],
    make_batch: BatchMaker,
    args: argparse.Namespace,
) -> Morning:
    service = ShuttleService.from_state(
        booked.state(), reoptimise_every_s=args.every_s, batch_budget_s=args.budget_s
    )
    fleet = Fleet(service)
    morning = Morning(policy)
    rounds = {NOW + number * args.every_s for number in range(1, args.rounds + 1)}
    now = NOW
    while now < max(rounds) or any(route.stops for route in service.routes.values()):
        assert now < NOW + HORIZON_S, "the morning does not end"
        now += SAMPLE_EVERY_S
        fleet.run_until(now)
        morning.loosened |= loosened(service, requests)
        if now not in rounds or policy == "insertion alone":
            continue
        snapshot = service.batch_due(now)
        assert snapshot is not None
        start = time.perf_counter()
        batch = make_batch(snapshot, args.budget_s)
        took = time.perf_counter() - start
        # What arrived on the event loop while the worker thread computed.
        positions, served = fleet.run_until(now + took)
        before = planned_driving_s(service.result), planned_route_s(service.result)
        morning.computed += 1
        morning.compute_s.append(took)
        morning.positions_meanwhile += positions
        morning.served_meanwhile += served
        moved = moved_rides(snapshot, batch)
        reason = drop_reason(snapshot, batch, service.result) if policy == "rebase" else None
        if adopt(policy, service, snapshot, batch):
            morning.adopted += 1
            morning.moved += moved
            morning.driving_taken_off_s += before[0] - planned_driving_s(service.result)
            morning.route_taken_off_s += before[1] - planned_route_s(service.result)
            morning.too_long_adopted |= check_promises(service, requests)
        elif reason is not None:
            morning.drops[reason] = morning.drops.get(reason, 0) + 1
    report = service.report()
    morning.accepted = len(report.rides)
    for ride in report.rides:
        request = requests[ride.request]
        if ride.pickup_at is None or ride.dropoff_at is None:
            morning.broken.append(f"{ride.request} never completed")
            continue
        late = ride.dropoff_at - request.latest_dropoff
        if late > PROMISE_TOLERANCE_S:
            morning.broken.append(f"{ride.request} dropped off {late:.0f} s late")
        limit = request.max_ride_s
        if limit is not None and ride.dropoff_at - ride.pickup_at > limit + PROMISE_TOLERANCE_S:
            morning.rode_too_long[ride.request] = ride.dropoff_at - ride.pickup_at - limit
    broken = {entry.split()[0] for entry in morning.broken} | morning.rode_too_long.keys()
    morning.kept = morning.accepted - len(broken)
    morning.mean_wait_s = report.mean_wait_s() or 0.0
    morning.mean_ride_s = report.mean_ride_s() or 0.0
    morning.driving_s = fleet.driving_s
    morning.finished_at = max((ride.dropoff_at or NOW for ride in report.completed), default=NOW)
    return morning


def compare(
    title: str, requests_count: int, make_batch: BatchMaker, args: argparse.Namespace
) -> list[Morning]:
    """Three mornings on the same bookings: rebase, identity-only, insertion alone."""
    problem = busy_morning(args.shuttles, requests_count, 1, args.elderly_share)
    requests = {request.id: request for request in problem.requests}
    booking_order = list(problem.requests)
    random.Random(3).shuffle(booking_order)
    booked = ShuttleService(
        [ShuttleState(s.id, s.position, s.capacity) for s in problem.shuttles],
        TRAVEL,
        NOW,
        reoptimise_every_s=args.every_s,
        batch_budget_s=args.budget_s,
    )
    for request in booking_order:
        booked.request(request, NOW)
    print(
        f"\n{title}: {requests_count} rides booked at 08:00, {len(booked.rides)} accepted; "
        f"{args.rounds} batch rounds every {args.every_s:g} s (budget {args.budget_s:g} s)"
    )
    runs = [
        run_morning(policy, booked, requests, make_batch, args)
        for policy in ("rebase", "identity-only", "insertion alone")
    ]
    rebase, identity, alone = runs
    for morning in runs:
        print(f"  {morning.policy}:")
        if morning.computed:
            drops = "; ".join(f"{count} × {why}" for why, count in morning.drops.items())
            print(
                f"    {morning.adopted}/{morning.computed} batches adopted, "
                f"{morning.moved} rides moved by them"
                + (f" (dropped: {drops})" if drops else "")
                + f"; {statistics.mean(morning.compute_s) * 1000:.0f} ms per batch, "
                f"{morning.positions_meanwhile} positions and {morning.served_meanwhile} stops "
                f"served meanwhile"
            )
        saved = (alone.driving_s - morning.driving_s) / alone.driving_s
        print(
            f"    served, promise kept: {morning.kept}/{requests_count} "
            f"({morning.kept / requests_count:.1%}); dropped off late or never: "
            f"{len(morning.broken)}; rode longer than their limit: {len(morning.rode_too_long)}"
            + (
                f" (by up to {max(morning.rode_too_long.values()):.0f} s)"
                if morning.rode_too_long
                else ""
            )
        )
        print(
            f"    promises the plans loosened: {len(morning.loosened)}; rides planned beyond "
            f"their limit in an adopted state: {len(morning.too_long_adopted)}"
        )
        print(
            f"    fleet driving {morning.driving_s / 3600:.2f} h ({saved:+.1%} saved against "
            f"insertion alone); adopted batches took {morning.driving_taken_off_s / 3600:.2f} h "
            f"of driving and {morning.route_taken_off_s / 3600:.2f} h of route time off the plans"
        )
        print(
            f"    mean wait {morning.mean_wait_s / 60:.1f} min, mean ride "
            f"{morning.mean_ride_s / 60:.1f} min, last drop-off "
            f"{(morning.finished_at - NOW) / 3600:.2f} h after 08:00"
        )
    print(
        f"  adoption: {rebase.adopted}/{rebase.computed} with rebase vs "
        f"{identity.adopted}/{identity.computed} identity-only; fleet driving saved against "
        f"insertion alone: {(alone.driving_s - rebase.driving_s) / alone.driving_s:+.1%} vs "
        f"{(alone.driving_s - identity.driving_s) / alone.driving_s:+.1%}; served share "
        f"{rebase.kept / requests_count:.1%} vs {identity.kept / requests_count:.1%} "
        f"(insertion alone {alone.kept / requests_count:.1%})"
    )
    return runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shuttles", type=int, default=30)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--every-s", type=float, default=300.0)
    parser.add_argument("--budget-s", type=float, default=1.0)
    parser.add_argument("--elderly-share", type=float, default=0.5)
    args = parser.parse_args()
    print(
        f"fleet: {args.shuttles} shuttles × 6 seats at {TRAVEL.speed_kmh:g} km/h, a position "
        f"from each every {REPORT_EVERY_S:g} s and at each stop reached"
    )
    started = time.perf_counter()
    runs = compare("the service's batch (compute_batch)", args.requests, service_batch, args)
    print(f"\n(three mornings simulated in {time.perf_counter() - started:.0f} s)")
    for morning in runs:
        assert not morning.broken, f"{morning.policy}: {morning.broken}"
    print(
        "every drop-off ETA within its window in every adopted state; every accepted ride "
        "dropped off within its window"
    )


if __name__ == "__main__":
    main()
