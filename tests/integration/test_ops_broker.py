"""The generated Mosquitto configuration on a real broker: TLS, per-gateway ACL, revocation."""

import datetime as dt
import re
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from hinode.provision import DEFAULT_OUTBOX, Deployment
from tests.support.secure_mosquitto import SecureMosquitto

pytestmark = pytest.mark.integration

NOW = dt.datetime.now(dt.UTC)
WAIT_S = 5.0
#: How long a message that must not arrive is given to arrive anyway.
QUIET_S = 0.5


class Client:
    """A blocking paho client for tests: connect, subscribe, publish, collect messages."""

    def __init__(self, client_id: str, ca: Path) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.context = ssl.create_default_context(cafile=str(ca))
        self.connected = threading.Event()
        self.reason: ReasonCode | None = None
        self.messages: list[tuple[str, bytes]] = []
        self.arrived = threading.Condition()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def _on_connect(
        self, _c: object, _u: object, _f: object, reason: ReasonCode, _p: object
    ) -> None:
        self.reason = reason
        self.connected.set()

    def _on_disconnect(self, *_args: object) -> None:
        # A refused client certificate ends the connection before any CONNACK (TLS 1.3).
        self.connected.set()

    def _on_message(self, _c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        with self.arrived:
            self.messages.append((message.topic, bytes(message.payload)))
            self.arrived.notify_all()

    def connect(
        self,
        port: int,
        *,
        cert: Path | None = None,
        key: Path | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> ReasonCode | None:
        """The CONNACK reason, or None when TLS or the connection failed before one came."""
        if cert is not None:
            self.context.load_cert_chain(cert, key)
        self.client.tls_set_context(self.context)
        if username is not None:
            self.client.username_pw_set(username, password)
        try:
            self.client.connect("127.0.0.1", port, keepalive=30)
        except (OSError, ssl.SSLError):
            return None
        self.client.loop_start()
        self.connected.wait(WAIT_S)
        if self.reason is None:
            self.client.loop_stop()
        return self.reason

    def subscribe(self, topic_filter: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *_args: done.set()
        self.client.subscribe(topic_filter, qos=1)
        assert done.wait(WAIT_S)

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(WAIT_S)

    def wait_for(self, topic: str, timeout: float = WAIT_S) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: any(t == topic for t, _ in self.messages), timeout)

    def topics(self) -> list[str]:
        with self.arrived:
            return [topic for topic, _ in self.messages]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


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


@pytest.fixture
def broker(tmp_path: Path, deployment: Deployment) -> Iterator[SecureMosquitto]:
    server = SecureMosquitto(tmp_path / "broker", deployment)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    made: list[Client] = []
    yield made
    for client in made:
        client.close()


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
    broker.restart()  # Mosquitto reads the CRL when it starts.

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
