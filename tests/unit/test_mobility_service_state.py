"""The shuttle service's state file: a lossless JSON round trip, clear errors, config changes,
and a loop built from it that keeps its promises."""

import asyncio
import contextlib
import json
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cloud.mobility import (
    CancellationError,
    Insertion,
    LoopState,
    MobilityServiceConfig,
    RideRequest,
    ShuttleServiceLoop,
    StateConflictError,
    StateDocumentError,
    decode_state,
    encode_state,
    fit_to_config,
)
from tests.support.shuttle_service import (
    DEPOT,
    NOW,
    RecordedCommands,
    RecordedLog,
    SteppedClock,
    cmd_result,
    position,
)

PLACES = [(36.5600 + 0.0007 * i, 136.6500 + 0.0005 * (i % 3)) for i in range(8)]
SHUTTLES = ("shuttle-1", "shuttle-2")


class Store:
    def __init__(self) -> None:
        self.saved: list[LoopState] = []

    def save(self, state: LoopState) -> None:
        self.saved.append(state)


def config(*shuttles: str, rides: list[dict[str, Any]] | None = None) -> MobilityServiceConfig:
    return MobilityServiceConfig.model_validate(
        {
            "site": "midorigaoka",
            "shuttles": [
                {"id": sid, "gateway": "gw-depot", "position": DEPOT, "capacity": 3}
                for sid in shuttles or SHUTTLES
            ],
            "rides": rides or [],
        }
    )


def ride(
    request: str, pickup: int, dropoff: int, earliest: float, window_s: float = 1800, **more: Any
) -> RideRequest:
    return RideRequest(
        request, PLACES[pickup], PLACES[dropoff], 1, earliest, earliest + window_s, **more
    )


@dataclass(frozen=True)
class Book:
    pickup: int
    dropoff: int
    lead_s: float
    max_ride: bool
    window_s: float = 1800


@dataclass(frozen=True)
class Drive:
    shuttle: int
    to_next_stop: bool


@dataclass(frozen=True)
class Cancel:
    index: int


@dataclass(frozen=True)
class Answer:
    shuttle: int
    status: str


@dataclass(frozen=True)
class Batch:
    """A round: the batch when due, the resends that are due."""


Operation = Book | Drive | Cancel | Answer | Batch

books = st.builds(
    Book,
    st.integers(0, 7),
    st.integers(0, 7),
    st.floats(0, 1800, allow_nan=False),
    st.booleans(),
    st.floats(120, 1800, allow_nan=False),  # short windows are refused
)
drives = st.builds(Drive, st.integers(0, 1), st.sampled_from([True, True, True, False]))
# Mostly bookings and drives (rides picked up and completed); now and then the rest.
operations = st.one_of(
    books,
    books,
    drives,
    drives,
    drives,
    st.builds(Cancel, st.integers(0, 20)),
    st.builds(Answer, st.integers(0, 1), st.sampled_from(["accepted", "applied", "failed"])),
    st.builds(Batch),
)


def play(steps: list[Operation]) -> ShuttleServiceLoop:
    """A loop after *steps*: rides booked (some refused), driven, cancelled, answered."""
    loop = ShuttleServiceLoop(config(), RecordedCommands(), now=NOW)
    at = NOW
    for number, step in enumerate(steps):
        at += 37.0
        if isinstance(step, Book):
            extra = {"max_ride_s": 600.0} if step.max_ride else {}
            loop.request(
                ride(
                    f"r{number}",
                    step.pickup,
                    step.dropoff,
                    at + step.lead_s,
                    step.window_s,
                    **extra,
                ),
                at,
            )
        elif isinstance(step, Drive):
            # A shuttle with stops ahead, if there is one: it drives to the next.
            busy = [sid for sid in SHUTTLES if loop.service.routes[sid].stops] or list(SHUTTLES)
            sid = busy[step.shuttle % len(busy)]
            route = loop.service.routes[sid]
            if step.to_next_stop and route.stops:
                at = max(at, route.stops[0].earliest + 1)  # fixes are whole ms
                loop.receive(*position(at, route.stops[0].position, vehicle=sid))
            else:
                loop.receive(*position(at, PLACES[3], vehicle=sid))
        elif isinstance(step, Cancel):
            booked = sorted(loop.service.rides)
            if booked:
                with contextlib.suppress(CancellationError):
                    loop.cancel(booked[step.index % len(booked)], at)
        elif isinstance(step, Batch):
            loop.step(at)
        else:
            sid = SHUTTLES[step.shuttle]
            latest = loop.delivery.latest(sid)
            if latest is not None:
                reason = "vehicle busy" if step.status == "failed" else None
                answer = cmd_result(latest.command_id, step.status, at, reason=reason, vehicle=sid)
                loop.command_result(*answer)
    return loop


