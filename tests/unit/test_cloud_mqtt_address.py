"""Broker URLs the collector accepts."""

import pytest

from cloud._mqtt import BrokerAddress
from messages import ConfigError


def test_plain_tls_and_credentials() -> None:
    assert BrokerAddress.parse("mqtt://127.0.0.1:1884") == BrokerAddress(
        "127.0.0.1", 1884, tls=False, username=None, password=None
    )
    secure = BrokerAddress.parse("mqtts://collector:p%40ss@broker.example")
    assert (secure.port, secure.tls, secure.username, secure.password) == (
        8883,
        True,
        "collector",
        "p@ss",
    )


@pytest.mark.parametrize("url", ["http://x", "mqtt://", "mqtt://host:port", "broker:1883"])
def test_a_bad_broker_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="broker URL"):
        BrokerAddress.parse(url)
