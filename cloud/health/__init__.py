"""Community care sharing: registry, consent, role-based views, alerts, FHIR export, audit.

Public API::

    from cloud.health import CareStore, CareService, create_app, decide

    store = CareStore("sqlite:///data/state.sqlite")      # or postgresql://…[?schema=NAME]
    service = CareService(store, open_timeseries(data_dir), clock_ms)
    app = create_app(service)                             # ASGI: uvicorn, or TestClient

Pure domain (no I/O, time passed in): :func:`decide` (the access decision), the alert rules
(:func:`threshold_alerts`, :func:`missing_reading_alert`, :func:`recipients`) over a
:class:`Thresholds` table (``alert_thresholds.yaml``, each rule with its clinical source),
the views and the FHIR R4 Observation builder (:func:`fhir_observations`, :func:`search_bundle`).
I/O: :class:`CareStore` (SQLAlchemy Core; the audit log is insert-only), :class:`CareService`
(one audit entry per request), :func:`create_app` (FastAPI) and :class:`AlertMonitor`.
See docs/care.md.
"""

from cloud.health._access import ROLE_VIEWS, decide
from cloud.health._alerts import (
    NO_READING,
    fires,
    missing_reading_alert,
    recipients,
    threshold_alerts,
)
from cloud.health._api import create_app
from cloud.health._fhir import MAPPINGS as FHIR_MAPPINGS
from cloud.health._fhir import observations as fhir_observations
from cloud.health._fhir import search_bundle
from cloud.health._kinds import DATA_KINDS, KIND_OF, KIND_QUANTITIES, kind_of, parse_kinds
from cloud.health._model import (
    Actor,
    Alert,
    AuditEntry,
    CareRelationship,
    Consent,
    Decision,
    Notification,
    Period,
    Role,
    View,
    VitalReading,
)
from cloud.health._notify import AlertMonitor, CheckReport, Publisher, WebhookPublisher
from cloud.health._service import REFUSED, AccessError, CareService, Request, VitalsSource
from cloud.health._store import CareStore
from cloud.health._thresholds import (
    ThresholdRule,
    Thresholds,
    default_thresholds,
    load_thresholds,
)
from cloud.health._tokens import new_token, token_digest

__all__ = [
    "DATA_KINDS",
    "FHIR_MAPPINGS",
    "KIND_OF",
    "KIND_QUANTITIES",
    "NO_READING",
    "REFUSED",
    "ROLE_VIEWS",
    "AccessError",
    "Actor",
    "Alert",
    "AlertMonitor",
    "AuditEntry",
    "CareRelationship",
    "CareService",
    "CareStore",
    "CheckReport",
    "Consent",
    "Decision",
    "Notification",
    "Period",
    "Publisher",
    "Request",
    "Role",
    "ThresholdRule",
    "Thresholds",
    "View",
    "VitalReading",
    "VitalsSource",
    "WebhookPublisher",
    "create_app",
    "decide",
    "default_thresholds",
    "fhir_observations",
    "fires",
    "kind_of",
    "load_thresholds",
    "missing_reading_alert",
    "new_token",
    "parse_kinds",
    "recipients",
    "search_bundle",
    "threshold_alerts",
    "token_digest",
]