#: Every kind of ride at least once: completed, aboard, scheduled, refused, cancelled.
A_BUSY_MORNING: list[Operation] = [
    Book(1, 5, 0, max_ride=False),
    Drive(0, to_next_stop=True),
    Drive(0, to_next_stop=True),
    Book(2, 6, 600, max_ride=True),
    Drive(0, to_next_stop=True),
    Book(3, 4, 900, max_ride=False),
    Cancel(2),
    Book(7, 0, 0, max_ride=False, window_s=120),
    Answer(0, "failed"),
    Drive(1, to_next_stop=False),
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, max_size=24))
@example(A_BUSY_MORNING)
def test_the_state_survives_json_unchanged(steps: list[Operation]) -> None:
    loop = play(steps)
    if steps is A_BUSY_MORNING:
        rides = [*loop.service.rides, *loop.service.cancelled]
        states = {loop.service.state_of(request) for request in rides}
        assert states == {"completed", "aboard", "cancelled"}
        assert loop.service.refused == 1
    state = loop.state()
    text = encode_state(state)
    assert decode_state(text) == state
    assert encode_state(decode_state(text)) == text


def test_a_loop_built_from_the_state_answers_as_the_old_one_did() -> None:
    old = play(
        [
            Book(1, 5, 300, max_ride=False),
            Book(2, 6, 600, max_ride=True),
            Drive(0, to_next_stop=True),
            Book(3, 4, 0, max_ride=False),
        ]
    )
    state = decode_state(encode_state(old.state()))
    new = ShuttleServiceLoop(config(), RecordedCommands(), now=NOW + 9999, restored=state)
    for request in old.service.rides:
        assert new.service.status(request, NOW + 200) == old.service.status(request, NOW + 200)
    assert new.report() == old.report()
    assert new.service.routes == old.service.routes
    assert new.state() == old.state()


def test_the_document_is_versioned_and_readable() -> None:
    loop = play([Book(1, 5, 300, max_ride=False)])
    document = json.loads(encode_state(loop.state()))
    assert (document["format"], document["version"], document["site"]) == (
        "hinode.mobility-state",
        1,
        "midorigaoka",
    )
    (ride_entry,) = document["rides"]
    assert ride_entry["request"] == "r0"
    shuttle = next(s for s in document["shuttles"] if s["stops"])
    assert [stop["action"] for stop in shuttle["stops"]] == ["pickup", "dropoff"]
    assert shuttle["command"]["seq"] == document["seq"]
    assert shuttle["command"]["id"] == f"route-{document['seq']}"


def spoilt(change: Any) -> str:
    document = json.loads(encode_state(play([Book(1, 5, 300, max_ride=False)]).state()))
    change(document)
    return json.dumps(document)


