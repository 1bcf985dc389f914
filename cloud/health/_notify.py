"""Alert checks over stored readings, stored notifications, and their publication (webhook)."""

import json
import logging
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Protocol
from urllib.error import URLError

from cloud.health._alerts import missing_reading_alert, recipients, threshold_alerts
from cloud.health._kinds import DATA_KINDS
from cloud.health._model import Alert
from cloud.health._service import CareService
from cloud.health._thresholds import Thresholds
from messages import TransportError

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_S = 10.0
#: How far back each check looks: alerts are stored once, so looking again costs nothing.
LOOKBACK_MS = 2 * 86_400_000


class Publisher(Protocol):
    """Where notifications go once stored (a webhook, a list in tests)."""

    def publish(self, actor: str, alert: Alert) -> None:
        """Deliver one notification or raise TransportError (it is retried on the next check)."""
        ...


def notification_body(actor: str, alert: Alert) -> dict[str, object]:
    return {"schema": "hinode.care.notification/1", "actor": actor, "alert": asdict(alert)}


class WebhookPublisher:
    """POSTs each notification as JSON to one URL (the city's notification gateway)."""

    def __init__(self, url: str, *, timeout_s: float = WEBHOOK_TIMEOUT_S) -> None:
        if not url.startswith(("http://", "https://")):
            msg = f"webhook URL must be http:// or https://, got {url.split('://', 1)[0]}://…"
            raise TransportError(msg)
        self.url = url
        self.timeout_s = timeout_s

    def publish(self, actor: str, alert: Alert) -> None:
        data = json.dumps(notification_body(actor, alert)).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            self.url, data=data, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                response.read(1024)
        except (URLError, OSError, ValueError) as exc:
            msg = f"webhook {self.url}: {getattr(exc, 'reason', exc)}"
            raise TransportError(msg) from exc


@dataclass(slots=True)
class CheckReport:
    """What one alert check did (counts only: no personal value is ever logged)."""

    persons: int = 0
    new_alerts: int = 0
    notifications: int = 0
    published: int = 0
    publish_failures: int = 0


class AlertMonitor:
    """Runs the rules over every registered person's recent readings and tells the actors."""

    def __init__(
        self,
        service: CareService,
        thresholds: Thresholds,
        publisher: Publisher | None = None,
        now_ms: Callable[[], int] | None = None,
    ) -> None:
        self.service = service
        self.store = service.store
        self.thresholds = thresholds
        self.publisher = publisher
        self.now_ms = now_ms or service.now_ms

    def check(self) -> CheckReport:
        now = self.now_ms()
        report = CheckReport()
        actors = self.store.actors()
        for person in self.store.persons():
            report.persons += 1
            readings = self.service.readings(person, list(DATA_KINDS), now - LOOKBACK_MS, now + 1)
            alerts = threshold_alerts(person, readings, self.thresholds)
            missing = missing_reading_alert(person, readings, self.thresholds, now)
            if missing is not None:
                alerts.append(missing)
            new = self.store.add_alerts(alerts, now)
            report.new_alerts += len(new)
            if not new:
                continue
            consents = self.store.consents(person)
            relationships = self.store.relationships(person)
            for alert_id, alert in new:
                told = recipients(
                    alert, actors, consents=consents, relationships=relationships, now=now
                )
                report.notifications += len(
                    self.store.add_notifications(alert_id, [n.actor for n in told], now)
                )
        if self.publisher is not None:
            self._publish(self.publisher, now, report)
        logger.info(
            "alert check: %d persons, %d new alerts, %d notifications, %d published, %d failed",
            report.persons,
            report.new_alerts,
            report.notifications,
            report.published,
            report.publish_failures,
        )
        return report

    def _publish(self, publisher: Publisher, now: int, report: CheckReport) -> None:
        for note_id, actor, alert in self.store.unpublished():
            try:
                publisher.publish(actor, alert)
            except TransportError as exc:
                report.publish_failures += 1
                logger.warning("notification %d not published: %s", note_id, exc)
                break  # the endpoint is down: try the rest on the next check, in order
            self.store.mark_published(note_id, now)
            report.published += 1
