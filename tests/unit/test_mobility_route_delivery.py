"""When a shuttle's route goes out again: unanswered, expired, refused, answered (a fake clock)."""

from typing import Literal

import pytest

from cloud.mobility import RouteDelivery

T = 1_795_420_800.0


def delivery() -> RouteDelivery:
    tracker = RouteDelivery(resend_after_s=15)
    tracker.sent("shuttle-1", "route-1", T, resend=False)
    return tracker


def test_an_unanswered_route_is_due_after_resend_after_s() -> None:
    tracker = delivery()
    assert tracker.due(T + 14.9) == []
    assert tracker.due(T + 15) == ["shuttle-1"]
    again = tracker.sent("shuttle-1", "route-2", T + 15, resend=True)
    assert again.attempt == 2
    # The second attempt is given twice as long.
    assert tracker.due(T + 44.9) == []
    assert tracker.due(T + 45) == ["shuttle-1"]


def test_attempts_at_one_route_back_off_up_to_the_cap_and_a_new_route_starts_over() -> None:
    tracker = RouteDelivery(resend_after_s=15, max_resend_after_s=100)
    at, waits = T, []
    tracker.sent("shuttle-1", "route-1", at, resend=False)
    for attempt in range(2, 7):
        command = tracker.latest("shuttle-1")
        assert command is not None
        assert command.resend_at is not None
        waits.append(command.resend_at - at)
        at = command.resend_at
        assert tracker.due(at) == ["shuttle-1"]
        tracker.sent("shuttle-1", f"route-{attempt}", at, resend=True)
    assert waits == [15, 30, 60, 100, 100]
    fresh = tracker.sent("shuttle-1", "route-new", at + 1, resend=False)
    assert (fresh.attempt, fresh.resend_at) == (1, at + 1 + 15)


@pytest.mark.parametrize("status", ["accepted", "applied"])
def test_an_accepted_route_is_never_resent(status: Literal["accepted", "applied"]) -> None:
    tracker = delivery()
    verdict = tracker.result("shuttle-1", "route-1", status, None, T + 1)
    assert verdict.verdict == "delivered"
    assert tracker.due(T + 3600) == []


def test_an_expired_route_is_due_at_once() -> None:
    tracker = delivery()
    verdict = tracker.result("shuttle-1", "route-1", "rejected", "expired 5000 ms ago", T + 2)
    assert verdict.verdict == "expired"
    assert tracker.due(T + 2) == ["shuttle-1"]


def test_a_refusal_is_news_once_and_retried_after_resend_after_s() -> None:
    tracker = delivery()
    first = tracker.result("shuttle-1", "route-1", "failed", "door stuck", T + 5)
    assert (first.verdict, first.first_refusal) == ("refused", True)
    assert tracker.due(T + 19) == []
    assert tracker.due(T + 20) == ["shuttle-1"]
    tracker.sent("shuttle-1", "route-2", T + 20, resend=True)
    again = tracker.result("shuttle-1", "route-2", "failed", "door stuck", T + 21)
    assert (again.verdict, again.first_refusal) == ("refused", False)
    other = tracker.result("shuttle-1", "route-2", "failed", "battery low", T + 21)
    assert other.first_refusal
    # A new route is a new story: its refusal is news again.
    tracker.sent("shuttle-1", "route-3", T + 30, resend=False)
    assert tracker.result("shuttle-1", "route-3", "rejected", "battery low", T + 31).first_refusal


def test_an_answer_to_an_older_command_is_ignored() -> None:
    tracker = delivery()
    tracker.sent("shuttle-1", "route-2", T + 1, resend=False)
    assert tracker.result("shuttle-1", "route-1", "applied", None, T + 2).verdict == "stale"
    assert tracker.result("shuttle-1", "route-1", "rejected", "expired", T + 2).verdict == "stale"
    assert tracker.due(T + 16) == ["shuttle-1"]  # route-2 is still unanswered
    assert tracker.result("shuttle-2", "route-2", "applied", None, T + 2).verdict == "stale"


def test_a_late_accept_does_not_undo_a_refusal() -> None:
    tracker = delivery()
    tracker.result("shuttle-1", "route-1", "failed", "door stuck", T + 1)
    assert tracker.result("shuttle-1", "route-1", "accepted", None, T + 2).verdict == "stale"
    assert tracker.due(T + 16) == ["shuttle-1"]


def test_resend_after_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RouteDelivery(resend_after_s=0)