def busy(document: dict[str, Any]) -> dict[str, Any]:
    shuttle: dict[str, Any] = next(s for s in document["shuttles"] if s["stops"])
    return shuttle


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": "hinode.mobility-state", "vers', r"^not valid JSON"),
        ("[]", r"^expected a JSON object"),
        (
            spoilt(lambda d: d.update(version=2)),
            r"version: this service reads version 1, the document is 2",
        ),
        (spoilt(lambda d: d.update(format="other")), r"format: expected 'hinode.mobility-state'"),
        (spoilt(lambda d: d.update(refused=-1)), r"refused: Input should be greater than"),
        (spoilt(lambda d: d.pop("rides")), r"rides: Field required"),
        (
            spoilt(lambda d: busy(d)["timing"]["load_after"].append(1)),
            r"shuttles\.\d\.timing: timed for \[2, 3\] stops, the route has 2",
        ),
        (
            spoilt(lambda d: busy(d)["stops"][0].update(request="r9")),
            r"shuttles\.\d\.stops\.0\.request: no ride 'r9' in rides",
        ),
    ],
)
def test_a_spoilt_document_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(StateDocumentError, match=message):
        decode_state(text)


def promised_on_shuttle_2() -> LoopState:
    loop = ShuttleServiceLoop(config(), RecordedCommands(), now=NOW)
    # shuttle-1 far away, so that the ride goes to shuttle-2.
    loop.receive(*position(NOW + 1, (36.60, 136.70)))
    outcome = loop.request(ride("mrs-sato", 1, 5, NOW + 300), NOW + 2)
    assert isinstance(outcome, Insertion)
    assert outcome.shuttle == "shuttle-2"
    return loop.state()


def test_a_shuttle_gone_from_the_config_with_promises_is_refused_by_name() -> None:
    with pytest.raises(StateConflictError, match=r"shuttle 'shuttle-2' has rides mrs-sato ahead"):
        fit_to_config(promised_on_shuttle_2(), config("shuttle-1"))


def test_an_idle_shuttle_may_leave_and_a_new_one_joins_empty() -> None:
    state = promised_on_shuttle_2()
    fitted, changes = fit_to_config(state, config("shuttle-2", "shuttle-3"))
    assert changes == [
        "shuttle 'shuttle-1' left (not in the config, no rides ahead)",
        "shuttle 'shuttle-3' joined (new in the config)",
    ]
    routes = fitted.service.result.routes
    assert set(routes) == {"shuttle-2", "shuttle-3"}
    assert routes["shuttle-2"] == state.service.result.routes["shuttle-2"]
    assert (routes["shuttle-3"].stops, routes["shuttle-3"].shuttle.position) == ((), DEPOT)
    loop = ShuttleServiceLoop(
        config("shuttle-2", "shuttle-3"), RecordedCommands(), now=NOW, restored=fitted
    )
    assert loop.service.state_of("mrs-sato") == "scheduled"


def seats(capacity: int, **more: Any) -> MobilityServiceConfig:
    return config().model_copy(
        update={
            "shuttles": [s.model_copy(update={"capacity": capacity}) for s in config().shuttles],
            **more,
        }
    )


def test_another_site_or_too_few_seats_for_the_riders_is_refused() -> None:
    state = promised_on_shuttle_2()
    with pytest.raises(StateConflictError, match=r"site 'midorigaoka'.*site 'other'"):
        fit_to_config(state, config().model_copy(update={"site": "other"}))
    # One rider at a time fits one seat; two riders booked together do not.
    fitted, changes = fit_to_config(state, seats(1))
    assert "shuttle 'shuttle-2' now seats 1 (was 3)" in changes
    assert fitted.service.result.routes["shuttle-2"].shuttle.capacity == 1
    loop = ShuttleServiceLoop(config(), RecordedCommands(), now=NOW, restored=state)
    couple = replace(ride("the-tanakas", 1, 5, NOW + 300), passengers=2)
    assert isinstance(loop.request(couple, NOW + 3), Insertion)
    with pytest.raises(StateConflictError, match=r"'shuttle-2' has 1 seats.*carries 3 riders"):
        fit_to_config(loop.state(), seats(1))


