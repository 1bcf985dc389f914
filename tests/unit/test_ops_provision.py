"""Provisioning without a broker: files, modes, hashes, ACL, revocation list, CLI errors."""

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
import typer
from cryptography import x509
from typer.testing import CliRunner

from edge.config import load_gateway_config
from hinode.commands import provision
from hinode.provision import (
    DEFAULT_OUTBOX,
    BrokerSettings,
    Deployment,
    mosquitto_conf,
    mosquitto_hash,
    verify,
)
from hinode.provision._acl import acl_file
from messages import ConfigError

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    return Deployment.create(tmp_path / "pki", broker_hosts=["mqtt.example.org"], now=NOW)


def _gateway(deployment: Deployment, out: Path, name: str = "gw-1", auth: str = "cert") -> None:
    deployment.provision_gateway(
        site="lab",
        gateway=name,
        out=out,
        now=NOW,
        auth=auth,
        files_dir="/etc/hinode",
        outbox_path=DEFAULT_OUTBOX,
    )


def _cli(*args: str) -> tuple[int, str]:
    root = typer.Typer()
    root.add_typer(provision.app, name="provision")  # as hinode/cli.py mounts it
    result = CliRunner().invoke(root, ["provision", *args])
    return result.exit_code, result.output


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_secrets_are_written_owner_only(deployment: Deployment, tmp_path: Path) -> None:
    _gateway(deployment, tmp_path / "gw-1")
    _gateway(deployment, tmp_path / "gw-2", "gw-2", auth="password")
    deployment.broker_config(tmp_path / "broker", BrokerSettings(), NOW)
    for secret in (
        tmp_path / "pki" / "ca.key",
        tmp_path / "pki" / "server.key",
        tmp_path / "gw-1" / "gateway.key",
        tmp_path / "gw-2" / "gateway.yaml",
        tmp_path / "broker" / "passwd",
        tmp_path / "broker" / "acl",
        tmp_path / "broker" / "server.key",
    ):
        assert _mode(secret) == 0o600, secret
    assert _mode(tmp_path / "gw-1" / "gateway.yaml") == 0o644
    assert not list(tmp_path.rglob(".*.partial"))


def test_gateway_config_is_valid_for_the_edge_agent(deployment: Deployment, tmp_path: Path) -> None:
    _gateway(deployment, tmp_path / "gw-1")
    config = load_gateway_config(tmp_path / "gw-1" / "gateway.yaml")
    assert (config.site, config.gateway) == ("lab", "gw-1")
    assert config.broker.url == "mqtts://mqtt.example.org:8883"
    assert config.broker.tls is not None
    assert str(config.broker.tls.cert) == "/etc/hinode/gateway.crt"
    assert config.broker.password is None


def test_client_certificate_names_the_gateway_and_is_signed_by_the_ca(
    deployment: Deployment, tmp_path: Path
) -> None:
    _gateway(deployment, tmp_path / "gw-1")
    ca = x509.load_pem_x509_certificate((tmp_path / "pki" / "ca.crt").read_bytes())
    cert = x509.load_pem_x509_certificate((tmp_path / "gw-1" / "gateway.crt").read_bytes())
    [cn] = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    assert cn.value == "gw-1"
    cert.verify_directly_issued_by(ca)


def test_password_hash_matches_what_mosquitto_passwd_writes(tmp_path: Path) -> None:
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        pytest.skip("mosquitto_passwd is not installed (Debian package mosquitto)")
    password_file = tmp_path / "passwd"
    subprocess.run(
        [tool, "-c", "-b", str(password_file), "gw-1", "s3cret-pass"], check=True, timeout=10
    )
    theirs = password_file.read_text().strip().split(":", 1)[1]
    assert verify("s3cret-pass", theirs)
    assert not verify("wrong", theirs)
    ours = mosquitto_hash("s3cret-pass")
    assert ours.split("$")[1:3] == theirs.split("$")[1:3]  # same scheme and iterations
    assert len(ours) == len(theirs)
    assert verify("s3cret-pass", ours)


