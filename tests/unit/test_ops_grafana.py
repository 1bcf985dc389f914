"""Dashboards and provisioning files as Grafana loads them: structure, references, no drift."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hinode.ops import all_dashboards, dashboard_provider, datasources, grafana_files
from hinode.ops._grafana import GRID_WIDTH

REPO = Path(__file__).resolve().parents[2]
PANEL_TYPES = {"timeseries", "stat", "table"}
#: Values a care dashboard must never select, and the tag that would name a person.
PERSONAL = ("heart_rate_bpm", "spo2_pct", "systolic_mmhg", "glucose_mg_dl", "body_temp_c")


def _panels() -> list[tuple[str, dict[str, Any]]]:
    return [(name, p) for name, board in all_dashboards().items() for p in board["panels"]]


def test_five_dashboards_with_unique_uids() -> None:
    boards = all_dashboards()
    assert set(boards) == {
        "city-overview.json",
        "energy.json",
        "ev-charging.json",
        "mobility.json",
        "care-operations.json",
    }
    uids = [board["uid"] for board in boards.values()]
    assert len(set(uids)) == len(uids)
    assert all(len(uid) <= 40 for uid in uids)


@pytest.mark.parametrize("name", sorted(all_dashboards()))
def test_panel_ids_unique_and_layout_inside_the_grid(name: str) -> None:
    board = all_dashboards()[name]
    ids = [panel["id"] for panel in board["panels"]]
    assert len(set(ids)) == len(ids)
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0
        assert grid["w"] > 0
        assert grid["x"] + grid["w"] <= GRID_WIDTH
        assert grid["h"] > 0


def test_every_panel_has_a_provisioned_datasource_and_a_query() -> None:
    provisioned = {source["uid"]: source["type"] for source in datasources()["datasources"]}
    for name, panel in _panels():
        where = f"{name}: {panel['title']}"
        assert panel["type"] in PANEL_TYPES, where
        assert panel["targets"], where
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(set(ref_ids)) == len(ref_ids), where
        for target in panel["targets"]:
            source = target["datasource"]
            if source["uid"] == "__expr__":
                # A server-side expression: every $REF it uses is a target of the panel.
                used = set(re.findall(r"\$(\w+)", target["expression"]))
                assert used, where
                assert used <= set(ref_ids) - {target["refId"]}, where
                continue
            assert provisioned.get(source["uid"]) == source["type"], where
            query = target.get("query") or target.get("rawSql")
            assert query, where
            assert query.lstrip().upper().startswith(("SELECT", "SHOW")), where


def test_influxql_panels_filter_by_time_and_site() -> None:
    for name, panel in _panels():
        for target in panel["targets"]:
            if "query" in target:
                assert "$timeFilter" in target["query"], f"{name}: {panel['title']}"
                assert "$site" in target["query"], f"{name}: {panel['title']}"


def test_care_dashboard_selects_no_personal_values() -> None:
    board = all_dashboards()["care-operations.json"]
    text = json.dumps(board)
    for quantity in PERSONAL:
        assert quantity not in text
    for panel in board["panels"]:
        for target in panel["targets"]:
            query = target.get("query") or target["rawSql"]
            assert "subject" not in query
            assert '"device"' not in query
            assert "e.device" not in query


def test_datasources_provisioning_is_complete() -> None:
    document = datasources()
    assert document["apiVersion"] == 1
    by_type = {source["type"]: source for source in document["datasources"]}
    influx = by_type["influxdb"]
    assert influx["jsonData"]["version"] == "InfluxQL"
    assert influx["jsonData"]["dbName"]
    assert "Token $" in influx["secureJsonData"]["httpHeaderValue1"]
    postgres = by_type["grafana-postgresql-datasource"]
    assert postgres["jsonData"]["database"]
    assert postgres["secureJsonData"]["password"].startswith("$")
    for source in document["datasources"]:
        assert {"name", "uid", "type", "url", "access"} <= set(source)
    assert sum(1 for source in document["datasources"] if source.get("isDefault")) == 1


def test_dashboard_provider_points_where_compose_mounts_the_dashboards() -> None:
    [provider] = dashboard_provider()["providers"]
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert any(m.endswith(":" + provider["options"]["path"] + ":ro") for m in mounts), mounts


def test_committed_files_are_what_the_code_generates() -> None:
    for relative, text in grafana_files().items():
        committed = REPO / "ops" / "grafana" / relative
        assert committed.read_text(encoding="utf-8") == text, (
            f"{committed} is stale: run `hinode ops dashboards --out ops/grafana`"
        )


def test_ops_dashboards_command_writes_the_files(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from hinode.commands import ops

    root = typer.Typer()
    root.add_typer(ops.app, name="ops")  # as hinode/cli.py mounts it
    result = CliRunner().invoke(root, ["ops", "dashboards", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dashboards" / "energy.json").exists()
    board = json.loads((tmp_path / "dashboards" / "energy.json").read_text())
    assert board["uid"] == "hinode-energy"
    assert (tmp_path / "provisioning" / "datasources" / "hinode.yaml").exists()


def _lost_in_round_trip(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Where *ours* has a key or value that Grafana's types did not keep."""
    if isinstance(ours, dict):
        lost = []
        for key, value in ours.items():
            if key not in theirs:
                lost.append(f"{path}.{key}")
            else:
                lost += _lost_in_round_trip(value, theirs[key], f"{path}.{key}")
        return lost
    if isinstance(ours, list):
        if len(ours) != len(theirs):
            return [f"{path}: {len(ours)} items became {len(theirs)}"]
        return [
            lost
            for index, (mine, kept) in enumerate(zip(ours, theirs, strict=True))
            for lost in _lost_in_round_trip(mine, kept, f"{path}[{index}]")
        ]
    return [] if ours == theirs else [f"{path}: {ours!r} became {theirs!r}"]


@pytest.mark.parametrize("name", sorted(all_dashboards()))
def test_grafanas_own_types_keep_every_field(name: str) -> None:
    """Parse with grafana-foundation-sdk's models and write back: a misplaced or misspelt field
    (one Grafana would ignore) is dropped on the way and shows up here."""
    from grafana_foundation_sdk.cog.plugins import register_default_plugins
    from grafana_foundation_sdk.models.dashboard import Dashboard

    register_default_plugins()
    board = all_dashboards()[name]
    model = Dashboard.from_json(board)
    written = json.loads(json.dumps(model, default=lambda value: value.to_json()))
    assert _lost_in_round_trip(board, written) == []
