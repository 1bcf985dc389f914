"""The shuttle service loop with in-memory ports: route commands out, positions in."""

import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from cloud.mobility import (
    CancellationError,
    DispatchResult,
    Insertion,
    MobilityServiceConfig,
    Refusal,
    RideRequest,
    ServiceShuttle,
    ShuttleServiceLoop,
    compute_batch,
    distance_m,
)
from cloud.mobility import _service_loop as service_loop
from hinode.cli import app
from messages import CmdResultPayload, encode
from messages import topics as t
from tests.support.shuttle_service import (
    BUS_STOP,
    DEPOT,
    ESTATE,
    NOW,
    RecordedCommands,
    RecordedLog,
    SteppedClock,
    cmd_result,
    position,
)


def service() -> tuple[ShuttleServiceLoop, RecordedCommands, RecordedLog]:
    config = MobilityServiceConfig(
        site="midorigaoka",
        dwell_s=20,
        command_ttl_s=60,
        shuttles=[ServiceShuttle(id="shuttle-1", gateway="gw-depot", position=DEPOT, capacity=4)],
    )
    commands, log = RecordedCommands(), RecordedLog()
    return ShuttleServiceLoop(config, commands, now=NOW, service_log=log), commands, log


def ride(request: str, earliest: float = NOW + 60) -> RideRequest:
    return RideRequest(request, ESTATE, BUS_STOP, 1, earliest, NOW + 3600)


def test_an_assigned_ride_sends_the_shuttle_its_route_with_an_expiry() -> None:
    loop, commands, log = service()
    outcome = loop.request(ride("mrs-sato"), NOW)
    assert isinstance(outcome, Insertion)
    ((topic, command),) = commands.published
    assert topic == "hinode/v1/midorigaoka/gw-depot/cmd/shuttle-1"
    assert (command.kind, command.gateway, command.expires_at) == (
        "route",
        "gw-depot",
        int(NOW * 1000) + 60_000,
    )
    assert command.route is not None
    pickup, dropoff = command.route.stops
    assert (pickup.request, pickup.action, pickup.position) == ("mrs-sato", "pickup", ESTATE)
    assert (dropoff.action, dropoff.position) == ("dropoff", BUS_STOP)
    assert pickup.eta == int(outcome.pickup_eta * 1000)
    assert dropoff.eta == int(outcome.dropoff_eta * 1000)
    assert log.entries[0]["event"] == "assigned"


def test_stops_served_are_not_news_but_a_new_ride_is() -> None:
    loop, commands, log = service()
    loop.request(ride("mrs-sato"), NOW)
    reached = loop.receive(*position(NOW + 120, ESTATE))
    assert [(s.request, s.action) for s in reached] == [("mrs-sato", "pickup")]
    assert len(commands.sent) == 1  # the shuttle knows what is left
    assert {"event": "pickup", "request": "mrs-sato", "wait_s": 60.0}.items() <= log.entries[
        -1
    ].items()
    loop.request(ride("mr-ito", earliest=NOW + 130), NOW + 125)
    assert len(commands.sent) == 2
    route = commands.sent[-1].route
    assert route is not None
    assert {(s.request, s.action) for s in route.stops} == {
        ("mrs-sato", "dropoff"),
        ("mr-ito", "pickup"),
        ("mr-ito", "dropoff"),
    }


def test_a_ride_through_to_the_drop_off_reports_wait_and_ride_time() -> None:
    loop, _, log = service()
    loop.request(ride("mrs-sato"), NOW)
    loop.receive(*position(NOW + 100, ESTATE))
    loop.receive(*position(NOW + 400, BUS_STOP))
    (record,) = loop.report().completed
    assert (record.wait_s, record.ride_s) == (40.0, 300.0)
    assert log.entries[-1]["event"] == "dropoff"
    assert log.entries[-1]["ride_s"] == 300.0
    assert distance_m(ESTATE, BUS_STOP) > 200


def test_a_refused_ride_sends_nothing_and_is_logged() -> None:
    loop, commands, log = service()
    impossible = RideRequest("mr-ito", ESTATE, BUS_STOP, 9, NOW, NOW + 3600)
    assert isinstance(loop.request(impossible, NOW), Refusal)
    assert commands.sent == []
    assert log.entries[-1]["event"] == "refused"
    assert loop.report().refused == 1