def test_acl_gives_a_gateway_only_its_own_topics(deployment: Deployment, tmp_path: Path) -> None:
    _gateway(deployment, tmp_path / "gw-1")
    with deployment.registry() as registry:
        text = acl_file(registry.active())
    block = text.split("user gw-1\n")[1].split("\n\n")[0].splitlines()
    writes = [line.split()[-1] for line in block if line.startswith("topic write")]
    reads = [line.split()[-1] for line in block if line.startswith("topic read")]
    assert all(topic.startswith("hinode/v1/lab/gw-1/") for topic in writes)
    assert not any("/cmd/" in topic for topic in writes)
    assert reads == ["hinode/v1/lab/gw-1/cmd/#"]
    assert "pattern" not in text.replace("No pattern lines", "")


def test_revocation_removes_the_identity_and_lists_the_certificate(
    deployment: Deployment, tmp_path: Path
) -> None:
    _gateway(deployment, tmp_path / "gw-1")
    _gateway(deployment, tmp_path / "gw-2", "gw-2", auth="password")
    serial = x509.load_pem_x509_certificate(
        (tmp_path / "gw-1" / "gateway.crt").read_bytes()
    ).serial_number

    deployment.revoke("gw-1", NOW)
    deployment.revoke("gw-2", NOW)
    deployment.broker_config(tmp_path / "broker", BrokerSettings(), NOW)

    crl = x509.load_pem_x509_crl((tmp_path / "broker" / "crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    assert "gw-1" not in (tmp_path / "broker" / "acl").read_text()
    assert "gw-2" not in (tmp_path / "broker" / "passwd").read_text()
    # A revoked name may be provisioned again (a replaced unit); the old certificate stays revoked.
    _gateway(deployment, tmp_path / "gw-1-new")
    deployment.broker_config(tmp_path / "broker", BrokerSettings(), NOW)
    crl = x509.load_pem_x509_crl((tmp_path / "broker" / "crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    assert "user gw-1\n" in (tmp_path / "broker" / "acl").read_text()


def test_an_active_gateway_is_not_provisioned_twice(deployment: Deployment, tmp_path: Path) -> None:
    _gateway(deployment, tmp_path / "gw-1")
    with pytest.raises(ConfigError, match="already provisioned"):
        _gateway(deployment, tmp_path / "again")


def test_reference_broker_files_are_what_the_generator_writes() -> None:
    reference = REPO / "ops" / "mosquitto"
    assert (reference / "mosquitto.conf").read_text() == mosquitto_conf(BrokerSettings())
    websockets = mosquitto_conf(BrokerSettings(websockets_port=8443))
    assert (reference / "mosquitto-websockets.conf").read_text() == websockets


def test_cli_provisions_without_printing_secrets(tmp_path: Path) -> None:
    pki = str(tmp_path / "pki")
    code, output = _cli("ca", "--out", pki, "--broker-host", "mqtt.example.org")
    assert code == 0, output
    code, output = _cli(
        "gateway", "--pki", pki, "--site", "lab", "--gateway", "gw-9", "--auth", "password"
    )
    assert code == 0, output
    config = load_gateway_config(tmp_path / "pki" / "gateways" / "gw-9" / "gateway.yaml")
    assert config.broker.password
    assert config.broker.password not in output
    code, output = _cli("collector", "collector-1", "--pki", pki)
    assert code == 0, output
    secret = (tmp_path / "pki" / "services" / "collector-1.password").read_text().strip()
    assert secret not in output
    code, output = _cli("list", "--pki", pki)
    assert "gw-9\tgateway\tlab\tpassword\tactive" in output
    assert secret not in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["gateway", "--site", "lab", "--gateway", "GW_1"], "bad gateway 'GW_1'"),
        (
            ["gateway", "--site", "lab", "--gateway", "gw-1", "--pki", "/nonexistent"],
            "not a deployment",
        ),
        (["revoke", "gw-unknown"], "is not provisioned"),
        (["ca", "--broker-host", "x"], "already holds a CA"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Deployment.create(tmp_path / "pki", broker_hosts=["localhost"], now=NOW)
    code, output = _cli(*args)
    assert code == 2
    assert message in output
    assert output.count("\n") == 1


def test_a_damaged_ca_key_is_one_line_and_shows_no_key_material(tmp_path: Path) -> None:
    Deployment.create(tmp_path / "pki", broker_hosts=["localhost"], now=NOW)
    (tmp_path / "pki" / "ca.key").write_text("-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n")
    code, output = _cli("gateway", "--pki", str(tmp_path / "pki"), "--site", "s", "--gateway", "g")
    assert code == 2
    assert "damaged deployment directory" in output
    assert "c2VjcmV0" not in output
