"""``hinode care``: the care API, its registry and consents, alerts, FHIR export and audit log."""

import json
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from cloud import TimeSeriesStore, open_timeseries, parse_instant, state_url
from cloud.health import (
    DATA_KINDS,
    AccessError,
    AlertMonitor,
    CareService,
    CareStore,
    Period,
    Request,
    Role,
    Thresholds,
    View,
    WebhookPublisher,
    create_app,
    default_thresholds,
    load_thresholds,
    new_token,
    parse_kinds,
    token_digest,
)
from hinode import logs
from hinode.commands._errors import fail
from messages import HinodeError, WallClock, is_valid_id, now_ms

app = typer.Typer(no_args_is_help=True)
person_app = typer.Typer(no_args_is_help=True, help="Registered persons and their pseudonyms.")
actor_app = typer.Typer(no_args_is_help=True, help="Actors (family, doctors, nurses, managers).")
consent_app = typer.Typer(no_args_is_help=True, help="Consents: grant, revoke, list.")
alerts_app = typer.Typer(no_args_is_help=True, help="Alert rules over the stored readings.")
app.add_typer(person_app, name="person")
app.add_typer(actor_app, name="actor")
app.add_typer(consent_app, name="consent")
app.add_typer(alerts_app, name="alerts")

logger = logging.getLogger(__name__)

TOKEN_ENV = "HINODE_CARE_TOKEN"  # noqa: S105 - the variable's name, not a token

DataDir = Annotated[
    Path,
    typer.Option("--data-dir", help="Data directory holding the default SQLite stores."),
]
StateUrl = Annotated[
    str | None,
    typer.Option("--state", help="Care state URL: sqlite:///PATH or postgresql://… (?schema=)."),
]
StoreUrl = Annotated[
    str | None,
    typer.Option("--store", help="Time-series store URL (default: the data dir's SQLite)."),
]
Since = Annotated[str | None, typer.Option("--from", help="Valid from (ISO 8601; default now).")]
Until = Annotated[
    str | None, typer.Option("--until", help="Valid until (ISO 8601; open if unset).")
]
Timezone = Annotated[str, typer.Option(help="Local time zone of days in views.")]
ThresholdsFile = Annotated[
    Path | None, typer.Option("--thresholds", help="Alert thresholds YAML (default: shipped).")
]
Webhook = Annotated[
    str | None, typer.Option("--webhook", help="POST each notification as JSON to this URL.")
]


def _valid_id(value: str, what: str) -> str:
    if not is_valid_id(value):
        fail(f"{what} {value!r} is not a valid id (lowercase letters, digits and '-')")
    return value


@contextmanager
def _store(data_dir: Path, state: str | None) -> Iterator[CareStore]:
    try:
        store = CareStore(state or state_url(data_dir))
    except HinodeError as exc:
        fail(str(exc))
    try:
        yield store
    except HinodeError as exc:
        fail(str(exc))
    finally:
        store.close()


def _timeseries(data_dir: Path, store: str | None) -> TimeSeriesStore:
    if store is None and not (data_dir / "timeseries.sqlite").exists():
        fail(f"no time-series store in {data_dir} (expected {data_dir / 'timeseries.sqlite'})")
    try:
        return open_timeseries(store or data_dir)
    except HinodeError as exc:
        fail(str(exc))


def _period(valid_from: str | None, valid_until: str | None, now: int) -> Period:
    try:
        start = now if valid_from is None else parse_instant(valid_from)
        end = None if valid_until is None else parse_instant(valid_until)
    except ValueError as exc:
        fail(str(exc))
    if end is not None and end <= start:
        fail("--until must be after --from")
    return Period(start, end)


def _thresholds(path: Path | None) -> Thresholds:
    try:
        return default_thresholds() if path is None else load_thresholds(path)
    except HinodeError as exc:
        fail(str(exc))


def _now() -> int:
    return now_ms(WallClock())


# -- registry --------------------------------------------------------------------------------


@person_app.command("add")
def person_add(
    person: Annotated[str, typer.Argument(help="Person id of the care registry (never a name).")],
    *,
    pseudonym: Annotated[
        list[str] | None, typer.Option("--pseudonym", help="A vitals subject of theirs.")
    ] = None,
    data_dir: DataDir = Path("data"),
    state: StateUrl = None,
) -> None:
    """Register a person, optionally with the pseudonyms their gateway publishes under."""
    _valid_id(person, "person")
    for subject in pseudonym or []:
        _valid_id(subject, "pseudonym")
    with _store(data_dir, state) as store:
        now = _now()
        store.add_person(person, now)
        for subject in pseudonym or []:
            store.add_pseudonym(subject, person, now)
    typer.echo(f"person {person} registered")


@person_app.command("link")
def person_link(
    pseudonym: Annotated[str, typer.Argument(help="The vitals subject (HMAC pseudonym).")],
    person: Annotated[str, typer.Argument(help="The registered person it belongs to.")],
    *,
    data_dir: DataDir = Path("data"),
    state: StateUrl = None,
) -> None:
    """Link one more pseudonym (a new device pairing) to a registered person."""
    _valid_id(pseudonym, "pseudonym")
    with _store(data_dir, state) as store:
        store.add_pseudonym(pseudonym, person, _now())
    typer.echo(f"pseudonym {pseudonym} linked to {person}")


