"""Provisioning without a broker: files, modes, hashes, ACL, revocation list, CLI errors."""

import datetime as dt
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import typer
from cryptography import x509
from typer.core import TyperGroup
from typer.testing import CliRunner

from cloud import BrokerTls, broker_ssl_context, load_config
from cloud.registry import Role
from edge.config import load_gateway_config
from hinode.commands import energy, mobility, provision
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


def _certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _env_file(path: Path) -> dict[str, str]:
    pairs = [shlex.split(line)[0] for line in path.read_text().splitlines() if line[:1].isalpha()]
    return dict(pair.split("=", 1) for pair in pairs)


@pytest.mark.parametrize(
    ("role", "files"),
    [
        ("collector", ["ca.crt", "collector.crt", "collector.key", "collector.yaml"]),
        ("controller", ["ca.crt", "controller.crt", "controller.env", "controller.key"]),
    ],
)
def test_a_certificate_service_gets_a_bundle_like_a_gateways(
    deployment: Deployment, tmp_path: Path, role: Role, files: list[str]
) -> None:
    written = deployment.provision_service(
        role=role, name="svc-1", out=tmp_path / "services", now=NOW, auth="cert"
    )

    bundle = tmp_path / "services" / "svc-1"
    assert sorted(path.name for path in bundle.iterdir()) == files
    assert written.secrets == [bundle / f"{role}.key"]
    for path in bundle.iterdir():
        assert _mode(path) == (0o600 if path.suffix == ".key" else 0o644), path
    assert (bundle / "ca.crt").read_bytes() == (tmp_path / "pki" / "ca.crt").read_bytes()
    cert = _certificate(bundle / f"{role}.crt")
    cert.verify_directly_issued_by(_certificate(tmp_path / "pki" / "ca.crt"))
    [cn] = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    assert cn.value == "svc-1"
    with deployment.registry() as registry:
        identity = registry.get("svc-1")
        acl = acl_file(registry.active())
    assert identity is not None
    assert (identity.role, identity.auth) == (role, "cert")
    assert identity.cert_serial == f"{cert.serial_number:x}"
    assert identity.password_hash is None
    # The role's rules, under the CN the certificate listener takes as the username.
    assert f"# {role} (cert)\nuser svc-1\n" in acl
    assert not list((tmp_path / "services").glob("svc-1.*"))  # no password files


def test_the_collector_bundle_is_a_config_hinode_cloud_run_accepts(
    deployment: Deployment, tmp_path: Path
) -> None:
    deployment.provision_service(
        role="collector", name="collector-1", out=tmp_path / "services", now=NOW, auth="cert"
    )
    bundle = tmp_path / "services" / "collector-1"
    copied = tmp_path / "elsewhere"
    shutil.copytree(bundle, copied)  # the bundle works wherever it is copied to

    config = load_config(copied / "collector.yaml")

    assert config.broker == "mqtts://mqtt.example.org:8883"
    assert config.client_id == "collector-1"
    assert config.tls == BrokerTls(
        ca=copied / "ca.crt", cert=copied / "collector.crt", key=copied / "collector.key"
    )
    assert broker_ssl_context(config.broker, config.tls) is not None  # the key fits the cert


def test_the_controller_env_names_the_options_of_both_controllers(
    deployment: Deployment, tmp_path: Path
) -> None:
    bundle = tmp_path / "services" / "ctl-1"
    deployment.provision_service(
        role="controller",
        name="ctl-1",
        out=tmp_path / "services",
        now=NOW,
        auth="cert",
        files_dir=str(bundle),
    )
    env = _env_file(bundle / "controller.env")
    assert env == {
        "HINODE_BROKER": "mqtts://mqtt.example.org:8883",
        "HINODE_CA_FILE": str(bundle / "ca.crt"),
        "HINODE_CERT_FILE": str(bundle / "controller.crt"),
        "HINODE_KEY_FILE": str(bundle / "controller.key"),
    }
    tls = BrokerTls(
        ca=Path(env["HINODE_CA_FILE"]),
        cert=Path(env["HINODE_CERT_FILE"]),
        key=Path(env["HINODE_KEY_FILE"]),
    )
    assert broker_ssl_context(env["HINODE_BROKER"], tls) is not None
    [written_options] = [
        line.removeprefix("#   ")
        for line in (bundle / "controller.env").read_text().splitlines()
        if line.startswith("#   --broker mqtts://")
    ]
    options = shlex.split(written_options)
    assert options[1::2] == list(env.values())
    for controller in (energy.app, mobility.app):
        command = typer.main.get_command(controller)
        assert isinstance(command, TyperGroup)
        run = command.commands["run"]
        flags = {flag for param in run.params for flag in getattr(param, "opts", [])}
        assert set(options[0::2]) <= flags, controller.info.name


