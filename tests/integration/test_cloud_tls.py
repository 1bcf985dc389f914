"""The cloud's MQTT clients on the deployment's own broker: a private CA and client certificates.

The collector and the command publisher connect to the certificate listener of a Mosquitto
configured as ``hinode provision broker-config`` makes it (TLS, client certificates, ACL).
"""

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cloud import BrokerTls, Collector, ReadingQuery, open_state, open_timeseries
from cloud._mqtt import Subscriber
from cloud.registry import Identity
from hinode.mqtt_commands import PahoCommands
from hinode.provision import DEFAULT_OUTBOX, Deployment
from hinode.provision._files import write_public, write_secret
from hinode.provision._pki import issue_client
from messages import WallClock
from tests.support.cloud_messages import telemetry
from tests.support.secure_mosquitto import Client, SecureMosquitto

pytestmark = pytest.mark.integration

NOW = dt.datetime.now(dt.UTC)
WAIT_S = 10.0


def _certificate_service(deployment: Deployment, name: str, role: str, out: Path) -> BrokerTls:
    """A collector or controller that authenticates with a client certificate of the CA."""
    issued = issue_client(deployment.authority, name, role, NOW)
    write_public(out / f"{name}.crt", issued.cert_pem)
    write_secret(out / f"{name}.key", issued.key_pem)
    with deployment.registry() as registry:
        registry.add(
            Identity(
                name=name,
                role=role,  # type: ignore[arg-type]
                auth="cert",
                created_at=int(NOW.timestamp() * 1000),
                cert_serial=issued.serial,
            )
        )
    return BrokerTls(
        ca=deployment.directory / "ca.crt", cert=out / f"{name}.crt", key=out / f"{name}.key"
    )


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    deployment = Deployment.create(
        tmp_path / "pki", broker_hosts=["localhost", "127.0.0.1"], now=NOW
    )
    deployment.provision_gateway(
        site="lab",
        gateway="gw-a",
        out=tmp_path / "gw-a",
        now=NOW,
        files_dir=str(tmp_path / "gw-a"),
        outbox_path=DEFAULT_OUTBOX,
    )
    return deployment


@pytest.fixture
def collector_tls(tmp_path: Path, deployment: Deployment) -> BrokerTls:
    return _certificate_service(deployment, "collector-1", "collector", tmp_path / "svc")


@pytest.fixture
def controller_tls(tmp_path: Path, deployment: Deployment) -> BrokerTls:
    return _certificate_service(deployment, "ctl-1", "controller", tmp_path / "svc")


@pytest.fixture
def broker(
    tmp_path: Path, deployment: Deployment, collector_tls: BrokerTls, controller_tls: BrokerTls
) -> Iterator[SecureMosquitto]:
    # The service identities exist before the broker's ACL is generated from the registry.
    server = SecureMosquitto(tmp_path / "broker", deployment)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def gateway(tmp_path: Path, broker: SecureMosquitto) -> Iterator[Client]:
    client = Client("gw-a", tmp_path / "pki" / "ca.crt")
    reason = client.connect(
        broker.cert_port,
        cert=tmp_path / "gw-a" / "gateway.crt",
        key=tmp_path / "gw-a" / "gateway.key",
    )
    assert reason is not None
    assert not reason.is_failure, reason
    yield client
    client.close()


async def _eventually(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_the_collector_trusts_the_private_ca_and_presents_its_client_certificate(
    tmp_path: Path, broker: SecureMosquitto, gateway: Client, collector_tls: BrokerTls
) -> None:
    data = tmp_path / "data"
    timeseries, state = open_timeseries(data), open_state(data)
    running = Collector(
        f"mqtts://127.0.0.1:{broker.cert_port}",
        timeseries,
        state,
        WallClock(),
        client_id="collector-1",
        tls=collector_tls,
    )
    try:
        async with running:
            gateway.publish(*telemetry(1, site="lab", gateway="gw-a"))
            await _eventually(lambda: running.stats.stored_readings > 0)
        readings = list(timeseries.query(ReadingQuery()))
    finally:
        timeseries.close()
        state.close()
    assert {(r.site, r.gateway, r.seq) for r in readings} == {("lab", "gw-a", 1)}


async def test_a_broker_signed_by_another_ca_is_refused_with_the_ca_file_named(
    tmp_path: Path,
    broker: SecureMosquitto,
    collector_tls: BrokerTls,
    caplog: pytest.LogCaptureFixture,
) -> None:
    other = Deployment.create(tmp_path / "other-pki", broker_hosts=["127.0.0.1"], now=NOW)
    wrong_ca = collector_tls.model_copy(update={"ca": other.directory / "ca.crt"})
    subscriber = Subscriber(
        f"mqtts://127.0.0.1:{broker.cert_port}",
        client_id="collector-1",
        data_filters=["hinode/v1/+/+/telemetry/+"],
        shared_group=None,
        protocol="v5",
        on_message=lambda _message: None,
        tls=wrong_ca,
    )
    caplog.set_level(logging.WARNING, logger="cloud._mqtt")
    running = asyncio.create_task(subscriber.run())
    try:
        await _eventually(lambda: any(r.message == "broker unreachable" for r in caplog.records))
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    [record] = [r for r in caplog.records if r.message == "broker unreachable"]
    error = record.__dict__["error"]
    assert f"does not verify against the CA in {other.directory / 'ca.crt'}" in error
    assert not subscriber.ready.is_set()


def test_commands_reach_the_gateway_through_the_private_ca_with_a_client_certificate(
    broker: SecureMosquitto, gateway: Client, controller_tls: BrokerTls
) -> None:
    gateway.subscribe("hinode/v1/lab/gw-a/cmd/+")
    commands = PahoCommands(
        f"mqtts://127.0.0.1:{broker.cert_port}", client_id="ctl-1", tls=controller_tls
    )
    try:
        # paho queues until connected; the gateway sees the command once the session is up.
        commands.publish("hinode/v1/lab/gw-a/cmd/charger-1", b"{}")
        assert gateway.wait_for("hinode/v1/lab/gw-a/cmd/charger-1", timeout=WAIT_S)
    finally:
        commands.close()
