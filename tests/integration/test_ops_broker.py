"""The generated Mosquitto configuration on a real broker: TLS, per-gateway ACL, revocation."""

import datetime as dt
import re
from pathlib import Path

import pytest

from hinode.provision import DEFAULT_OUTBOX, Deployment
from tests.support.secure_mosquitto import Client, SecureMosquitto

pytestmark = pytest.mark.integration

NOW = dt.datetime.now(dt.UTC)
#: How long a message that must not arrive is given to arrive anyway.
QUIET_S = 0.5


def _password_of(url_file: Path) -> str:
    match = re.match(r"mqtts://[^:]+:([^@]+)@", url_file.read_text())
    assert match is not None
    return match.group(1)


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    deployment = Deployment.create(
        tmp_path / "pki", broker_hosts=["localhost", "127.0.0.1"], now=NOW
    )
    for gateway in ("gw-a", "gw-b"):
        deployment.provision_gateway(
            site="lab",
            gateway=gateway,
            out=tmp_path / gateway,
            now=NOW,
            files_dir=str(tmp_path / gateway),
            outbox_path=DEFAULT_OUTBOX,
        )
    deployment.provision_gateway(
        site="lab",
        gateway="gw-p",
        out=tmp_path / "gw-p",
        now=NOW,
        auth="password",
        files_dir=str(tmp_path / "gw-p"),
        outbox_path=DEFAULT_OUTBOX,
    )
    deployment.provision_service(
        role="collector", name="collector-1", out=tmp_path / "svc", now=NOW
    )
    deployment.provision_service(role="controller", name="ctl-1", out=tmp_path / "svc", now=NOW)
    return deployment


def _client(clients: list[Client], tmp_path: Path, name: str) -> Client:
    client = Client(name, tmp_path / "pki" / "ca.crt")
    clients.append(client)
    return client


def _gateway(clients: list[Client], tmp_path: Path, broker: SecureMosquitto, name: str) -> Client:
    client = _client(clients, tmp_path, name)
    reason = client.connect(
        broker.cert_port, cert=tmp_path / name / "gateway.crt", key=tmp_path / name / "gateway.key"
    )
    assert reason is not None
    assert not reason.is_failure, reason
    return client


def _service(clients: list[Client], tmp_path: Path, broker: SecureMosquitto, name: str) -> Client:
    client = _client(clients, tmp_path, name)
    password = _password_of(tmp_path / "svc" / f"{name}.broker-url")
    reason = client.connect(broker.password_port, username=name, password=password)
    assert reason is not None
    assert not reason.is_failure, reason
    return client


def test_provisioned_gateway_connects_over_tls_and_publishes(
    tmp_path: Path, broker: SecureMosquitto, clients: list[Client]
) -> None:
    collector = _service(clients, tmp_path, broker, "collector-1")
    collector.subscribe("$share/hinode/hinode/v1/+/+/telemetry/+")
    gateway = _gateway(clients, tmp_path, broker, "gw-a")

    gateway.publish("hinode/v1/lab/gw-a/telemetry/meter-1", b"{}")

    assert collector.wait_for("hinode/v1/lab/gw-a/telemetry/meter-1")


def test_password_gateway_connects_with_the_generated_config(
    tmp_path: Path, broker: SecureMosquitto, clients: list[Client]
) -> None:
    import yaml

    config = yaml.safe_load((tmp_path / "gw-p" / "gateway.yaml").read_text())
    collector = _service(clients, tmp_path, broker, "collector-1")
    collector.subscribe("hinode/v1/+/+/state")
    gateway = _client(clients, tmp_path, "gw-p")
    reason = gateway.connect(
        broker.password_port,
        username=config["broker"]["username"],
        password=config["broker"]["password"],
    )
    assert reason is not None
    assert not reason.is_failure

    gateway.publish("hinode/v1/lab/gw-p/state", b"{}")

    assert collector.wait_for("hinode/v1/lab/gw-p/state")


def test_gateway_cannot_publish_under_another_gateways_topics(
    tmp_path: Path, broker: SecureMosquitto, clients: list[Client]
) -> None:
    collector = _service(clients, tmp_path, broker, "collector-1")
    collector.subscribe("hinode/v1/#")
    intruder = _gateway(clients, tmp_path, broker, "gw-a")

    intruder.publish("hinode/v1/lab/gw-b/telemetry/meter-1", b"forged")
    intruder.publish("hinode/v1/lab/gw-b/state", b"forged")
    intruder.publish("hinode/v1/lab/gw-a/cmd/charger-1", b"forged command")
    intruder.publish("hinode/v1/lab/gw-a/telemetry/meter-1", b"own")

    # Messages of one client arrive in order: once its own arrived, the forged ones would have.
    assert collector.wait_for("hinode/v1/lab/gw-a/telemetry/meter-1")
    assert collector.topics() == ["hinode/v1/lab/gw-a/telemetry/meter-1"]


