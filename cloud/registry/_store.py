"""The identity registry on SQLite or PostgreSQL through SQLAlchemy Core."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from cloud._sql_engine import sql_engine
from cloud.registry._model import ROLES, AuthKind, Identity, RevokedCertificate, Role
from messages import ConfigError, TransportError


def _tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    identities = sa.Table(
        "provisioned_identities",
        metadata,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("auth", sa.String(16), nullable=False),
        sa.Column("site", sa.String(64)),
        sa.Column("cert_serial", sa.String(64)),
        sa.Column("password_hash", sa.Text),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("revoked_at", sa.BigInteger),
    )
    revoked = sa.Table(
        "revoked_certificates",
        metadata,
        sa.Column("serial", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("revoked_at", sa.BigInteger, nullable=False),
    )
    return identities, revoked


def _identity(row: Any) -> Identity:
    role = cast("Role", row.role)
    auth = cast("AuthKind", row.auth)
    return Identity(
        name=row.name,
        role=role,
        auth=auth,
        created_at=row.created_at,
        site=row.site,
        cert_serial=row.cert_serial,
        password_hash=row.password_hash,
        revoked_at=row.revoked_at,
    )


class IdentityRegistry:
    """Provisioned identities and revoked certificates; one row per broker username."""

    def __init__(self, url: str) -> None:
        self._engine, schema = sql_engine(url, store="registry", create_parent_dir=True)
        self._identities, self._revoked = _tables(sa.MetaData(schema=schema))
        try:
            with self._engine.begin() as connection:
                self._identities.metadata.create_all(connection)
        except SQLAlchemyError as exc:
            self._engine.dispose()
            raise TransportError(f"identity registry: {_one_line(exc)}") from None

    def add(self, identity: Identity, *, replace_revoked: bool = True) -> None:
        """Record *identity*; a name already active is refused, a revoked one is replaced."""
        if identity.role not in ROLES:
            msg = f"unknown role {identity.role!r}"
            raise ConfigError(msg)
        existing = self.get(identity.name)
        if existing is not None and (existing.active or not replace_revoked):
            msg = f"{identity.name!r} is already provisioned (as {existing.role}); revoke it first"
            raise ConfigError(msg)
        row = {
            "name": identity.name,
            "role": identity.role,
            "auth": identity.auth,
            "site": identity.site,
            "cert_serial": identity.cert_serial,
            "password_hash": identity.password_hash,
            "created_at": identity.created_at,
            "revoked_at": identity.revoked_at,
        }
        with self._begin() as connection:
            if existing is not None:
                connection.execute(
                    sa.delete(self._identities).where(self._identities.c.name == identity.name)
                )
            connection.execute(sa.insert(self._identities).values(row))

    def revoke(self, name: str, revoked_at: int) -> Identity:
        """Mark *name* revoked and put its certificate (if any) on the revocation list."""
        existing = self.get(name)
        if existing is None:
            msg = f"{name!r} is not provisioned"
            raise ConfigError(msg)
        if not existing.active:
            return existing
        with self._begin() as connection:
            connection.execute(
                sa.update(self._identities)
                .where(self._identities.c.name == name)
                .values(revoked_at=revoked_at)
            )
            if existing.cert_serial is not None:
                connection.execute(
                    sa.insert(self._revoked).values(
                        serial=existing.cert_serial, name=name, revoked_at=revoked_at
                    )
                )
        revoked = self.get(name)
        assert revoked is not None
        return revoked

    def get(self, name: str) -> Identity | None:
        rows = self._fetch(sa.select(self._identities).where(self._identities.c.name == name))
        return _identity(rows[0]) if rows else None

    def all(self) -> list[Identity]:
        """Every identity, active or revoked, by role then name."""
        table = self._identities
        return [
            _identity(r) for r in self._fetch(sa.select(table).order_by(table.c.role, table.c.name))
        ]

    def active(self) -> list[Identity]:
        return [identity for identity in self.all() if identity.active]

    def revoked_certificates(self) -> list[RevokedCertificate]:
        table = self._revoked
        rows = self._fetch(sa.select(table).order_by(table.c.revoked_at, table.c.serial))
        return [RevokedCertificate(r.serial, r.name, r.revoked_at) for r in rows]

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        try:
            with self._engine.begin() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise TransportError(f"identity registry: {_one_line(exc)}") from None

    def _fetch(self, statement: sa.Select[Any]) -> list[sa.Row[Any]]:
        try:
            with self._engine.connect() as connection:
                return list(connection.execute(statement))
        except SQLAlchemyError as exc:
            raise TransportError(f"identity registry: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
