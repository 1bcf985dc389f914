"""``hinode cloud export``, ``status`` and ``run`` as a user calls them."""

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cloud import StoredReading, open_state, open_timeseries
from cloud._model import DeadLetter, StateUpdate
from hinode.commands.cloud import app
from tests.support.cloud_messages import BASE_TS
from tests.support.influxdb import InfluxDB

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    timeseries = open_timeseries(tmp_path)
    timeseries.write(
        [
            StoredReading(
                "site-1", "gw-1", "meter-1", "active_power_w", None, BASE_TS + 2000, 2.0, 2
            ),
            StoredReading("site-1", "gw-1", "meter-1", "voltage_v", "l1", BASE_TS + 1000, 230.5, 1),
            StoredReading("site-1", "gw-1", "meter-2", "active_power_w", None, BASE_TS, 7.5, 0),
        ]
    )
    timeseries.close()
    state_store = open_state(tmp_path)
    state_store.record(
        StateUpdate(
            recorded_at=BASE_TS,
            gateways_seen={("site-1", "gw-1"): BASE_TS},
            sequences={("site-1", "gw-1", "b00710ad"): [0, 1, 2, 5]},
            dead_letters=[DeadLetter(BASE_TS, "hinode/v1/x/y/telemetry/z", b"{", 1, "bad json")],
        )
    )
    state_store.close()
    return tmp_path


def test_export_prints_jsonl_in_time_order_with_exactly_the_reading_fields(data_dir: Path) -> None:
    result = runner.invoke(app, ["export", "--data-dir", str(data_dir), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["ts"] for row in rows] == [BASE_TS, BASE_TS + 1000, BASE_TS + 2000]
    assert rows[1] == {
        "site": "site-1",
        "gateway": "gw-1",
        "device": "meter-1",
        "quantity": "voltage_v",
        "phase": "l1",
        "ts": BASE_TS + 1000,
        "value": 230.5,
        "seq": 1,
    }


def test_export_csv_has_a_header_and_filters_apply(data_dir: Path) -> None:
    since = "2026-11-18T20:06:41+09:00"  # BASE_TS + 1 s, in Japan time
    filters = ["--device", "meter-1", "--quantity", "active_power_w", "--since", since]
    result = runner.invoke(
        app, ["export", "--data-dir", str(data_dir), "--format", "csv", *filters]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["device"], r["ts"], r["phase"]) for r in rows] == [
        ("meter-1", str(BASE_TS + 2000), "")
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "error: unknown --format 'xml'"),
        (["--since", "yesterday"], "error: bad date: 'yesterday'"),
        (["--until", "2026-13-01"], "error: bad date: '2026-13-01'"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(
    data_dir: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["export", "--data-dir", str(data_dir), *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1


def test_status_json_reports_gateways_gaps_and_dead_letters(data_dir: Path) -> None:
    result = runner.invoke(app, ["status", "--data-dir", str(data_dir), "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["gateways"][0]["gateway"] == "gw-1"
    assert [(g["first"], g["last"]) for g in status["gaps"]] == [(3, 4)]
    assert status["dead_letters"]["count"] == 1
    table = runner.invoke(app, ["status", "--data-dir", str(data_dir)])
    assert table.exit_code == 0
    assert "gw-1" in table.stdout
    assert "Dead letters: 1" in table.stdout


def test_run_with_a_bad_config_names_the_file_and_the_setting(tmp_path: Path) -> None:
    config = tmp_path / "collector.yaml"
    config.write_text("client_id: c1\nbatch_max: lots\n")
    result = runner.invoke(app, ["run", str(config)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {config}: batch_max: ")
    config.write_text("client_id: c1\nbroker_url: mqtt://x\n")
    result = runner.invoke(app, ["run", str(config)])
    assert result.exit_code == 2
    assert "broker_url: Extra inputs are not permitted" in result.stderr


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"ca": "missing-ca.crt"}, "tls.ca {dir}/missing-ca.crt: cannot read: No such file"),
        (
            {"cert": "collector.crt", "key": "collector.key"},
            "tls.cert {dir}/collector.crt with tls.key {dir}/collector.key: cannot load them",
        ),
    ],
)
def test_run_names_a_tls_file_it_cannot_use_in_one_line_and_exits_2(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    (tmp_path / "collector.crt").write_text("not a certificate\n")
    (tmp_path / "collector.key").write_text("not a key\n")
    config = tmp_path / "collector.yaml"
    tls = ", ".join(f"{name}: {value}" for name, value in files.items())
    config.write_text(f"client_id: c1\nbroker: mqtts://127.0.0.1:8883\ntls: {{{tls}}}\n")
    result = runner.invoke(app, ["run", str(config)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {config}: {message.format(dir=tmp_path)}")
    assert result.stderr.count("\n") == 1


@pytest.mark.integration
def test_export_reads_an_influxdb_store_the_same_way(tmp_path: Path, influxdb: InfluxDB) -> None:
    timeseries = open_timeseries(influxdb.url)
    timeseries.write(
        [
            StoredReading("site-1", "gw-1", "meter-1", "active_power_w", None, BASE_TS + 1, 2.0, 2),
            StoredReading("site-1", "gw-1", "meter-1", "voltage_v", "l2", BASE_TS, 230.5, 1),
        ]
    )
    timeseries.close()
    result = runner.invoke(
        app, ["export", "--data-dir", str(tmp_path), "--store", influxdb.url, "--format", "jsonl"]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["quantity"], r["phase"], r["ts"], r["seq"]) for r in rows] == [
        ("voltage_v", "l2", BASE_TS, 1),
        ("active_power_w", None, BASE_TS + 1, 2),
    ]