def test_gateway_cannot_subscribe_to_another_gateways_commands(
    tmp_path: Path, broker: SecureMosquitto, clients: list[Client]
) -> None:
    eavesdropper = _gateway(clients, tmp_path, broker, "gw-a")
    eavesdropper.subscribe("hinode/v1/lab/gw-b/cmd/#")
    eavesdropper.subscribe("hinode/v1/#")
    target = _gateway(clients, tmp_path, broker, "gw-b")
    target.subscribe("hinode/v1/lab/gw-b/cmd/#")
    controller = _service(clients, tmp_path, broker, "ctl-1")

    controller.publish("hinode/v1/lab/gw-b/cmd/charger-1", b'{"target": 16}')

    assert target.wait_for("hinode/v1/lab/gw-b/cmd/charger-1")
    assert not eavesdropper.wait_for("hinode/v1/lab/gw-b/cmd/charger-1", timeout=QUIET_S)
    assert eavesdropper.topics() == []


def test_revoked_certificate_cannot_connect(
    tmp_path: Path, deployment: Deployment, broker: SecureMosquitto, clients: list[Client]
) -> None:
    _gateway(clients, tmp_path, broker, "gw-a").close()

    deployment.revoke("gw-a", dt.datetime.now(dt.UTC))
    broker.reload()  # regenerated files and SIGHUP: Mosquitto rereads the CRL, no restart

    again = _client(clients, tmp_path, "gw-a-again")
    reason = again.connect(
        broker.cert_port,
        cert=tmp_path / "gw-a" / "gateway.crt",
        key=tmp_path / "gw-a" / "gateway.key",
    )
    assert reason is None or reason.is_failure
    _gateway(clients, tmp_path, broker, "gw-b")  # the others still get in


def test_revoked_password_identity_cannot_connect_after_reload(
    tmp_path: Path, deployment: Deployment, broker: SecureMosquitto, clients: list[Client]
) -> None:
    password = _password_of(tmp_path / "svc" / "collector-1.broker-url")

    deployment.revoke("collector-1", dt.datetime.now(dt.UTC))
    broker.reload()

    client = _client(clients, tmp_path, "collector-1")
    reason = client.connect(broker.password_port, username="collector-1", password=password)
    assert reason is not None
    assert reason.is_failure
    assert reason.getName() in {"Not authorized", "Bad user name or password"}


def test_certificate_of_another_ca_cannot_connect(
    tmp_path: Path, broker: SecureMosquitto, clients: list[Client]
) -> None:
    stranger = Deployment.create(tmp_path / "other-pki", broker_hosts=["localhost"], now=NOW)
    stranger.provision_gateway(
        site="lab",
        gateway="gw-a",
        out=tmp_path / "forged",
        now=NOW,
        files_dir=str(tmp_path / "forged"),
        outbox_path=DEFAULT_OUTBOX,
    )
    client = _client(clients, tmp_path, "gw-a")
    reason = client.connect(
        broker.cert_port,
        cert=tmp_path / "forged" / "gateway.crt",
        key=tmp_path / "forged" / "gateway.key",
    )
    assert reason is None or reason.is_failure


def test_unknown_or_anonymous_password_client_cannot_connect(
    tmp_path: Path, broker: SecureMosquitto, clients: list[Client]
) -> None:
    unknown = _client(clients, tmp_path, "stranger")
    reason = unknown.connect(broker.password_port, username="stranger", password="guess")
    assert reason is not None
    assert reason.is_failure

    anonymous = _client(clients, tmp_path, "anonymous")
    reason = anonymous.connect(broker.password_port)
    assert reason is not None
    assert reason.is_failure

    no_certificate = _client(clients, tmp_path, "no-cert")
    reason = no_certificate.connect(broker.cert_port)
    assert reason is None or reason.is_failure


def test_dashboard_client_reads_over_secure_websockets(
    tmp_path: Path, deployment: Deployment, clients: list[Client]
) -> None:
    server = SecureMosquitto(tmp_path / "ws-broker", deployment, websockets=True)
    server.start()
    try:
        assert server.websockets_port is not None
        browser = Client("dashboard", tmp_path / "pki" / "ca.crt", websockets=True)
        clients.append(browser)
        password = _password_of(tmp_path / "svc" / "collector-1.broker-url")
        reason = browser.connect(server.websockets_port, username="collector-1", password=password)
        assert reason is not None
        assert not reason.is_failure
        browser.subscribe("hinode/v1/+/+/state")
        gateway = _gateway(clients, tmp_path, server, "gw-a")

        gateway.publish("hinode/v1/lab/gw-a/state", b"{}")

        assert browser.wait_for("hinode/v1/lab/gw-a/state")
    finally:
        for client in clients:
            client.close()
        clients.clear()
        server.stop()
