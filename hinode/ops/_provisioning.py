"""Grafana provisioning: InfluxDB (InfluxQL) and PostgreSQL datasources, the dashboard folder."""

from typing import Any

from hinode.ops._grafana import INFLUX_UID, POSTGRES_UID

#: Where the compose file mounts the generated dashboards inside the Grafana container.
DASHBOARDS_PATH = "/var/lib/grafana/dashboards/hinode"


def datasources() -> dict[str, Any]:
    """Secrets come from the container's environment (Grafana expands ``$VAR`` here)."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Hinode InfluxDB",
                "uid": INFLUX_UID,
                "type": "influxdb",
                "access": "proxy",
                "url": "$HINODE_INFLUX_URL",
                "isDefault": True,
                "editable": False,
                "jsonData": {
                    "version": "InfluxQL",
                    "dbName": "$INFLUXDB_BUCKET",
                    "httpMode": "POST",
                    "httpHeaderName1": "Authorization",
                },
                "secureJsonData": {"httpHeaderValue1": "Token $GRAFANA_INFLUX_TOKEN"},
            },
            {
                "name": "Hinode PostgreSQL",
                "uid": POSTGRES_UID,
                "type": "grafana-postgresql-datasource",
                "access": "proxy",
                "url": "$HINODE_POSTGRES_HOST",
                "user": "$GRAFANA_POSTGRES_USER",
                "editable": False,
                "jsonData": {
                    "database": "$POSTGRES_DB",
                    "sslmode": "disable",
                    "postgresVersion": 1600,
                    "timescaledb": False,
                    "maxOpenConns": 10,
                },
                "secureJsonData": {"password": "$GRAFANA_POSTGRES_PASSWORD"},
            },
        ],
    }


def dashboard_provider() -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "hinode",
                "orgId": 1,
                "folder": "Hinode",
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 60,
                "options": {"path": DASHBOARDS_PATH, "foldersFromFilesStructure": False},
            }
        ],
    }
