"""Grafana dashboard JSON built by code: datasource references, targets, panels, layout."""

from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 39
GRID_WIDTH = 24

INFLUX_UID = "hinode-influx"
POSTGRES_UID = "hinode-postgres"
INFLUX = {"type": "influxdb", "uid": INFLUX_UID}
POSTGRES = {"type": "grafana-postgresql-datasource", "uid": POSTGRES_UID}
#: Grafana's built-in server-side expressions.
EXPRESSION = {"type": "__expr__", "uid": "__expr__"}

#: The site filter every InfluxQL panel applies (a dashboard variable, "All" matches any).
SITE_FILTER = '"site" =~ /^$site$/'


def influxql(
    query: str, ref_id: str = "A", *, table: bool = False, hide: bool = False
) -> dict[str, Any]:
    target: dict[str, Any] = {
        "refId": ref_id,
        "datasource": INFLUX,
        "query": query,
        "rawQuery": True,
        "resultFormat": "table" if table else "time_series",
    }
    if hide:
        target["hide"] = True  # an input of an expression, not shown itself
    return target


def expression(expression: str, ref_id: str) -> dict[str, Any]:
    """A server-side expression over the panel's other targets (``$A``…), joined by labels."""
    return {
        "refId": ref_id,
        "datasource": EXPRESSION,
        "type": "math",
        "expression": expression,
    }


def sql(query: str, ref_id: str = "A", *, table: bool = True) -> dict[str, Any]:
    return {
        "refId": ref_id,
        "datasource": POSTGRES,
        "rawSql": query,
        "rawQuery": True,
        "editorMode": "code",
        "format": "table" if table else "time_series",
    }


@dataclass
class Panel:
    """One panel; *width* and *height* in grid units (the grid is 24 wide)."""

    kind: str
    title: str
    targets: list[dict[str, Any]]
    width: int = 12
    height: int = 8
    unit: str | None = None
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    #: Field config of the panel plugin (``fieldConfig.defaults.custom``), e.g. a draw style.
    custom: dict[str, Any] = field(default_factory=dict)

    def render(self, panel_id: int, x: int, y: int) -> dict[str, Any]:
        defaults: dict[str, Any] = {}
        if self.unit is not None:
            defaults["unit"] = self.unit
        if self.custom:
            defaults["custom"] = self.custom
        return {
            "id": panel_id,
            "type": self.kind,
            "title": self.title,
            "description": self.description,
            "datasource": self.targets[0]["datasource"],
            "gridPos": {"x": x, "y": y, "w": self.width, "h": self.height},
            "targets": self.targets,
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": self.options,
        }


def timeseries(title: str, *targets: dict[str, Any], **kwargs: Any) -> Panel:
    return Panel("timeseries", title, list(targets), **kwargs)


def stat(title: str, *targets: dict[str, Any], **kwargs: Any) -> Panel:
    kwargs.setdefault("width", 6)
    kwargs.setdefault("height", 4)
    options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}
    return Panel("stat", title, list(targets), options=options, **kwargs)


def table(title: str, *targets: dict[str, Any], **kwargs: Any) -> Panel:
    return Panel("table", title, list(targets), **kwargs)


def barchart(title: str, *targets: dict[str, Any], **kwargs: Any) -> Panel:
    custom = {"drawStyle": "bars", "fillOpacity": 80, "lineWidth": 1}
    return Panel("timeseries", title, list(targets), custom=custom, **kwargs)


def site_variable(measurement: str = "telemetry") -> dict[str, Any]:
    return {
        "name": "site",
        "label": "Site",
        "type": "query",
        "datasource": INFLUX,
        "query": f'SHOW TAG VALUES FROM "{measurement}" WITH KEY = "site"',
        "refresh": 2,
        "includeAll": True,
        "multi": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
    }


def dashboard(
    uid: str,
    title: str,
    panels: list[Panel],
    *,
    description: str,
    tags: list[str],
    variables: list[dict[str, Any]] | None = None,
    time_from: str = "now-24h",
) -> dict[str, Any]:
    """A dashboard whose panels flow left to right, top to bottom, with ids from 1."""
    rendered = []
    x = y = row_height = 0
    for panel_id, panel in enumerate(panels, start=1):
        if x + panel.width > GRID_WIDTH:
            x, y, row_height = 0, y + row_height, 0
        rendered.append(panel.render(panel_id, x, y))
        x += panel.width
        row_height = max(row_height, panel.height)
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["hinode", *tags],
        "timezone": "Asia/Tokyo",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": time_from, "to": "now"},
        "templating": {"list": variables or []},
        "annotations": {"list": []},
        "panels": rendered,
    }