@app.command("relate")
def relate(
    *,
    person: Annotated[str, typer.Option(help="The person cared for.")],
    actor: Annotated[str, typer.Option(help="The actor caring (in the actor's role).")],
    valid_from: Since = None,
    valid_until: Until = None,
    data_dir: DataDir = Path("data"),
    state: StateUrl = None,
) -> None:
    """Record a care relationship: family member, attending doctor, a visiting nurse's care
    period, an assigned care manager."""
    with _store(data_dir, state) as store:
        now = _now()
        relationship = store.add_relationship(
            person, actor, _period(valid_from, valid_until, now), now
        )
    typer.echo(f"relationship {relationship.id}: {actor} ({relationship.role}) cares for {person}")


# -- actors ----------------------------------------------------------------------------------


@actor_app.command("add")
def actor_add(
    actor: Annotated[str, typer.Argument(help="Actor id.")],
    *,
    role: Annotated[str, typer.Option(help="family, doctor, nurse or care_manager.")],
    data_dir: DataDir = Path("data"),
    state: StateUrl = None,
) -> None:
    """Register an actor and print their bearer token — once: only its digest is stored."""
    _valid_id(actor, "actor")
    try:
        parsed = Role(role)
    except ValueError:
        fail(f"unknown role {role!r}: expected one of {', '.join(r.value for r in Role)}")
    token = new_token()
    with _store(data_dir, state) as store:
        store.add_actor(actor, parsed, token_digest(token), _now())
    typer.echo(f"actor {actor} ({parsed}) registered; bearer token (shown once):", err=True)
    typer.echo(token)


@actor_app.command("disable")
def actor_disable(
    actor: Annotated[str, typer.Argument(help="Actor id.")],
    *,
    data_dir: DataDir = Path("data"),
    state: StateUrl = None,
) -> None:
    """Disable an actor: their token is refused from now on."""
    with _store(data_dir, state) as store:
        store.disable_actor(actor, _now())
    typer.echo(f"actor {actor} disabled")


# -- consents --------------------------------------------------------------------------------


@consent_app.command("grant")
def consent_grant(
    *,
    person: Annotated[str, typer.Option(help="The person who consents.")],
    actor: Annotated[str, typer.Option(help="The actor allowed (in the actor's role).")],
    kinds: Annotated[
        str, typer.Option(help=f"'all' or a comma-separated list of: {', '.join(DATA_KINDS)}.")
    ],
    valid_from: Since = None,
    valid_until: Until = None,
    data_dir: DataDir = Path("data"),
    state: StateUrl = None,
) -> None:
    """Record a consent; prints its id (for ``consent revoke``)."""
    try:
        chosen = parse_kinds(kinds)
    except ValueError as exc:
        fail(str(exc))
    with _store(data_dir, state) as store:
        now = _now()
        consent = store.grant(person, actor, chosen, _period(valid_from, valid_until, now), now)
    typer.echo(consent.id)


@consent_app.command("revoke")
def consent_revoke(
    consent_id: Annotated[int, typer.Argument(help="The consent's id.")],
    *,
    data_dir: DataDir = Path("data"),
    state: StateUrl = None,
) -> None:
    """Revoke a consent; it stops counting at once (from the next request on)."""
    with _store(data_dir, state) as store:
        consent = store.revoke(consent_id, _now())
    typer.echo(f"consent {consent.id} revoked")


@consent_app.command("list")
def consent_list(
    *,
    person: Annotated[str, typer.Option(help="The person whose consents to list.")],
    data_dir: DataDir = Path("data"),
    state: StateUrl = None,
) -> None:
    """A person's consents with their state now, one JSON object a line."""
    with _store(data_dir, state) as store:
        now = _now()
        for consent in store.consents(person):
            line = {
                "id": consent.id,
                "actor": consent.actor,
                "role": consent.role.value,
                "kinds": sorted(consent.kinds),
                "valid_from": consent.period.valid_from,
                "valid_until": consent.period.valid_until,
                "revoked_at": consent.revoked_at,
                "state": consent.state(now),
            }
            typer.echo(json.dumps(line))


# -- serving and export ----------------------------------------------------------------------


