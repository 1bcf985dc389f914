"""Whether each shuttle got its latest route: the last route command, its outcome, when to resend.

Pure: the loop tells it what it sent and what the gateway answered, with the time; it says which
shuttles are due a resend. A command unanswered for ``resend_after_s`` is resent; one rejected as
expired (it waited for an offline gateway) is resent at once; one the vehicle refused is retried
after ``resend_after_s``. Each further attempt at the same route waits twice as long, up to
``max_resend_after_s`` (a gateway offline for an hour is not sent a route every 15 s all along).
Only the answer to a shuttle's latest command counts.
"""

from dataclasses import dataclass, replace
from typing import Literal

Outcome = Literal["sent", "accepted", "applied", "rejected", "failed"]
Verdict = Literal["stale", "delivered", "expired", "refused"]


@dataclass(frozen=True, slots=True)
class RouteCommand:
    """The last route command sent to one shuttle and what became of it."""

    command_id: str
    sent_at: float
    #: 1 for the first send of a route; each resend of the same stops adds one.
    attempt: int
    outcome: Outcome = "sent"
    reason: str | None = None
    #: When to send it again; None once the gateway accepted it.
    resend_at: float | None = None


@dataclass(frozen=True, slots=True)
class ResultVerdict:
    """What an answer meant; ``first_refusal`` is True when this refusal is news (log it)."""

    verdict: Verdict
    command: RouteCommand | None
    first_refusal: bool = False


class RouteDelivery:
    """Per shuttle, the latest route command and its outcome."""

    def __init__(self, resend_after_s: float, max_resend_after_s: float = 300.0) -> None:
        if resend_after_s <= 0:
            msg = f"resend_after_s must be positive, got {resend_after_s}"
            raise ValueError(msg)
        self.resend_after_s = resend_after_s
        self.max_resend_after_s = max(max_resend_after_s, resend_after_s)
        self._latest: dict[str, RouteCommand] = {}
        #: The refusal already reported for the route now being resent (reset by a new route).
        self._refusal: dict[str, str] = {}

    def latest(self, shuttle: str) -> RouteCommand | None:
        return self._latest.get(shuttle)

    def refusal_reported(self, shuttle: str) -> str | None:
        """The refusal already logged for the route now being resent, if any."""
        return self._refusal.get(shuttle)

    def restore(self, shuttle: str, command: RouteCommand, refusal_reported: str | None) -> None:
        """Take up a shuttle's latest command as a previous run of the service left it."""
        self._latest[shuttle] = command
        if refusal_reported is None:
            self._refusal.pop(shuttle, None)
        else:
            self._refusal[shuttle] = refusal_reported

    def sent(self, shuttle: str, command_id: str, at: float, *, resend: bool) -> RouteCommand:
        """A route command went out: a new route (``resend=False``) or the same one again."""
        previous = self._latest.get(shuttle)
        attempt = previous.attempt + 1 if resend and previous is not None else 1
        if not resend:
            self._refusal.pop(shuttle, None)
        command = RouteCommand(command_id, at, attempt, resend_at=at + self.wait_s(attempt))
        self._latest[shuttle] = command
        return command

    def result(
        self, shuttle: str, command_id: str, status: Outcome, reason: str | None, at: float
    ) -> ResultVerdict:
        """The gateway's answer to a command, received at *at*."""
        command = self._latest.get(shuttle)
        if command is None or command.command_id != command_id or status == "sent":
            return ResultVerdict("stale", command)
        if status in ("accepted", "applied"):
            if command.outcome in ("rejected", "failed"):
                return ResultVerdict("stale", command)  # the gateway's last word was no
            delivered = replace(command, outcome=status, reason=reason, resend_at=None)
            self._latest[shuttle] = delivered
            return ResultVerdict("delivered", delivered)
        if status == "rejected" and (reason or "").startswith("expired"):
            expired = replace(command, outcome=status, reason=reason, resend_at=at)
            self._latest[shuttle] = expired
            return ResultVerdict("expired", expired)
        refused = replace(
            command, outcome=status, reason=reason, resend_at=at + self.wait_s(command.attempt)
        )
        self._latest[shuttle] = refused
        told = reason or status
        first = self._refusal.get(shuttle) != told
        self._refusal[shuttle] = told
        return ResultVerdict("refused", refused, first_refusal=first)

    def wait_s(self, attempt: int) -> float:
        """How long attempt *attempt* (1, 2, …) of a route is given before the next."""
        factor = 2.0 ** min(attempt - 1, 32)
        return min(self.resend_after_s * factor, self.max_resend_after_s)

    def due(self, now: float) -> list[str]:
        """Shuttles whose latest command should be sent again now."""
        return sorted(
            shuttle
            for shuttle, command in self._latest.items()
            if command.resend_at is not None and command.resend_at <= now
        )
