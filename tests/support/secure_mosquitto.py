"""A real Mosquitto run with the configuration `hinode provision broker-config` generates."""

import datetime as dt
import os
import signal
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from hinode.provision import BrokerSettings, Deployment
from tests.support.mosquitto import MOSQUITTO
from tests.support.ports import free_port, wait_port

WAIT_S = 5.0


class SecureMosquitto:
    """The deployment's broker on free ports: certificate listener and password listener."""

    def __init__(self, workdir: Path, deployment: Deployment, *, websockets: bool = False) -> None:
        self.workdir = workdir
        self.deployment = deployment
        self.cert_port = free_port()
        self.password_port = free_port()
        self.websockets_port = free_port() if websockets else None
        self.config_dir = workdir / "config"
        self.data_dir = workdir / "data"
        self.log_path = workdir / "mosquitto.log"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Started as root, Mosquitto would drop to its own user and not read the test's files.
        self.settings = BrokerSettings(
            config_dir=str(self.config_dir),
            data_dir=str(self.data_dir),
            bind="127.0.0.1",
            cert_port=self.cert_port,
            password_port=self.password_port,
            websockets_port=self.websockets_port,
            user="root",
            log_file=str(self.log_path),
        )
        self._process: subprocess.Popen[bytes] | None = None

    def generate(self) -> None:
        self.deployment.broker_config(self.config_dir, self.settings, dt.datetime.now(dt.UTC))

    def start(self) -> None:
        self.generate()
        self._process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config_dir / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_port(self.cert_port)
            wait_port(self.password_port)
            if self.websockets_port is not None:
                wait_port(self.websockets_port)
        except TimeoutError:
            log = self.log_path.read_text() if self.log_path.exists() else "(no log)"
            self.stop()
            msg = f"mosquitto did not start: {log}"
            raise RuntimeError(msg) from None

    def reload(self) -> None:
        """Regenerate the files and SIGHUP the broker; return once it has reread them."""
        self.generate()
        assert self._process is not None
        before = self._reloads()
        os.kill(self._process.pid, signal.SIGHUP)
        deadline = time.monotonic() + WAIT_S
        while self._reloads() == before:
            if time.monotonic() > deadline:
                msg = "mosquitto did not log a reload after SIGHUP"
                raise RuntimeError(msg)
            time.sleep(0.02)

    def _reloads(self) -> int:
        if not self.log_path.exists():
            return 0
        return self.log_path.read_text().count("Reloading config.")

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._process = None


class Client:
    """A blocking paho client for tests: connect, subscribe, publish, collect messages."""

    def __init__(self, client_id: str, ca: Path, *, websockets: bool = False) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            transport="websockets" if websockets else "tcp",
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


@pytest.fixture
def broker(tmp_path: Path, deployment: Deployment) -> Iterator[SecureMosquitto]:
    """The requesting module's ``deployment`` behind a running Mosquitto."""
    server = SecureMosquitto(tmp_path / "broker", deployment)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    """Clients a test connects; closed after it."""
    made: list[Client] = []
    yield made
    for client in made:
        client.close()
