"""What the registry holds: one identity per broker username, and revoked certificates."""

from dataclasses import dataclass
from typing import Literal

Role = Literal["gateway", "collector", "controller"]
AuthKind = Literal["cert", "password"]
ROLES: tuple[Role, ...] = ("gateway", "collector", "controller")


@dataclass(frozen=True, slots=True)
class Identity:
    """A broker identity. *name* is the MQTT username (the certificate's CN for ``cert``).

    *password_hash* is the Mosquitto password-file hash (never the password); *cert_serial* is
    the client certificate's serial number in hex. Times are epoch milliseconds UTC.
    """

    name: str
    role: Role
    auth: AuthKind
    created_at: int
    site: str | None = None
    cert_serial: str | None = None
    password_hash: str | None = None
    revoked_at: int | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class RevokedCertificate:
    """A client certificate that must no longer be accepted."""

    serial: str
    name: str
    revoked_at: int
