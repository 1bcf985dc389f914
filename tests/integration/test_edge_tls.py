"""The uplink over TLS with a per-gateway client certificate, against Mosquitto."""

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge import Agent, parse_gateway_config
from edge.agent import session_settings
from edge.uplink import probe_broker
from messages import TransportError, WallClock
from tests.integration.test_edge_agent import counting_drivers, stop, wait_until
from tests.support.mosquitto import Mosquitto
from tests.support.ports import free_port

pytestmark = pytest.mark.integration


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_pki(directory: Path) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate for the gateway."""
    directory.mkdir()
    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=hinode-test-ca",
        cwd=directory,
    )  # fmt: skip
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, extension in (("server", ["-extfile", "san.ext"]), ("client", [])):
        openssl(
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
            "-out", f"{name}.csr", "-subj", f"/CN={name}",
            cwd=directory,
        )  # fmt: skip
        openssl(
            "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", f"{name}.pem", *extension,
            cwd=directory,
        )  # fmt: skip


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[Mosquitto, int, Path]]:
    pki = tmp_path / "pki"
    make_pki(pki)
    tls_port = free_port()
    broker = Mosquitto(
        tmp_path / "mosquitto",
        extra_config="\n".join(
            [
                f"listener {tls_port} 127.0.0.1",
                f"cafile {pki / 'ca.pem'}",
                f"certfile {pki / 'server.pem'}",
                f"keyfile {pki / 'server.key'}",
                "require_certificate true",
            ]
        ),
    )
    broker.start()
    yield broker, tls_port, pki
    broker.stop()


def tls_config(port: int, pki: Path, outbox: Path, *, client_cert: bool = True) -> str:
    cert = f", cert: {pki / 'client.pem'}, key: {pki / 'client.key'}" if client_cert else ""
    return f"""
site: lab
gateway: gw-tls
broker: {{url: "mqtts://127.0.0.1:{port}", connect_timeout_s: 3,
          tls: {{ca: {pki / "ca.pem"}{cert}}}}}
outbox: {{path: "{outbox}"}}
"""


async def test_publishes_over_tls_with_a_client_certificate(
    tls_broker: tuple[Mosquitto, int, Path], tmp_path: Path
) -> None:
    _, port, pki = tls_broker
    _, factory = counting_drivers(1, interval_s=0.05, per_poll=2)
    config = parse_gateway_config(tls_config(port, pki, tmp_path / "outbox.sqlite"))
    agent = Agent(config, clock=WallClock(), drivers=factory, outbox_synchronous="NORMAL")
    task = asyncio.create_task(agent.run())
    await wait_until(lambda: agent.stats.readings_acked >= 20, 20, "readings over TLS")
    assert agent.stats.uplink.protocol == "v5"
    await stop(agent, task)


async def test_without_a_client_certificate_the_broker_refuses(
    tls_broker: tuple[Mosquitto, int, Path], tmp_path: Path
) -> None:
    _, port, pki = tls_broker
    config = parse_gateway_config(
        tls_config(port, pki, tmp_path / "outbox.sqlite", client_cert=False)
    )
    with pytest.raises(TransportError):
        await probe_broker(session_settings(config), protocol="v5")