def test_a_controller_bundle_defaults_to_etc_hinode_name(
    deployment: Deployment, tmp_path: Path
) -> None:
    deployment.provision_service(
        role="controller", name="ctl-1", out=tmp_path, now=NOW, auth="cert"
    )
    env = _env_file(tmp_path / "ctl-1" / "controller.env")
    assert env["HINODE_CERT_FILE"] == "/etc/hinode/ctl-1/controller.crt"


def test_revoking_a_service_certificate_puts_its_serial_on_the_crl(
    deployment: Deployment, tmp_path: Path
) -> None:
    services: list[tuple[Role, str]] = [("collector", "collector-1"), ("controller", "ctl-1")]
    for role, name in services:
        deployment.provision_service(
            role=role, name=name, out=tmp_path / "services", now=NOW, auth="cert"
        )
    serial = _certificate(tmp_path / "services" / "collector-1" / "collector.crt").serial_number

    deployment.revoke("collector-1", NOW)
    deployment.broker_config(tmp_path / "broker", BrokerSettings(), NOW)

    crl = x509.load_pem_x509_crl((tmp_path / "broker" / "crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    other = _certificate(tmp_path / "services" / "ctl-1" / "controller.crt").serial_number
    assert crl.get_revoked_certificate_by_serial_number(other) is None
    acl = (tmp_path / "broker" / "acl").read_text()
    assert "user collector-1\n" not in acl
    assert "user ctl-1\n" in acl
    with pytest.raises(ConfigError, match="already provisioned"):
        deployment.provision_service(
            role="controller", name="ctl-1", out=tmp_path / "again", now=NOW, auth="cert"
        )
    assert not (tmp_path / "again").exists()


def test_cli_provisions_certificate_services_without_printing_keys(tmp_path: Path) -> None:
    pki = str(tmp_path / "pki")
    assert _cli("ca", "--out", pki, "--broker-host", "mqtt.example.org")[0] == 0
    code, output = _cli("collector", "collector-1", "--pki", pki, "--auth", "cert")
    assert code == 0, output
    assert "collector-1/collector.key  (secret, mode 0600)" in output
    assert "client certificate, CN collector-1" in output
    code, output = _cli(
        "controller", "ctl-1", "--pki", pki, "--auth", "cert", "--files-dir", "/opt/ctl"
    )
    assert code == 0, output
    env = _env_file(tmp_path / "pki" / "services" / "ctl-1" / "controller.env")
    assert env["HINODE_KEY_FILE"] == "/opt/ctl/controller.key"
    code, output = _cli("controller", "ctl-2", "--pki", pki)  # password stays the default
    assert code == 0, output
    assert (tmp_path / "pki" / "services" / "ctl-2.password").exists()
    code, output = _cli("list", "--pki", pki)
    assert "collector-1\tcollector\t-\tcert\tactive" in output
    assert "ctl-1\tcontroller\t-\tcert\tactive" in output
    assert "ctl-2\tcontroller\t-\tpassword\tactive" in output
    code, output = _cli("revoke", "ctl-1", "--pki", pki)
    assert code == 0, output
    assert "revoked controller ctl-1 (cert)" in output
    code, output = _cli("controller", "c-2", "--pki", pki, "--files-dir", "/x")
    assert code == 2
    assert "only with --auth cert" in output
