"""Topic builders and parsers of the wire contract."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messages import ContractError, Topic, TopicKind, parse_topic
from messages.topics import KINDS_WITH_LEAF, shared, subscription, telemetry_topic

ids = st.from_regex(r"[a-z0-9][a-z0-9-]{0,62}", fullmatch=True)


@given(site=ids, gateway=ids, leaf=ids, kind=st.sampled_from(list(TopicKind)))
def test_build_then_parse_gives_the_same_topic(
    site: str, gateway: str, leaf: str, kind: TopicKind
) -> None:
    topic = Topic(site, gateway, kind, leaf if kind in KINDS_WITH_LEAF else None)
    assert parse_topic(str(topic)) == topic


def test_telemetry_topic_layout() -> None:
    assert telemetry_topic("s1", "gw-1", "meter-1") == "hinode/v1/s1/gw-1/telemetry/meter-1"


@pytest.mark.parametrize(
    ("topic", "complaint"),
    [
        ("hinode/v1/Site/gw/state", "invalid site id 'Site'"),
        ("hinode/v1/s/gw_1/state", "invalid gateway id 'gw_1'"),
        ("hinode/v1/s/gw/telemetry", "needs a device"),
        ("hinode/v1/s/gw/state/extra", "takes no id"),
        ("hinode/v1/s/gw/telemetry/-bad", "invalid device id"),
        ("hinode/v1/s/gw/weather/x", "unknown kind 'weather'"),
        ("hinode/v2/s/gw/state", "is not under hinode/v1"),
        ("hinode/v1/s/gw/telemetry/a/b", "too many levels"),
        ("hinode/v1/s/gw/vitals/" + "a" * 64, "invalid subject id"),
    ],
)
def test_bad_topics_are_refused_with_a_reason(topic: str, complaint: str) -> None:
    with pytest.raises(ContractError, match=complaint):
        parse_topic(topic)


def test_subscription_filters() -> None:
    assert subscription(TopicKind.TELEMETRY) == "hinode/v1/+/+/telemetry/+"
    assert subscription(TopicKind.STATE, site="s1") == "hinode/v1/s1/+/state"
    assert shared(subscription(TopicKind.EVENTS), "hinode") == "$share/hinode/hinode/v1/+/+/events"
