"""The collector's configuration file: defaults, and errors that name file and setting."""

from pathlib import Path

import pytest

from cloud import load_config, open_timeseries, state_url, timeseries_url
from messages import ConfigError


def test_defaults_and_relative_paths(tmp_path: Path) -> None:
    path = tmp_path / "collector.yaml"
    path.write_text("client_id: collector-1\ndata_dir: data\n")
    config = load_config(path)
    assert config.data_dir == tmp_path / "data"
    assert (config.shared_group, config.protocol, config.batch_max) == ("hinode", "auto", 1000)
    assert config.tls is None


def test_tls_files_are_relative_to_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "collector.yaml"
    path.write_text(
        "client_id: collector-1\n"
        "tls: {ca: pki/ca.crt, cert: /etc/hinode/collector.crt, key: collector.key}\n"
    )
    tls = load_config(path).tls
    assert tls is not None
    assert (tls.ca, tls.cert, tls.key) == (
        tmp_path / "pki" / "ca.crt",
        Path("/etc/hinode/collector.crt"),
        tmp_path / "collector.key",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("client_id: c1\nbatch_age_s: 0\n", "batch_age_s: Input should be greater than 0"),
        ("client_id: c1\nprotocol: v4\n", "protocol: Input should be 'auto', 'v5' or 'v311'"),
        ("batch_max: 10\n", "client_id: Field required"),
        ("client_id: c1\nstorage: x\n", "storage: Extra inputs are not permitted"),
        ("client_id: c1\ntls: {cert: c.crt}\n", "tls: Value error, cert and key must be given"),
        ("client_id: c1\ntls: {ca_file: ca.crt}\n", "tls.ca_file: Extra inputs are not permitted"),
        ("- a list\n", "expected a mapping of settings"),
        ("client_id: [unclosed\n", "not valid YAML"),
    ],
)
def test_errors_name_the_file_and_the_setting(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "collector.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:")
    assert expected in str(caught.value)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_store_urls_pick_the_adapter_and_hide_the_token(tmp_path: Path) -> None:
    assert timeseries_url(tmp_path) == f"sqlite:///{tmp_path / 'timeseries.sqlite'}"
    assert state_url(tmp_path) == f"sqlite:///{tmp_path / 'state.sqlite'}"
    store = open_timeseries("influx://db.example:8086?org=city&bucket=hinode/autogen&token=s3cret")
    assert "s3cret" not in store.url
    store.close()
    with pytest.raises(ConfigError, match="expected sqlite"):
        open_timeseries("mysql://x/y")
    with pytest.raises(ConfigError, match="bucket"):
        open_timeseries("influx://db.example:8086?org=city")
    with pytest.raises(ConfigError, match="unknown parameters"):
        open_timeseries("influx://db.example:8086?bucket=b&database=x")