@app.command("serve")
def serve(
    *,
    data_dir: DataDir = Path("data"),
    state: StateUrl = None,
    store: StoreUrl = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8470,
    timezone: Timezone = "Asia/Tokyo",
    thresholds: ThresholdsFile = None,
    alert_interval: Annotated[
        float, typer.Option(help="Seconds between alert checks (0: no checks).")
    ] = 60.0,
    webhook: Webhook = None,
) -> None:
    """Serve the care API until SIGINT or SIGTERM (and check alerts every --alert-interval)."""
    logs.configure(level="info")
    table = _thresholds(thresholds)
    publisher = _publisher(webhook)
    timeseries = _timeseries(data_dir, store)
    with _store(data_dir, state) as care:
        service = _service(care, timeseries, timezone)
        monitor = AlertMonitor(service, table, publisher)
        stop = threading.Event()
        checker = threading.Thread(
            target=_check_every, args=(monitor, alert_interval, stop), daemon=True
        )
        if alert_interval > 0:
            checker.start()
        try:
            uvicorn.run(
                create_app(service),
                host=host,
                port=port,
                log_level="info",
                access_log=False,  # the audit log records every access, with its reason
                timeout_keep_alive=5,
                timeout_graceful_shutdown=10,
            )
        finally:
            stop.set()
            if checker.is_alive():
                checker.join(timeout=30)
            timeseries.close()


def _check_every(monitor: AlertMonitor, interval_s: float, stop: threading.Event) -> None:
    while not stop.wait(interval_s):
        try:
            monitor.check()
        except HinodeError as exc:
            logger.warning("alert check failed: %s", exc)


def _publisher(webhook: str | None) -> WebhookPublisher | None:
    try:
        return None if webhook is None else WebhookPublisher(webhook)
    except HinodeError as exc:
        fail(str(exc))


def _service(care: CareStore, timeseries: TimeSeriesStore, timezone: str) -> CareService:
    try:
        return CareService(care, timeseries, lambda: now_ms(WallClock()), timezone=timezone)
    except (ValueError, KeyError) as exc:
        fail(f"unknown time zone {timezone!r}: {exc}")


@app.command("export-fhir")
def export_fhir(
    *,
    subject: Annotated[str, typer.Option(help="Person id or pseudonym (Patient/ID accepted).")],
    token: Annotated[
        str | None,
        typer.Option(help=f"The actor's bearer token (default: ${TOKEN_ENV}).", show_default=False),
    ] = None,
    kind: Annotated[str | None, typer.Option(help="One measurement kind (default: all).")] = None,
    day: Annotated[str | None, typer.Option(help="Last local day, YYYY-MM-DD.")] = None,
    days: Annotated[int, typer.Option(help="How many days up to --day.")] = 30,
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
    data_dir: DataDir = Path("data"),
    state: StateUrl = None,
    store: StoreUrl = None,
    timezone: Timezone = "Asia/Tokyo",
) -> None:
    """Print a FHIR R4 searchset Bundle of a person's Observations.

    The same access rules as the API apply (the token's actor needs detail access by consent),
    and the export is written to the audit log like any request.
    """
    bearer = token or os.environ.get(TOKEN_ENV)
    timeseries = _timeseries(data_dir, store)
    try:
        with _store(data_dir, state) as care:
            service = _service(care, timeseries, timezone)
            request = Request(
                bearer, subject.removeprefix("Patient/"), View.FHIR, kind, day, str(days)
            )
            try:
                bundle: dict[str, Any] = service.handle(request)
            except AccessError as exc:
                fail(f"refused: {exc.reason}", code=1 if exc.status == 403 else 2)
    finally:
        timeseries.close()
    text = json.dumps(bundle, ensure_ascii=False, indent=2)
    if output is None:
        sys.stdout.write(text + "\n")
    else:
        try:
            output.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            fail(f"{output}: cannot write: {exc.strerror or exc}")


@alerts_app.command("check")
def alerts_check(
    *,
    data_dir: DataDir = Path("data"),
    state: StateUrl = None,
    store: StoreUrl = None,
    thresholds: ThresholdsFile = None,
    webhook: Webhook = None,
    timezone: Timezone = "Asia/Tokyo",
) -> None:
    """Run the alert rules once over recent readings; store and publish notifications."""
    table = _thresholds(thresholds)
    publisher = _publisher(webhook)
    timeseries = _timeseries(data_dir, store)
    try:
        with _store(data_dir, state) as care:
            report = AlertMonitor(_service(care, timeseries, timezone), table, publisher).check()
    finally:
        timeseries.close()
    typer.echo(
        f"{report.persons} persons, {report.new_alerts} new alerts, "
        f"{report.notifications} notifications, {report.published} published"
        + (f", {report.publish_failures} failed" if report.publish_failures else "")
    )


@app.command("audit")
def audit(
    *,
    since: Annotated[str | None, typer.Option(help="From this ISO date-time.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries.")] = 1000,
    data_dir: DataDir = Path("data"),
    state: StateUrl = None,
) -> None:
    """Print the audit log, oldest first, one JSON object a line."""
    try:
        start = None if since is None else parse_instant(since)
    except ValueError as exc:
        fail(str(exc))
    with _store(data_dir, state) as care:
        for entry in care.audit_log(since=start, limit=limit):
            typer.echo(
                json.dumps(
                    {
                        "at": entry.at,
                        "actor": entry.actor,
                        "role": entry.role,
                        "subject": entry.subject,
                        "person": entry.person,
                        "view": entry.view,
                        "kind": entry.data_kind,
                        "granted": entry.granted,
                        "reason": entry.reason,
                    }
                )
            )
