"""The identity registry on PostgreSQL, as production keeps it beside the collector's tables."""

import pytest

from cloud import open_state
from cloud.registry import Identity, IdentityRegistry
from messages import ConfigError

pytestmark = pytest.mark.integration


def test_registry_on_postgresql_beside_the_collector_tables(postgres_url: str) -> None:
    state = open_state(postgres_url)  # the collector's tables in the same schema
    registry = IdentityRegistry(postgres_url)
    try:
        registry.add(Identity("gw-1", "gateway", "cert", 1, site="lab", cert_serial="abc123"))
        registry.add(Identity("collector", "collector", "password", 2, password_hash="$7$x"))
        with pytest.raises(ConfigError, match="already provisioned"):
            registry.add(Identity("gw-1", "gateway", "cert", 3, site="lab"))

        revoked = registry.revoke("gw-1", 10)

        assert revoked.revoked_at == 10
        assert [i.name for i in registry.active()] == ["collector"]
        [certificate] = registry.revoked_certificates()
        assert (certificate.serial, certificate.name) == ("abc123", "gw-1")
        assert state.gateways() == []  # the collector's tables are untouched
    finally:
        registry.close()
        state.close()
    reopened = IdentityRegistry(postgres_url)
    try:
        assert {i.name for i in reopened.all()} == {"gw-1", "collector"}
    finally:
        reopened.close()
