"""``hinode provision``: deployment CA, gateway and service identities, revocation, broker files."""

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

import typer

from cloud.registry import AuthKind, Role
from hinode.commands._errors import fail
from hinode.provision import (
    DEFAULT_FILES_DIR,
    DEFAULT_OUTBOX,
    BrokerSettings,
    Deployment,
    Written,
    load_devices,
    read_settings,
)
from messages import HinodeError

app = typer.Typer(no_args_is_help=True)

Pki = Annotated[
    Path,
    typer.Option(
        "--pki", envvar="HINODE_PKI", help="Deployment directory made by `hinode provision ca`."
    ),
]
State = Annotated[
    str | None,
    typer.Option(
        "--state", help="Registry URL (sqlite:///… or postgresql://…); default: the deployment's."
    ),
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _open(pki: Path, state: str | None) -> Deployment:
    try:
        return Deployment(pki, state)
    except HinodeError as exc:
        fail(str(exc))


def _report(written: Written) -> None:
    for path in written.files:
        note = "  (secret, mode 0600)" if path in written.secrets else ""
        typer.echo(f"wrote {path}{note}")


@app.command("ca")
def create_ca(
    *,
    out: Annotated[Path, typer.Option("--out", help="New deployment directory.")] = Path("pki"),
    broker_host: Annotated[
        list[str],
        typer.Option("--broker-host", help="Name or IP the broker is reached by (repeatable)."),
    ],
    state: State = None,
    cert_port: Annotated[int, typer.Option(help="Broker port for certificate clients.")] = 8883,
    password_port: Annotated[int, typer.Option(help="Broker port for password clients.")] = 8884,
) -> None:
    """Create the deployment CA, the broker's certificate and an empty revocation list."""
    try:
        Deployment.create(
            out,
            broker_hosts=broker_host,
            now=_now(),
            state_url=state,
            cert_port=cert_port,
            password_port=password_port,
        )
    except HinodeError as exc:
        fail(str(exc))
    typer.echo(f"deployment CA in {out} (ca.key is secret: keep it off gateways and backups)")
    typer.echo(f"broker certificate for {', '.join(broker_host)}")


@app.command("gateway")
def provision_gateway(
    *,
    site: Annotated[str, typer.Option(help="Site id, e.g. factory-a.")],
    gateway: Annotated[str, typer.Option(help="Gateway id, unique in the deployment.")],
    pki: Pki = Path("pki"),
    out: Annotated[
        Path | None, typer.Option(help="Where to write the bundle (default: PKI/gateways/ID).")
    ] = None,
    auth: Annotated[
        Literal["cert", "password"], typer.Option(help="Client certificate or password.")
    ] = "cert",
    state: State = None,
    broker_url: Annotated[
        str | None, typer.Option(help="Broker URL in the config (default: from the deployment).")
    ] = None,
    files_dir: Annotated[
        str, typer.Option(help="Where the bundle will live on the gateway.")
    ] = DEFAULT_FILES_DIR,
    outbox: Annotated[str, typer.Option(help="Outbox path on the gateway.")] = DEFAULT_OUTBOX,
    devices: Annotated[
        Path | None, typer.Option(help="Take `devices:` from this gateway YAML (or device list).")
    ] = None,
) -> None:
    """Identity, credentials, ACL entry and a ready-to-copy gateway config for one gateway."""
    deployment = _open(pki, state)
    target = out or pki / "gateways" / gateway
    try:
        written = deployment.provision_gateway(
            site=site,
            gateway=gateway,
            out=target,
            now=_now(),
            auth=auth,
            broker_url=broker_url,
            files_dir=files_dir,
            outbox_path=outbox,
            devices=None if devices is None else load_devices(devices),
        )
    except HinodeError as exc:
        fail(str(exc))
    _report(written)
    typer.echo(
        f"gateway {gateway} at site {site} recorded; run `hinode provision broker-config` "
        "to let it in"
    )


def _service(
    role: Role,
    name: str,
    *,
    pki: Path,
    out: Path | None,
    state: str | None,
    auth: AuthKind,
    files_dir: str | None = None,
) -> None:
    if files_dir is not None and auth != "cert":
        fail("--files-dir: only with --auth cert (a password identity has no files to place)")
    deployment = _open(pki, state)
    try:
        written = deployment.provision_service(
            role=role,
            name=name,
            out=out or pki / "services",
            now=_now(),
            auth=auth,
            files_dir=files_dir,
        )
    except HinodeError as exc:
        fail(str(exc))
    _report(written)
    how = f"client certificate, CN {name}" if auth == "cert" else "password"
    typer.echo(f"{role} {name} recorded ({how}); run `hinode provision broker-config` to let it in")


Name = Annotated[str, typer.Argument(help="Identity name (the MQTT username).")]
Out = Annotated[
    Path | None,
    typer.Option(help="Output directory (default: PKI/services; a certificate bundle: OUT/NAME)."),
]
ServiceAuth = Annotated[
    AuthKind,
    typer.Option(
        help="Password (port 8884) or client certificate (port 8883, CN = NAME).",
    ),
]


@app.command("collector")
def provision_collector(
    name: Name,
    *,
    pki: Pki = Path("pki"),
    out: Out = None,
    state: State = None,
    auth: ServiceAuth = "password",
) -> None:
    """A collector identity: it may read every gateway's data (shared subscriptions too).

    With --auth cert: OUT/NAME gets ca.crt, collector.crt, collector.key and collector.yaml.
    """
    _service("collector", name, pki=pki, out=out, state=state, auth=auth)


@app.command("controller")
def provision_controller(
    name: Name,
    *,
    pki: Pki = Path("pki"),
    out: Out = None,
    state: State = None,
    auth: ServiceAuth = "password",
    files_dir: Annotated[
        str | None,
        typer.Option(
            help="With --auth cert: where the bundle will live on the controller's host "
            "(default: /etc/hinode/NAME)."
        ),
    ] = None,
) -> None:
    """A controller identity: it reads state and telemetry and publishes commands.

    With --auth cert: OUT/NAME gets ca.crt, controller.crt, controller.key and controller.env.
    """
    _service("controller", name, pki=pki, out=out, state=state, auth=auth, files_dir=files_dir)


@app.command("revoke")
def revoke(
    name: Name,
    *,
    pki: Pki = Path("pki"),
    state: State = None,
    broker_dir: Annotated[
        Path | None, typer.Option(help="Regenerate the broker files in this directory too.")
    ] = None,
) -> None:
    """Revoke an identity: its certificate onto the CRL, off the ACL and password file."""
    deployment = _open(pki, state)
    try:
        identity = deployment.revoke(name, _now())
        if broker_dir is not None:
            settings = read_settings(broker_dir)
            _report(deployment.broker_config(broker_dir, settings, _now()))
    except HinodeError as exc:
        fail(str(exc))
    typer.echo(f"revoked {identity.role} {identity.name} ({identity.auth})")
    typer.echo("reload the broker (SIGHUP): it rereads the ACL, the password file and the CRL")


@app.command("broker-config")
def broker_config(
    *,
    out: Annotated[Path, typer.Option(help="Directory for mosquitto.conf, acl, passwd, certs.")],
    pki: Pki = Path("pki"),
    state: State = None,
    config_dir: Annotated[
        str, typer.Option(help="Where the broker sees these files.")
    ] = "/mosquitto/config",
    data_dir: Annotated[
        str, typer.Option(help="Broker persistence directory.")
    ] = "/mosquitto/data",
    bind: Annotated[str | None, typer.Option(help="Listen on this address only.")] = None,
    cert_port: Annotated[int, typer.Option(help="Port for certificate clients.")] = 8883,
    password_port: Annotated[int, typer.Option(help="Port for password clients.")] = 8884,
    websockets_port: Annotated[
        int | None, typer.Option(help="Open a secure websocket listener on this port.")
    ] = None,
    user: Annotated[str | None, typer.Option(help="User the broker drops root to.")] = None,
    log_file: Annotated[str | None, typer.Option(help="Log to this file, not stdout.")] = None,
) -> None:
    """Write the broker's configuration, ACL, password file, certificates and CRL."""
    deployment = _open(pki, state)
    settings = BrokerSettings(
        config_dir=config_dir,
        data_dir=data_dir,
        bind=bind,
        cert_port=cert_port,
        password_port=password_port,
        websockets_port=websockets_port,
        user=user,
        log_file=log_file,
    )
    try:
        written = deployment.broker_config(out, settings, _now())
    except HinodeError as exc:
        fail(str(exc))
    _report(written)


@app.command("list")
def list_identities(*, pki: Pki = Path("pki"), state: State = None) -> None:
    """Every provisioned identity, active or revoked."""
    deployment = _open(pki, state)
    try:
        with deployment.registry() as registry:
            identities = registry.all()
    except HinodeError as exc:
        fail(str(exc), code=1)
    for identity in identities:
        status = "active" if identity.active else "revoked"
        site = identity.site or "-"
        typer.echo(f"{identity.name}\t{identity.role}\t{site}\t{identity.auth}\t{status}")
