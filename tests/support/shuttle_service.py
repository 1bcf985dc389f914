"""In-memory ports of the shuttle service loop and the wire messages its gateway sends it."""

from datetime import datetime
from typing import Any

from cloud.mobility import JST
from messages import CmdPayload, CmdResultPayload, Fix, PositionPayload, decode, encode
from messages import topics as t

SITE = "midorigaoka"
GATEWAY = "gw-depot"
BOOT_ID = "c0ffee00c0ffee00"

NOW = 1_795_420_800.0  # 2026-11-23 15:00 JST
#: The depot, an estate about 111 m north of it and the bus stop 222 m further on.
DEPOT = (36.5600, 136.6500)
ESTATE = (36.5610, 136.6500)
BUS_STOP = (36.5630, 136.6500)


class RecordedCommands:
    """The command port: every route command the service publishes, decoded."""

    def __init__(self) -> None:
        self.published: list[tuple[str, CmdPayload]] = []

    def publish(self, topic: str, payload: bytes) -> None:
        command = decode(topic, payload).payload
        assert isinstance(command, CmdPayload)
        self.published.append((topic, command))

    @property
    def sent(self) -> list[CmdPayload]:
        return [command for _, command in self.published]

    def stops(self) -> list[tuple[str, str]]:
        """The stops of the latest route sent, as (request, action)."""
        route = self.sent[-1].route
        assert route is not None
        return [(stop.request, stop.action) for stop in route.stops]


class RecordedLog:
    """The service log: every entry, in order."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def record(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)

    def of(self, event: str) -> list[dict[str, Any]]:
        return [entry for entry in self.entries if entry["event"] == event]


class SteppedClock:
    """Simulated time that moves only when slept or set."""

    def __init__(self, at: float) -> None:
        self.at = at

    def now(self) -> float:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.at += seconds


def _envelope(at: float, *, seq: int) -> dict[str, Any]:
    """What every message from the depot's gateway starts with."""
    return {"gateway": GATEWAY, "boot_id": BOOT_ID, "seq": seq, "sent_at": int(at * 1000)}


def position(
    at: float, where: tuple[float, float], *, vehicle: str = "shuttle-1"
) -> tuple[str, bytes]:
    """The gateway's position message: *vehicle* stands at *where* at *at* (epoch seconds)."""
    payload = PositionPayload(
        **_envelope(at, seq=1),
        vehicle=vehicle,
        fixes=[Fix(ts=int(at * 1000), lat=where[0], lon=where[1], speed_mps=0, fix_quality="gps")],
    )
    return t.position_topic(SITE, GATEWAY, vehicle), encode(payload)


def cmd_result(
    command: str,
    status: str,
    at: float,
    *,
    reason: str | None = None,
    vehicle: str = "shuttle-1",
) -> tuple[str, bytes]:
    """The gateway's answer to route command *command*."""
    payload = CmdResultPayload(
        **_envelope(at, seq=2),
        command_id=command,
        device=vehicle,
        status=status,  # type: ignore[arg-type]
        reason=reason,
        ts=int(at * 1000),
    )
    return t.cmd_result_topic(SITE, GATEWAY, vehicle), encode(payload)


def iso(at: float) -> str:
    """*at* (epoch seconds) as the booking API writes a time: ISO 8601 in Japan time."""
    return datetime.fromtimestamp(at, JST).isoformat()