def test_positions_of_other_vehicles_and_broken_messages_are_ignored() -> None:
    loop, _, _ = service()
    topic = t.position_topic("midorigaoka", "gw-depot", "scooter-7")
    assert loop.receive(topic, b"{not json") == []
    assert loop.positions_received == 0


def test_the_config_refuses_the_same_shuttle_twice() -> None:
    shuttle = {"id": "shuttle-1", "gateway": "gw-depot", "position": DEPOT, "capacity": 4}
    with pytest.raises(ValidationError, match="unique"):
        MobilityServiceConfig.model_validate({"site": "x", "shuttles": [shuttle, shuttle]})


def test_run_with_a_bad_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "mobility.yaml"
    config.write_text(json.dumps({"site": "midorigaoka", "shuttles": []}))
    result = CliRunner().invoke(
        app,
        ["mobility", "run", str(config), "--broker", "mqtt://127.0.0.1:1", "--data-dir", "d"],
    )
    assert result.exit_code == 2
    assert "shuttles" in result.output
    assert not (tmp_path / "d").exists()


def test_a_route_never_answered_is_resent_with_fresh_timing_and_a_new_id() -> None:
    loop, commands, log = service()
    loop.request(ride("mrs-sato"), NOW)
    loop.step(NOW + 14)
    assert len(commands.sent) == 1
    loop.step(NOW + 15)
    assert len(commands.sent) == 2
    first, again = commands.sent[0], commands.sent[1]
    assert again.id != first.id
    assert again.seq > first.seq
    assert again.sent_at == int((NOW + 15) * 1000)
    assert again.expires_at == again.sent_at + 60_000
    assert again.route is not None
    assert first.route is not None
    assert [s.request for s in again.route.stops] == [s.request for s in first.route.stops]
    assert (loop.commands_sent, loop.commands_resent) == (2, 1)
    resent = log.of("route_resent")
    assert resent == [
        {
            "event": "route_resent",
            "shuttle": "shuttle-1",
            "command": again.id,
            "attempt": 2,
            "because": "no answer",
        }
    ]
    # Once accepted it rests.
    loop.command_result(*cmd_result(again.id, "accepted", NOW), now=NOW + 16)
    loop.step(NOW + 600)
    assert loop.commands_resent == 1


def test_a_route_rejected_as_expired_is_resent_at_once() -> None:
    loop, commands, _ = service()
    loop.request(ride("mrs-sato"), NOW)
    command = commands.sent[0].id
    verdict = loop.command_result(
        *cmd_result(command, "rejected", NOW, reason="expired 3000 ms ago"), now=NOW + 2
    )
    assert verdict is not None
    assert verdict.verdict == "expired"
    assert loop.resend_due(NOW + 2) == ["shuttle-1"]
    assert len(commands.sent) == 2


def test_a_refused_route_is_logged_once_and_retried_after_resend_after_s() -> None:
    loop, commands, log = service()
    loop.request(ride("mrs-sato"), NOW)
    loop.command_result(
        *cmd_result(commands.sent[-1].id, "failed", NOW, reason="door stuck"), now=NOW + 1
    )
    loop.step(NOW + 15)
    assert len(commands.sent) == 1
    loop.step(NOW + 16)
    assert len(commands.sent) == 2
    loop.command_result(
        *cmd_result(commands.sent[-1].id, "failed", NOW, reason="door stuck"), now=NOW + 17
    )
    refused = log.of("route_refused")
    assert len(refused) == 1
    assert refused[0]["reason"] == "door stuck"
    assert log.entries[-1]["event"] != "route_refused"


def test_a_result_for_an_older_route_is_ignored() -> None:
    loop, commands, _ = service()
    loop.request(ride("mrs-sato"), NOW)
    loop.request(ride("mr-ito", earliest=NOW + 90), NOW + 1)
    older, latest = commands.sent[0].id, commands.sent[1].id
    verdict = loop.command_result(*cmd_result(older, "applied", NOW), now=NOW + 2)
    assert verdict is not None
    assert verdict.verdict == "stale"
    assert loop.resend_due(NOW + 16) == ["shuttle-1"]
    assert commands.sent[-1].id not in (older, latest)
    assert loop.commands_applied == 0