def test_a_slower_travel_model_re_times_the_routes_and_keeps_the_promise() -> None:
    state = promised_on_shuttle_2()
    fitted, changes = fit_to_config(state, seats(3, speed_kmh=4.0))
    assert changes == ["the travel model changed: routes re-timed"]
    before = state.service.result.routes["shuttle-2"].timing.service
    after = fitted.service.result.routes["shuttle-2"].timing.service
    assert all(later >= earlier for earlier, later in zip(before, after, strict=True))
    assert after[-1] > before[-1]  # the drop-off, after a slower ride
    assert fitted.service.rides == state.service.rides  # the promise stands as it was made


def test_a_state_that_cannot_be_saved_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    class FullDisk:
        def save(self, state: LoopState) -> None:
            raise OSError(28, "No space left on device")

    loop = ShuttleServiceLoop(config(), RecordedCommands(), now=NOW, state_store=FullDisk())
    assert not loop.save_state()
    assert not loop.save_state()
    assert [r.getMessage() for r in caplog.records] == ["cannot save the service state"]


def test_a_loop_built_unfitted_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="fit_to_config"):
        ShuttleServiceLoop(
            config("shuttle-1"), RecordedCommands(), now=NOW, restored=promised_on_shuttle_2()
        )


async def test_a_restarted_loop_resends_each_route_once_and_books_nothing_twice() -> None:
    rides = [
        {
            "id": "mrs-sato",
            "pickup": PLACES[1],
            "dropoff": PLACES[5],
            "earliest_pickup": "2026-11-23T17:10:00+09:00",
            "latest_dropoff": "2026-11-23T18:00:00+09:00",
        }
    ]
    first_commands, store = RecordedCommands(), Store()
    first = ShuttleServiceLoop(config(rides=rides), first_commands, now=NOW, state_store=store)
    await first.run(SteppedClock(NOW), rounds=2)
    assert store.saved, "saved on the way out"
    saved = decode_state(encode_state(store.saved[-1]))
    assert saved.service.rides.keys() == {"mrs-sato"}
    (shuttle,) = [sid for sid, route in saved.service.result.routes.items() if route.stops]
    first_seq = first_commands.sent[-1].seq

    commands, log = RecordedCommands(), RecordedLog()
    fitted, _ = fit_to_config(saved, config(rides=rides))
    second = ShuttleServiceLoop(
        config(rides=rides), commands, now=NOW + 5, service_log=log, restored=fitted
    )
    # The clock went back: the seq still goes on above the saved one.
    await second.run(SteppedClock(NOW - 60), rounds=1)
    (resent,) = commands.sent
    assert resent.seq > first_seq
    assert resent.route is not None
    assert [(s.request, s.action) for s in resent.route.stops] == [
        ("mrs-sato", "pickup"),
        ("mrs-sato", "dropoff"),
    ]
    assert [entry["event"] for entry in log.entries] == ["route_resent"]
    assert log.entries[0]["because"] == "service restarted"
    assert log.entries[0]["shuttle"] == shuttle
    assert second.commands_resent == 1
    assert second.service.state_of("mrs-sato") == "scheduled"
    assert second.report().rides == first.report().rides


async def test_changes_are_saved_at_most_once_a_second_and_always_on_the_way_out() -> None:
    class Sleeping(SteppedClock):
        async def sleep(self, seconds: float) -> None:
            await asyncio.sleep(seconds)

    store = Store()
    fast = config().model_copy(update={"interval_s": 0.05})
    loop = ShuttleServiceLoop(fast, RecordedCommands(), now=NOW, state_store=store)
    running = asyncio.create_task(loop.run(Sleeping(NOW), rounds=8))
    await asyncio.sleep(0.01)
    assert store.saved == []  # nothing changed yet
    loop.request(ride("r0", 1, 5, NOW + 600), NOW)
    await asyncio.sleep(0.01)
    assert [set(state.service.result.requests) for state in store.saved] == [{"r0"}]
    for number in range(1, 20):
        loop.request(ride(f"r{number}", number % 8, (number + 3) % 8, NOW + 600), NOW)
    await running
    # The first change at once; the 19 within the next second together, as the loop stopped.
    assert len(store.saved) == 2
    assert set(store.saved[-1].service.result.requests) == {f"r{n}" for n in range(20)}
