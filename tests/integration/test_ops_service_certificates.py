"""Collectors and controllers with certificates from `hinode provision`, on the generated broker.

The bundles are used as `hinode provision collector|controller --auth cert` writes them: the
collector's `collector.yaml` read by the collector's own loader, the controller's files as its
`controller.env` names them. Only the broker's address is this test's (a free port).
"""

import asyncio
import datetime as dt
import shlex
from pathlib import Path

import pytest

from cloud import BrokerTls, Collector, ReadingQuery, load_config, open_state, open_timeseries
from hinode.mqtt_commands import PahoCommands
from hinode.provision import DEFAULT_OUTBOX, Deployment
from messages import WallClock
from tests.support.cloud_messages import telemetry
from tests.support.secure_mosquitto import Client, SecureMosquitto

pytestmark = pytest.mark.integration

NOW = dt.datetime.now(dt.UTC)
WAIT_S = 10.0
#: How long a message that must not arrive is given to arrive anyway.
QUIET_S = 0.5


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    deployment = Deployment.create(tmp_path / "pki", broker_hosts=["127.0.0.1"], now=NOW)
    deployment.provision_gateway(
        site="lab",
        gateway="gw-a",
        out=tmp_path / "gw-a",
        now=NOW,
        files_dir=str(tmp_path / "gw-a"),
        outbox_path=DEFAULT_OUTBOX,
    )
    services = tmp_path / "services"
    deployment.provision_service(
        role="collector", name="collector-1", out=services, now=NOW, auth="cert"
    )
    deployment.provision_service(
        role="controller",
        name="ctl-1",
        out=services,
        now=NOW,
        auth="cert",
        files_dir=str(services / "ctl-1"),
    )
    return deployment


def _connected(
    clients: list[Client], tmp_path: Path, port: int, client_id: str, cert: Path, key: Path
) -> Client:
    client = Client(client_id, tmp_path / "pki" / "ca.crt")
    clients.append(client)
    reason = client.connect(port, cert=cert, key=key)
    assert reason is not None
    assert not reason.is_failure, reason
    return client


def _gateway(clients: list[Client], tmp_path: Path, broker: SecureMosquitto) -> Client:
    bundle = tmp_path / "gw-a"
    return _connected(
        clients, tmp_path, broker.cert_port, "gw-a", bundle / "gateway.crt", bundle / "gateway.key"
    )


def _controller_tls(tmp_path: Path) -> tuple[str, BrokerTls]:
    """The broker URL and files, as `controller.env` gives them to `--broker`, `--ca-file`…"""
    text = (tmp_path / "services" / "ctl-1" / "controller.env").read_text()
    pairs = [shlex.split(line)[0] for line in text.splitlines() if line[:1].isalpha()]
    env = dict(pair.split("=", 1) for pair in pairs)
    tls = BrokerTls(
        ca=Path(env["HINODE_CA_FILE"]),
        cert=Path(env["HINODE_CERT_FILE"]),
        key=Path(env["HINODE_KEY_FILE"]),
    )
    return env["HINODE_BROKER"], tls


async def test_a_collector_with_its_provisioned_bundle_stores_a_gateways_reading(
    tmp_path: Path, deployment: Deployment, broker: SecureMosquitto, clients: list[Client]
) -> None:
    config = load_config(tmp_path / "services" / "collector-1" / "collector.yaml")
    assert config.broker == deployment.cert_url  # the certificate port, as provisioned
    gateway = _gateway(clients, tmp_path, broker)
    data = tmp_path / "data"
    timeseries, state = open_timeseries(data), open_state(data)
    collector = Collector(
        f"mqtts://127.0.0.1:{broker.cert_port}",
        timeseries,
        state,
        WallClock(),
        client_id=config.client_id,
        shared_group=config.shared_group,
        tls=config.tls,
    )
    try:
        async with collector:
            gateway.publish(*telemetry(1, site="lab", gateway="gw-a"))
            async with asyncio.timeout(WAIT_S):
                while collector.stats.stored_readings == 0:
                    await asyncio.sleep(0.05)
        readings = list(timeseries.query(ReadingQuery()))
    finally:
        timeseries.close()
        state.close()
    assert {(r.site, r.gateway, r.seq) for r in readings} == {("lab", "gw-a", 1)}


def test_a_controller_certificate_commands_but_reads_only_its_roles_topics(
    tmp_path: Path, deployment: Deployment, broker: SecureMosquitto, clients: list[Client]
) -> None:
    url, tls = _controller_tls(tmp_path)
    assert url == deployment.cert_url
    assert tls.cert is not None
    assert tls.key is not None
    gateway = _gateway(clients, tmp_path, broker)
    gateway.subscribe("hinode/v1/lab/gw-a/cmd/+")
    # The controller's subscriber side: vitals belong to collectors (and the care service).
    reader = _connected(clients, tmp_path, broker.cert_port, "ctl-1-reader", tls.cert, tls.key)
    reader.subscribe("hinode/v1/+/+/vitals/+")
    reader.subscribe("hinode/v1/+/+/state")
    commands = PahoCommands(f"mqtts://127.0.0.1:{broker.cert_port}", client_id="ctl-1", tls=tls)
    try:
        commands.publish("hinode/v1/lab/gw-a/cmd/charger-1", b"{}")
        assert gateway.wait_for("hinode/v1/lab/gw-a/cmd/charger-1", timeout=WAIT_S)
    finally:
        commands.close()

    gateway.publish("hinode/v1/lab/gw-a/vitals/bp-1", b"{}")
    gateway.publish("hinode/v1/lab/gw-a/state", b"{}")

    # Messages of one client arrive in order: once the state arrived, the vitals would have.
    assert reader.wait_for("hinode/v1/lab/gw-a/state")
    assert reader.topics() == ["hinode/v1/lab/gw-a/state"]


def test_a_revoked_service_certificate_is_refused_after_the_broker_files_are_regenerated(
    tmp_path: Path, deployment: Deployment, broker: SecureMosquitto, clients: list[Client]
) -> None:
    bundle = tmp_path / "services" / "collector-1"
    cert, key = bundle / "collector.crt", bundle / "collector.key"
    _connected(clients, tmp_path, broker.cert_port, "collector-1", cert, key).close()

    deployment.revoke("collector-1", dt.datetime.now(dt.UTC))
    broker.reload()  # `hinode provision broker-config` again, and SIGHUP

    refused = Client("collector-1-again", tmp_path / "pki" / "ca.crt")
    clients.append(refused)
    reason = refused.connect(broker.cert_port, cert=cert, key=key)
    assert reason is None or reason.is_failure
    _, tls = _controller_tls(tmp_path)  # the other service still gets in
    assert tls.cert is not None
    assert tls.key is not None
    _connected(clients, tmp_path, broker.cert_port, "ctl-1", tls.cert, tls.key)