def test_the_routes_a_vehicle_applied_are_counted_once_each() -> None:
    loop, commands, _ = service()
    loop.request(ride("mrs-sato"), NOW)
    sent = commands.sent[-1].id
    loop.command_result(*cmd_result(sent, "accepted", NOW), now=NOW + 1)
    assert loop.commands_applied == 0
    loop.command_result(*cmd_result(sent, "applied", NOW), now=NOW + 2)
    assert loop.commands_applied == 1
    loop.command_result(*cmd_result(sent, "applied", NOW), now=NOW + 3)  # redelivered
    assert loop.commands_applied == 1


def test_results_of_other_gateways_and_broken_ones_are_ignored() -> None:
    loop, commands, _ = service()
    loop.request(ride("mrs-sato"), NOW)
    assert loop.command_result(t.cmd_result_topic("midorigaoka", "gw-depot", "x"), b"{") is None
    payload = CmdResultPayload(
        gateway="gw-other",
        boot_id="c0ffee00c0ffee00",
        seq=2,
        sent_at=int(NOW * 1000),
        command_id=commands.sent[0].id,
        device="shuttle-1",
        status="applied",
        ts=int(NOW * 1000),
    )
    topic = t.cmd_result_topic("midorigaoka", "gw-other", "shuttle-1")
    assert loop.command_result(topic, encode(payload)) is None
    assert loop.resend_due(NOW + 15) == ["shuttle-1"]


def test_cancelling_the_only_ride_sends_an_empty_route() -> None:
    loop, commands, log = service()
    loop.request(ride("mrs-sato"), NOW)
    assert loop.cancel("mrs-sato", NOW + 10) == "shuttle-1"
    route = commands.sent[-1].route
    assert route is not None
    assert route.stops == []
    assert {"event": "cancelled", "request": "mrs-sato"}.items() <= log.entries[-2].items()
    assert loop.report().cancelled == 1
    assert loop.report().rides == ()


def test_a_ride_aboard_cannot_be_cancelled() -> None:
    loop, commands, _ = service()
    loop.request(ride("mrs-sato"), NOW)
    loop.receive(*position(NOW + 100, ESTATE))
    with pytest.raises(CancellationError, match="aboard") as raised:
        loop.cancel("mrs-sato", NOW + 110)
    assert raised.value.state == "aboard"
    with pytest.raises(CancellationError, match="no such ride"):
        loop.cancel("nobody", NOW + 110)
    assert len(commands.sent) == 1


async def test_a_batch_that_missed_a_booking_is_dropped_and_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop, _, log = service()
    loop.request(ride("mrs-sato", earliest=NOW + 600), NOW)

    clock = SteppedClock(NOW + loop.config.reoptimise_every_s)
    snapshots: list[DispatchResult] = []

    def batch_while_a_ride_is_booked(snapshot: DispatchResult, budget_s: float) -> DispatchResult:
        snapshots.append(snapshot)
        if len(snapshots) == 1:
            loop.request(ride("mr-kato", earliest=NOW + 900), clock.now() + 0.5)
        return compute_batch(snapshot, budget_s)

    monkeypatch.setattr(service_loop, "compute_batch", batch_while_a_ride_is_booked)
    await loop.step_async(clock)
    assert (len(snapshots), loop.batches_dropped) == (1, 1)
    assert not any(entry["event"] == "reoptimised" for entry in log.entries)
    # The ride the batch did not know of stands.
    assert loop.service.booked("mr-kato")
    assert loop.service.result.now == clock.now() + 0.5
    # The next round computes again; this time nothing changed meanwhile.
    clock.at += 1
    await loop.step_async(clock)
    assert (len(snapshots), loop.batches_dropped) == (2, 1)
    assert log.entries[-1]["event"] == "reoptimised"
    assert loop.service.result.now == clock.now()


async def test_a_batch_that_missed_only_positions_is_adopted_from_where_the_shuttle_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop, _, log = service()
    loop.request(ride("mrs-sato", earliest=NOW + 600), NOW)

    clock = SteppedClock(NOW + loop.config.reoptimise_every_s)

    def batch_while_a_position_arrives(snapshot: DispatchResult, budget_s: float) -> DispatchResult:
        loop.receive(*position(clock.now() + 0.5, DEPOT))
        return compute_batch(snapshot, budget_s)

    monkeypatch.setattr(service_loop, "compute_batch", batch_while_a_position_arrives)
    await loop.step_async(clock)
    assert loop.batches_dropped == 0
    assert any(entry["event"] == "reoptimised" for entry in log.entries)
    # Timed from the position the batch did not know of.
    assert loop.service.result.now == clock.now() + 0.5
