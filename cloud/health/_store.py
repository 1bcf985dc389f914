"""The care registry, consents, actors, alerts, notifications and the audit log in SQL.

SQLAlchemy Core on SQLite (default) or PostgreSQL; the tables are this package's own
(``care_*``) beside the collector's in the same database. The audit table is written by one
insert method and read by selects: no code path updates or deletes an audit entry, and a
trigger makes the database refuse it too.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from cloud._sql_engine import sql_engine
from cloud._sql_url import redacted
from cloud.health._model import (
    Actor,
    Alert,
    AuditEntry,
    CareRelationship,
    Consent,
    Period,
    Role,
)
from messages import ConfigError, TransportError

STATEMENT_TIMEOUT_MS = 30_000

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    def table(name: str, *columns: Any) -> sa.Table:
        return sa.Table(f"care_{name}", metadata, *columns)

    return {
        "persons": table(
            "persons",
            sa.Column("person", sa.String(64), primary_key=True),
            sa.Column("created_at", sa.BigInteger, nullable=False),
        ),
        "pseudonyms": table(
            "pseudonyms",
            sa.Column("subject", sa.String(64), primary_key=True),
            sa.Column("person", sa.String(64), nullable=False, index=True),
            sa.Column("created_at", sa.BigInteger, nullable=False),
        ),
        "actors": table(
            "actors",
            sa.Column("actor", sa.String(64), primary_key=True),
            sa.Column("role", sa.String(16), nullable=False),
            # SHA-256 of the bearer token: the token itself is shown once and never stored.
            sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
            sa.Column("created_at", sa.BigInteger, nullable=False),
            sa.Column("disabled_at", sa.BigInteger),
        ),
        "relationships": table(
            "relationships",
            sa.Column("id", _ID, primary_key=True),
            sa.Column("person", sa.String(64), nullable=False, index=True),
            sa.Column("actor", sa.String(64), nullable=False),
            sa.Column("role", sa.String(16), nullable=False),
            sa.Column("valid_from", sa.BigInteger, nullable=False),
            sa.Column("valid_until", sa.BigInteger),
            sa.Column("created_at", sa.BigInteger, nullable=False),
        ),
        "consents": table(
            "consents",
            sa.Column("id", _ID, primary_key=True),
            sa.Column("person", sa.String(64), nullable=False, index=True),
            sa.Column("actor", sa.String(64), nullable=False),
            sa.Column("role", sa.String(16), nullable=False),
            sa.Column("kinds", sa.Text, nullable=False),
            sa.Column("valid_from", sa.BigInteger, nullable=False),
            sa.Column("valid_until", sa.BigInteger),
            sa.Column("granted_at", sa.BigInteger, nullable=False),
            sa.Column("revoked_at", sa.BigInteger),
        ),
        "audit": table(
            "audit",
            sa.Column("id", _ID, primary_key=True),
            sa.Column("at", sa.BigInteger, nullable=False, index=True),
            sa.Column("actor", sa.String(64)),
            sa.Column("role", sa.String(16)),
            sa.Column("subject", sa.String(64)),
            sa.Column("person", sa.String(64)),
            sa.Column("view", sa.String(16), nullable=False),
            sa.Column("data_kind", sa.String(32), nullable=False),
            sa.Column("granted", sa.Boolean, nullable=False),
            sa.Column("reason", sa.Text, nullable=False),
        ),
        "alerts": table(
            "alerts",
            sa.Column("id", _ID, primary_key=True),
            sa.Column("person", sa.String(64), nullable=False),
            sa.Column("rule", sa.String(40), nullable=False),
            sa.Column("kind", sa.String(32), nullable=False),
            sa.Column("quantity", sa.String(64)),
            sa.Column("ts", sa.BigInteger, nullable=False),
            sa.Column("value", sa.Float),
            sa.Column("threshold", sa.Float),
            sa.Column("message", sa.Text, nullable=False),
            sa.Column("raised_at", sa.BigInteger, nullable=False),
            sa.UniqueConstraint("person", "rule", "ts", name="care_alerts_once"),
        ),
        "notifications": table(
            "notifications",
            sa.Column("id", _ID, primary_key=True),
            sa.Column("alert_id", sa.BigInteger, nullable=False),
            sa.Column("actor", sa.String(64), nullable=False, index=True),
            sa.Column("created_at", sa.BigInteger, nullable=False),
            sa.Column("published_at", sa.BigInteger),
            sa.UniqueConstraint("alert_id", "actor", name="care_notifications_once"),
        ),
    }


def _one_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _consent(row: Any) -> Consent:
    return Consent(
        id=row.id,
        person=row.person,
        actor=row.actor,
        role=Role(row.role),
        kinds=frozenset(row.kinds.split(",")),
        period=Period(row.valid_from, row.valid_until),
        granted_at=row.granted_at,
        revoked_at=row.revoked_at,
    )


def _alert(row: Any) -> Alert:
    return Alert(
        person=row.person,
        rule=row.rule,
        kind=row.kind,
        quantity=row.quantity,
        ts=row.ts,
        value=row.value,
        threshold=row.threshold,
        message=row.message,
    )


class CareStore:
    """Registry (persons, pseudonyms, care relationships), actors, consents, alerts,
    notifications and the append-only audit log."""

    def __init__(self, url: str) -> None:
        self.url = redacted(url)
        # WAL as the collector's state has it (same file); NORMAL survives a process crash.
        self._engine, schema = sql_engine(
            url,
            store="care state",
            create_parent_dir=True,
            thread_check=False,
            wal=True,
            synchronous_normal=True,
            statement_timeout_ms=STATEMENT_TIMEOUT_MS,
            lock_timeout_ms=STATEMENT_TIMEOUT_MS,
        )
        self._postgres = self._engine.dialect.name == "postgresql"
        self._t = _tables(sa.MetaData(schema=schema))
        try:
            with self._engine.begin() as connection:
                if self._postgres:
                    # Two services starting together must not both create the tables.
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(4650)"))
                next(iter(self._t.values())).metadata.create_all(connection)
                self._guard_audit(connection)
        except SQLAlchemyError as exc:
            self._engine.dispose()
            msg = f"cannot open care state {self.url}: {_one_line(exc)}"
            raise TransportError(msg) from exc

    def close(self) -> None:
        self._engine.dispose()

    def _guard_audit(self, connection: Connection) -> None:
        """Make the database itself refuse to change or remove an audit entry."""
        audit = self._t["audit"]
        if not self._postgres:
            for action in ("UPDATE", "DELETE"):
                connection.exec_driver_sql(
                    f"CREATE TRIGGER IF NOT EXISTS care_audit_no_{action.lower()} BEFORE {action}"
                    f" ON {audit.name} BEGIN SELECT RAISE(ABORT, '{audit.name} is append-only');"
                    " END"
                )
            return
        prefix = f'"{audit.schema}".' if audit.schema else ""
        function = f"{prefix}care_audit_append_only"
        connection.exec_driver_sql(
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS"
            f" $$ BEGIN RAISE EXCEPTION '{audit.name} is append-only'; END $$"
        )
        connection.exec_driver_sql(
            f"CREATE OR REPLACE TRIGGER care_audit_append_only"
            f" BEFORE UPDATE OR DELETE OR TRUNCATE ON {prefix}{audit.name}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        try:
            with self._engine.begin() as connection:
                yield connection
        except IntegrityError as exc:
            msg = f"care state {self.url}: conflicting record: {_one_line(exc.orig or exc)}"
            raise ConfigError(msg) from None
        except SQLAlchemyError as exc:
            msg = f"care state {self.url}: {_one_line(exc)}"
            raise TransportError(msg) from exc

    def _rows(self, statement: Any) -> Sequence[Any]:
        with self._begin() as connection:
            return connection.execute(statement).all()

    def _insert_ignore(self, table: sa.Table) -> Any:
        return (postgresql if self._postgres else sqlite).insert(table).on_conflict_do_nothing()

    # -- registry --------------------------------------------------------------------------

    def add_person(self, person: str, now: int) -> None:
        with self._begin() as connection:
            connection.execute(self._t["persons"].insert().values(person=person, created_at=now))

    def add_pseudonym(self, subject: str, person: str, now: int) -> None:
        """Link the wire pseudonym *subject* (``vitals/{subject}``) to a registered person."""
        if not self.person_exists(person):
            msg = f"person {person!r} is not registered"
            raise ConfigError(msg)
        with self._begin() as connection:
            connection.execute(
                self._t["pseudonyms"]
                .insert()
                .values(subject=subject, person=person, created_at=now)
            )

    def person_exists(self, person: str) -> bool:
        persons = self._t["persons"]
        return bool(self._rows(sa.select(persons.c.person).where(persons.c.person == person)))

    def resolve(self, subject: str) -> str | None:
        """The person a person id or pseudonym names, None if neither is registered."""
        if self.person_exists(subject):
            return subject
        pseudonyms = self._t["pseudonyms"]
        rows = self._rows(sa.select(pseudonyms.c.person).where(pseudonyms.c.subject == subject))
        return str(rows[0].person) if rows else None

    def persons(self) -> list[str]:
        persons = self._t["persons"]
        return [row.person for row in self._rows(sa.select(persons.c.person).order_by("person"))]

    def pseudonyms(self, person: str) -> list[str]:
        table = self._t["pseudonyms"]
        statement = sa.select(table.c.subject).where(table.c.person == person).order_by("subject")
        return [row.subject for row in self._rows(statement)]

    def add_relationship(
        self, person: str, actor: str, period: Period, now: int
    ) -> CareRelationship:
        """Record that *actor* cares for *person* (in the actor's role) during *period*."""
        found = self._registered(person, actor)
        with self._begin() as connection:
            result = connection.execute(
                self._t["relationships"]
                .insert()
                .values(
                    person=person,
                    actor=actor,
                    role=found.role.value,
                    valid_from=period.valid_from,
                    valid_until=period.valid_until,
                    created_at=now,
                )
            )
            (row_id,) = result.inserted_primary_key or (0,)
        return CareRelationship(int(row_id), person, actor, found.role, period)

    def relationships(self, person: str) -> list[CareRelationship]:
        table = self._t["relationships"]
        rows = self._rows(sa.select(table).where(table.c.person == person).order_by(table.c.id))
        return [
            CareRelationship(
                row.id,
                row.person,
                row.actor,
                Role(row.role),
                Period(row.valid_from, row.valid_until),
            )
            for row in rows
        ]

    # -- actors ----------------------------------------------------------------------------

    def add_actor(self, actor: str, role: Role, token_sha256: str, now: int) -> Actor:
        with self._begin() as connection:
            connection.execute(
                self._t["actors"]
                .insert()
                .values(actor=actor, role=role.value, token_sha256=token_sha256, created_at=now)
            )
        return Actor(actor, role, now)

    def disable_actor(self, actor: str, now: int) -> None:
        table = self._t["actors"]
        with self._begin() as connection:
            done = connection.execute(
                table.update()
                .where(table.c.actor == actor, table.c.disabled_at.is_(None))
                .values(disabled_at=now)
            )
        if done.rowcount == 0 and self.actor(actor) is None:
            msg = f"actor {actor!r} is not registered"
            raise ConfigError(msg)

    def _registered(self, person: str, actor: str) -> Actor:
        """The registered *actor*, once both it and *person* are known; ConfigError otherwise."""
        found = self.actor(actor)
        if found is None:
            msg = f"actor {actor!r} is not registered"
            raise ConfigError(msg)
        if not self.person_exists(person):
            msg = f"person {person!r} is not registered"
            raise ConfigError(msg)
        return found

    def actor(self, actor: str) -> Actor | None:
        table = self._t["actors"]
        rows = self._rows(sa.select(table).where(table.c.actor == actor))
        return self._actor(rows[0]) if rows else None

    def actor_by_token(self, token_sha256: str) -> Actor | None:
        table = self._t["actors"]
        rows = self._rows(sa.select(table).where(table.c.token_sha256 == token_sha256))
        return self._actor(rows[0]) if rows else None

    def actors(self) -> list[Actor]:
        table = self._t["actors"]
        return [self._actor(row) for row in self._rows(sa.select(table).order_by(table.c.actor))]

    @staticmethod
    def _actor(row: Any) -> Actor:
        return Actor(row.actor, Role(row.role), row.created_at, row.disabled_at)

    # -- consents --------------------------------------------------------------------------

    def grant(
        self, person: str, actor: str, kinds: frozenset[str], period: Period, now: int
    ) -> Consent:
        """Record a consent of *person* for *actor* in the actor's role; returns it with its id."""
        found = self._registered(person, actor)
        with self._begin() as connection:
            result = connection.execute(
                self._t["consents"]
                .insert()
                .values(
                    person=person,
                    actor=actor,
                    role=found.role.value,
                    kinds=",".join(sorted(kinds)),
                    valid_from=period.valid_from,
                    valid_until=period.valid_until,
                    granted_at=now,
                )
            )
            (row_id,) = result.inserted_primary_key or (0,)
        return Consent(int(row_id), person, actor, found.role, kinds, period, now)

    def revoke(self, consent_id: int, now: int) -> Consent:
        """Revoke a consent from *now* on (an already revoked one keeps its first revocation)."""
        table = self._t["consents"]
        with self._begin() as connection:
            connection.execute(
                table.update()
                .where(table.c.id == consent_id, table.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            row = connection.execute(sa.select(table).where(table.c.id == consent_id)).first()
        if row is None:
            msg = f"no consent {consent_id}"
            raise ConfigError(msg)
        return _consent(row)

    def consents(self, person: str) -> list[Consent]:
        table = self._t["consents"]
        rows = self._rows(sa.select(table).where(table.c.person == person).order_by(table.c.id))
        return [_consent(row) for row in rows]

    # -- audit (insert and read only) ------------------------------------------------------

    def append_audit(self, entry: AuditEntry) -> None:
        with self._begin() as connection:
            connection.execute(
                self._t["audit"]
                .insert()
                .values(
                    at=entry.at,
                    actor=entry.actor,
                    role=entry.role,
                    subject=entry.subject,
                    person=entry.person,
                    view=entry.view,
                    data_kind=entry.data_kind,
                    granted=entry.granted,
                    reason=entry.reason,
                )
            )

    def audit_log(
        self, *, since: int | None = None, limit: int = 1000, latest: bool = False
    ) -> list[AuditEntry]:
        """Audit entries in the order they were written: the first *limit* (or the last, with
        *latest*) from *since* on."""
        table = self._t["audit"]
        statement = sa.select(table).order_by(table.c.id.desc() if latest else table.c.id)
        if since is not None:
            statement = statement.where(table.c.at >= since)
        entries = [
            AuditEntry(
                at=row.at,
                actor=row.actor,
                role=row.role,
                subject=row.subject,
                person=row.person,
                view=row.view,
                data_kind=row.data_kind,
                granted=row.granted,
                reason=row.reason,
            )
            for row in self._rows(statement.limit(limit))
        ]
        return entries[::-1] if latest else entries

    def audit_count(self) -> int:
        table = self._t["audit"]
        return int(self._rows(sa.select(sa.func.count()).select_from(table))[0][0])

    # -- alerts and notifications ----------------------------------------------------------

    def add_alerts(self, alerts: Sequence[Alert], now: int) -> list[tuple[int, Alert]]:
        """Store *alerts*; return the new ones with their ids (a known alert is not new)."""
        table = self._t["alerts"]
        new = []
        with self._begin() as connection:
            for alert in alerts:
                result = connection.execute(
                    self._insert_ignore(table)
                    .values(
                        person=alert.person,
                        rule=alert.rule,
                        kind=alert.kind,
                        quantity=alert.quantity,
                        ts=alert.ts,
                        value=alert.value,
                        threshold=alert.threshold,
                        message=alert.message,
                        raised_at=now,
                    )
                    .returning(table.c.id)
                ).first()
                if result is not None:
                    new.append((int(result.id), alert))
        return new

    def alerts(self, person: str, since: int, until: int) -> list[Alert]:
        table = self._t["alerts"]
        statement = (
            sa.select(table)
            .where(table.c.person == person, table.c.ts >= since, table.c.ts < until)
            .order_by(table.c.ts, table.c.id)
        )
        return [_alert(row) for row in self._rows(statement)]

    def add_notifications(self, alert_id: int, actors: Sequence[str], now: int) -> list[int]:
        table = self._t["notifications"]
        ids = []
        with self._begin() as connection:
            for actor in actors:
                row = connection.execute(
                    self._insert_ignore(table)
                    .values(alert_id=alert_id, actor=actor, created_at=now)
                    .returning(table.c.id)
                ).first()
                if row is not None:
                    ids.append(int(row.id))
        return ids

    def mark_published(self, notification_id: int, now: int) -> None:
        table = self._t["notifications"]
        with self._begin() as connection:
            connection.execute(
                table.update().where(table.c.id == notification_id).values(published_at=now)
            )

    def unpublished(self, limit: int = 1000) -> list[tuple[int, str, Alert]]:
        """Notifications not yet published, oldest first: (id, actor, alert)."""
        notes, alerts = self._t["notifications"], self._t["alerts"]
        statement = (
            sa.select(notes.c.id.label("note_id"), notes.c.actor.label("recipient"), alerts)
            .join(alerts, alerts.c.id == notes.c.alert_id)
            .where(notes.c.published_at.is_(None))
            .order_by(notes.c.id)
            .limit(limit)
        )
        return [(row.note_id, row.recipient, _alert(row)) for row in self._rows(statement)]

    def notifications(self, actor: str) -> list[tuple[int, Alert, int | None]]:
        """An actor's notifications: (id, alert, published_at), oldest first."""
        notes, alerts = self._t["notifications"], self._t["alerts"]
        statement = (
            sa.select(notes.c.id.label("note_id"), notes.c.published_at, alerts)
            .join(alerts, alerts.c.id == notes.c.alert_id)
            .where(notes.c.actor == actor)
            .order_by(notes.c.id)
        )
        return [(row.note_id, _alert(row), row.published_at) for row in self._rows(statement)]
