"""A deployment directory: its CA, broker certificate, registry, and what provisioning writes."""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import yaml

from cloud.registry import AuthKind, Identity, IdentityRegistry, Role
from hinode.provision import _broker as broker_files
from hinode.provision._acl import acl_file
from hinode.provision._files import write_public, write_secret
from hinode.provision._gateway_config import gateway_yaml
from hinode.provision._passwords import generate_password, mosquitto_hash, password_file
from hinode.provision._pki import (
    Authority,
    create_ca,
    issue_client,
    issue_server,
    revocation_list,
)
from hinode.provision._service_config import (
    CA_FILE,
    COLLECTOR_CERT,
    COLLECTOR_CONFIG,
    COLLECTOR_KEY,
    CONTROLLER_CERT,
    CONTROLLER_ENV,
    CONTROLLER_KEY,
    DEFAULT_SERVICE_DIR,
    collector_yaml,
    controller_env,
)
from messages import ConfigError
from messages.ids import is_valid_id

SETTINGS_FILE = "deployment.yaml"
REGISTRY_FILE = "registry.sqlite"


def _ms(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


def _when(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def _check_name(what: str, value: str) -> None:
    if not is_valid_id(value):
        msg = f"bad {what} {value!r}: lower-case letters, digits and '-', at most 63"
        raise ConfigError(msg)


def _refuse_active(registry: IdentityRegistry, name: str) -> None:
    existing = registry.get(name)
    if existing is not None and existing.active:
        msg = f"{name!r} is already provisioned; revoke it first to re-provision"
        raise ConfigError(msg)


@dataclass(frozen=True, slots=True)
class Written:
    """What a provisioning step wrote; *secrets* are the 0600 files among *files*."""

    name: str
    files: list[Path]
    secrets: list[Path]


class Deployment:
    """The files under a deployment directory made by ``hinode provision ca``."""

    def __init__(self, directory: Path, state_url: str | None = None) -> None:
        self.directory = directory
        settings_path = directory / SETTINGS_FILE
        if not settings_path.exists() or not (directory / "ca.key").exists():
            msg = f"{directory} is not a deployment directory (run `hinode provision ca` first)"
            raise ConfigError(msg)
        try:
            settings = yaml.safe_load(settings_path.read_text(encoding="utf-8")) or {}
            self.broker_hosts: list[str] = list(settings.get("broker_hosts", ["localhost"]))
            self.cert_port: int = int(settings.get("cert_port", 8883))
            self.password_port: int = int(settings.get("password_port", 8884))
            self.authority = Authority.load(
                (directory / "ca.crt").read_bytes(), (directory / "ca.key").read_bytes()
            )
        except (OSError, yaml.YAMLError, AttributeError, TypeError, ValueError) as exc:
            msg = f"{directory}: damaged deployment directory: {type(exc).__name__}"
            raise ConfigError(msg) from None
        self.state_url = state_url or settings.get("state") or self.default_state_url(directory)

    @staticmethod
    def default_state_url(directory: Path) -> str:
        return f"sqlite:///{directory.resolve() / REGISTRY_FILE}"

    @classmethod
    def create(
        cls,
        directory: Path,
        *,
        broker_hosts: list[str],
        now: dt.datetime,
        state_url: str | None = None,
        cert_port: int = 8883,
        password_port: int = 8884,
    ) -> "Deployment":
        """A new CA, broker certificate and empty revocation list in *directory*."""
        if (directory / "ca.key").exists():
            msg = f"{directory} already holds a CA; refusing to replace it"
            raise ConfigError(msg)
        if not broker_hosts:
            msg = "name at least one broker host (as gateways will reach it)"
            raise ConfigError(msg)
        ca = create_ca("Hinode deployment CA", now)
        write_public(directory / "ca.crt", ca.cert_pem)
        write_secret(directory / "ca.key", ca.key_pem)
        settings: dict[str, Any] = {
            "broker_hosts": broker_hosts,
            "cert_port": cert_port,
            "password_port": password_port,
        }
        if state_url is not None:
            settings["state"] = state_url
        write_public(directory / SETTINGS_FILE, yaml.safe_dump(settings, sort_keys=False))
        deployment = cls(directory)
        server = issue_server(deployment.authority, broker_hosts, now)
        write_public(directory / "server.crt", server.cert_pem)
        write_secret(directory / "server.key", server.key_pem)
        with deployment.registry() as registry:
            deployment.write_crl(registry, now)
        return deployment

    def registry(self) -> "_OpenRegistry":
        return _OpenRegistry(self.state_url)

    @property
    def cert_url(self) -> str:
        return f"mqtts://{self.broker_hosts[0]}:{self.cert_port}"

    @property
    def password_url(self) -> str:
        return f"mqtts://{self.broker_hosts[0]}:{self.password_port}"

    def write_crl(self, registry: IdentityRegistry, now: dt.datetime) -> Path:
        revoked = [(r.serial, _when(r.revoked_at)) for r in registry.revoked_certificates()]
        path = self.directory / broker_files.CRL_FILE
        write_public(path, revocation_list(self.authority, revoked, now))
        return path

    def provision_gateway(
        self,
        *,
        site: str,
        gateway: str,
        out: Path,
        now: dt.datetime,
        auth: str = "cert",
        broker_url: str | None = None,
        files_dir: str,
        outbox_path: str,
        devices: list[Any] | None = None,
    ) -> Written:
        """Identity, credentials and gateway YAML in *out*; the gateway recorded as active."""
        _check_name("site", site)
        _check_name("gateway", gateway)
        ca_pem = (self.directory / "ca.crt").read_bytes()
        password = generate_password() if auth == "password" else None
        url = broker_url or (self.cert_url if password is None else self.password_url)
        text = gateway_yaml(
            site=site,
            gateway=gateway,
            broker_url=url,
            files_dir=files_dir,
            outbox_path=outbox_path,
            password=password,
            devices=devices,
        )
        with self.registry() as registry:
            _refuse_active(registry, gateway)
            written = Written(gateway, [], [])
            write_public(out / "ca.crt", ca_pem)
            written.files.append(out / "ca.crt")
            serial = None
            password_hash = None
            if password is None:
                issued = issue_client(self.authority, gateway, "gateway", now)
                serial = issued.serial
                write_public(out / "gateway.crt", issued.cert_pem)
                write_secret(out / "gateway.key", issued.key_pem)
                written.files.extend([out / "gateway.crt", out / "gateway.key"])
                written.secrets.append(out / "gateway.key")
                write_public(out / "gateway.yaml", text)
            else:
                password_hash = mosquitto_hash(password)
                write_secret(out / "gateway.yaml", text)
                written.secrets.append(out / "gateway.yaml")
            written.files.append(out / "gateway.yaml")
            registry.add(
                Identity(
                    name=gateway,
                    role="gateway",
                    auth="cert" if password is None else "password",
                    created_at=_ms(now),
                    site=site,
                    cert_serial=serial,
                    password_hash=password_hash,
                )
            )
        return written

    def provision_service(
        self,
        *,
        role: Role,
        name: str,
        out: Path,
        now: dt.datetime,
        auth: AuthKind = "password",
        files_dir: str | None = None,
    ) -> Written:
        """A collector or controller identity, by password or by client certificate.

        ``password`` writes ``NAME.password`` and ``NAME.broker-url`` (the URL with the password
        in it, for ``hinode cloud run`` configs), both 0600, and ``ca.crt`` into *out*.
        ``cert`` writes a bundle into ``out/NAME/`` as a gateway's is laid out: ``ca.crt``, a
        client certificate whose CN is *name*, its key (0600) and a ready-to-use file — the
        collector's ``collector.yaml``, or the controller's ``controller.env`` naming the files
        under *files_dir* (default ``/etc/hinode/NAME``), where they will live on its host.
        """
        if role == "gateway":
            msg = "gateways are provisioned with `hinode provision gateway`"
            raise ConfigError(msg)
        _check_name(role, name)
        if auth == "cert":
            return self._certificate_service(role, name, out / name, now, files_dir)
        password = generate_password()
        with self.registry() as registry:
            _refuse_active(registry, name)
            url = f"mqtts://{quote(name)}:{password}@{self.password_url.removeprefix('mqtts://')}"
            write_public(out / "ca.crt", (self.directory / "ca.crt").read_bytes())
            write_secret(out / f"{name}.broker-url", url + "\n")
            write_secret(out / f"{name}.password", password + "\n")
            registry.add(
                Identity(
                    name=name,
                    role=role,
                    auth="password",
                    created_at=_ms(now),
                    password_hash=mosquitto_hash(password),
                )
            )
        secrets = [out / f"{name}.broker-url", out / f"{name}.password"]
        return Written(name, [out / "ca.crt", *secrets], secrets)

    def _certificate_service(
        self, role: Role, name: str, bundle: Path, now: dt.datetime, files_dir: str | None
    ) -> Written:
        if role == "collector":
            cert_file, key_file = COLLECTOR_CERT, COLLECTOR_KEY
            ready_file = COLLECTOR_CONFIG
            ready = collector_yaml(name=name, broker_url=self.cert_url)
        else:
            cert_file, key_file = CONTROLLER_CERT, CONTROLLER_KEY
            ready_file = CONTROLLER_ENV
            where = files_dir or str(PurePosixPath(DEFAULT_SERVICE_DIR) / name)
            ready = controller_env(name=name, broker_url=self.cert_url, files_dir=where)
        with self.registry() as registry:
            _refuse_active(registry, name)
            issued = issue_client(self.authority, name, role, now)
            write_public(bundle / CA_FILE, (self.directory / "ca.crt").read_bytes())
            write_public(bundle / cert_file, issued.cert_pem)
            write_secret(bundle / key_file, issued.key_pem)
            write_public(bundle / ready_file, ready)
            registry.add(
                Identity(
                    name=name,
                    role=role,
                    auth="cert",
                    created_at=_ms(now),
                    cert_serial=issued.serial,
                )
            )
        files = [bundle / file for file in (CA_FILE, cert_file, key_file, ready_file)]
        return Written(name, files, [bundle / key_file])

    def revoke(self, name: str, now: dt.datetime) -> Identity:
        """Revoke *name*: off the ACL and password file, its certificate on the CRL."""
        with self.registry() as registry:
            identity = registry.revoke(name, _ms(now))
            self.write_crl(registry, now)
        return identity

    def broker_config(
        self, out: Path, settings: broker_files.BrokerSettings, now: dt.datetime
    ) -> Written:
        """Everything the broker reads, regenerated from the registry."""
        with self.registry() as registry:
            self.write_crl(registry, now)
            identities = registry.active()
        passwords = [(i.name, i.password_hash) for i in identities if i.password_hash is not None]
        public = {
            broker_files.CONFIG_FILE: broker_files.mosquitto_conf(settings).encode(),
            broker_files.CA_FILE: (self.directory / "ca.crt").read_bytes(),
            broker_files.SERVER_CERT_FILE: (self.directory / "server.crt").read_bytes(),
            broker_files.CRL_FILE: (self.directory / broker_files.CRL_FILE).read_bytes(),
            broker_files.SETTINGS_FILE: broker_files.settings_yaml(settings).encode(),
        }
        # Mosquitto 2.0.16+ warns about (and later versions refuse) world-readable ACL and
        # password files.
        secret = {
            broker_files.ACL_FILE: acl_file(identities).encode(),
            broker_files.PASSWORD_FILE: password_file(passwords).encode(),
            broker_files.SERVER_KEY_FILE: (self.directory / "server.key").read_bytes(),
        }
        for name, content in public.items():
            write_public(out / name, content)
        for name, content in secret.items():
            write_secret(out / name, content)
        files = [out / name for name in [*public, *secret]]
        return Written("broker", files, [out / name for name in secret])


class _OpenRegistry:
    """``with deployment.registry() as registry:`` — closed on the way out."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._registry: IdentityRegistry | None = None

    def __enter__(self) -> IdentityRegistry:
        self._registry = IdentityRegistry(self._url)
        return self._registry

    def __exit__(self, *_exc: object) -> None:
        if self._registry is not None:
            self._registry.close()
