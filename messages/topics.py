"""Topic builders and parsers for every topic of the wire contract.

hinode/v1/{site}/{gateway}/state
hinode/v1/{site}/{gateway}/telemetry/{device}
hinode/v1/{site}/{gateway}/vitals/{subject}
hinode/v1/{site}/{gateway}/position/{vehicle}
hinode/v1/{site}/{gateway}/events
hinode/v1/{site}/{gateway}/cmd/{device}
hinode/v1/{site}/{gateway}/cmd-result/{device}
"""

from dataclasses import dataclass
from enum import StrEnum

from messages.errors import ContractError
from messages.ids import is_valid_id

PREFIX = "hinode/v1"


class TopicKind(StrEnum):
    """The last-but-one (or last) level of a topic: what the message is."""

    STATE = "state"
    TELEMETRY = "telemetry"
    VITALS = "vitals"
    POSITION = "position"
    EVENTS = "events"
    CMD = "cmd"
    CMD_RESULT = "cmd-result"


#: Kinds whose topic ends with the id of a device, subject or vehicle.
KINDS_WITH_LEAF = frozenset(
    {TopicKind.TELEMETRY, TopicKind.VITALS, TopicKind.POSITION, TopicKind.CMD, TopicKind.CMD_RESULT}
)

#: QoS of each kind (position may also be sent at 0 by a fleet that prefers freshness).
QOS = {
    TopicKind.STATE: 1,
    TopicKind.TELEMETRY: 1,
    TopicKind.VITALS: 1,
    TopicKind.POSITION: 1,
    TopicKind.EVENTS: 1,
    TopicKind.CMD: 1,
    TopicKind.CMD_RESULT: 1,
}


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed topic. *leaf* is the device, subject or vehicle id, or None."""

    site: str
    gateway: str
    kind: TopicKind
    leaf: str | None = None

    def __post_init__(self) -> None:
        _check_id("site", self.site)
        _check_id("gateway", self.gateway)
        if self.kind in KINDS_WITH_LEAF:
            if self.leaf is None:
                msg = f"a {self.kind} topic needs a device/subject/vehicle id"
                raise ContractError(msg)
            _check_id(_leaf_name(self.kind), self.leaf)
        elif self.leaf is not None:
            msg = f"a {self.kind} topic takes no id after the kind, got {self.leaf!r}"
            raise ContractError(msg)

    def __str__(self) -> str:
        base = f"{PREFIX}/{self.site}/{self.gateway}/{self.kind}"
        return base if self.leaf is None else f"{base}/{self.leaf}"


def _leaf_name(kind: TopicKind) -> str:
    return {TopicKind.VITALS: "subject", TopicKind.POSITION: "vehicle"}.get(kind, "device")


def _check_id(what: str, value: str) -> None:
    if not is_valid_id(value):
        msg = f"invalid {what} id {value!r}: expected [a-z0-9][a-z0-9-]{{0,62}}"
        raise ContractError(msg)


def state_topic(site: str, gateway: str) -> str:
    return str(Topic(site, gateway, TopicKind.STATE))


def events_topic(site: str, gateway: str) -> str:
    return str(Topic(site, gateway, TopicKind.EVENTS))


def telemetry_topic(site: str, gateway: str, device: str) -> str:
    return str(Topic(site, gateway, TopicKind.TELEMETRY, device))


def vitals_topic(site: str, gateway: str, subject: str) -> str:
    return str(Topic(site, gateway, TopicKind.VITALS, subject))


def position_topic(site: str, gateway: str, vehicle: str) -> str:
    return str(Topic(site, gateway, TopicKind.POSITION, vehicle))


def cmd_topic(site: str, gateway: str, device: str) -> str:
    return str(Topic(site, gateway, TopicKind.CMD, device))


def cmd_result_topic(site: str, gateway: str, device: str) -> str:
    return str(Topic(site, gateway, TopicKind.CMD_RESULT, device))


def parse_topic(topic: str) -> Topic:
    """Parse a concrete topic; raise ContractError saying what is wrong with it."""
    parts = topic.split("/")
    if len(parts) < 5 or f"{parts[0]}/{parts[1]}" != PREFIX:
        msg = f"topic {topic!r} is not under {PREFIX}/{{site}}/{{gateway}}/{{kind}}"
        raise ContractError(msg)
    site, gateway, kind_text, *rest = parts[2:]
    try:
        kind = TopicKind(kind_text)
    except ValueError:
        msg = f"topic {topic!r} has unknown kind {kind_text!r}"
        raise ContractError(msg) from None
    if len(rest) > 1:
        msg = f"topic {topic!r} has too many levels"
        raise ContractError(msg)
    return Topic(site, gateway, kind, rest[0] if rest else None)


def subscription(kind: TopicKind, *, site: str = "+", gateway: str = "+") -> str:
    """A subscription filter for one kind across sites and gateways (or one of them)."""
    base = f"{PREFIX}/{site}/{gateway}/{kind}"
    return f"{base}/+" if kind in KINDS_WITH_LEAF else base


def shared(filter_: str, group: str) -> str:
    """The MQTT v5 shared-subscription form of *filter_* for consumer *group*."""
    return f"$share/{group}/{filter_}"
