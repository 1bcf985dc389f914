"""``hinode mobility token`` and ``serve --token-file`` on a real file system."""

import logging
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cloud.mobility import TokenStore
from hinode.commands.mobility import app


def make_token(*arguments: str) -> tuple[str, str]:
    result = CliRunner().invoke(app, ["token", *arguments])
    assert result.exit_code == 0, result.output
    return result.stdout.strip(), result.stderr


def test_token_prints_it_once_and_writes_only_its_digest_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "mds-tokens.txt"
    token, said = make_token("city-transport", "--out", str(path))
    assert len(token) == 43
    assert token not in said
    text = path.read_text(encoding="utf-8")
    assert token not in text
    assert text.startswith("city-transport:sha256:")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert TokenStore.load(path).caller(token) == "city-transport"


def test_tokens_are_appended_and_each_works(tmp_path: Path) -> None:
    path = tmp_path / "booking-tokens.txt"
    path.write_text("# who may book rides\ncall-centre:sha256:" + "a" * 64, encoding="utf-8")
    first, _ = make_token("call-centre", "--out", str(path))
    second, _ = make_token("rider-app", "--out", str(path))
    assert first != second
    tokens = TokenStore.load(path)
    assert (tokens.caller(first), tokens.caller(second)) == ("call-centre", "rider-app")
    assert len(path.read_text(encoding="utf-8").splitlines()) == 4


def test_token_without_out_prints_the_line_to_add_on_stderr() -> None:
    token, said = make_token("city-transport")
    line = said.strip().removeprefix("token file line: ")
    assert TokenStore.parse(line, "stderr").caller(token) == "city-transport"


def test_token_refuses_a_name_that_cannot_be_a_line(tmp_path: Path) -> None:
    path = tmp_path / "tokens.txt"
    result = CliRunner().invoke(app, ["token", "city:transport", "--out", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: NAME: 'city:transport' is not a caller name")
    assert not path.exists()


def test_token_names_a_file_it_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "no-such-dir" / "tokens.txt"
    result = CliRunner().invoke(app, ["token", "city", "--out", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: --out: cannot write {path}")
    assert result.stdout == ""  # no token handed out that no file knows


def test_serve_with_a_bad_token_file_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "mds-tokens.txt"
    path.write_text("city-transport:plain-token-by-mistake\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["serve", "--token-file", str(path), "--duration-s", "0"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: --token-file: {path}:1: expected NAME:sha256:HEX")
    assert "plain-token-by-mistake" not in result.stderr


def test_serve_with_a_missing_token_file_exits_2_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "missing.txt"
    result = CliRunner().invoke(app, ["serve", "--token-file", str(path), "--duration-s", "0"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: --token-file: {path}: cannot read the token file")


def test_serve_warns_of_an_open_mds_only_without_a_token_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "mds-tokens.txt"
    make_token("city-transport", "--out", str(path))
    serve = ["serve", "--port", "0", "--duration-s", "0.1", "--at", "2026-11-24T07:00:00+09:00"]
    with caplog.at_level(logging.WARNING, logger="cloud.mobility._feed_server"):
        assert CliRunner().invoke(app, [*serve, "--token-file", str(path)]).exit_code == 0
        assert "open to anyone" not in caplog.text
        assert CliRunner().invoke(app, serve).exit_code == 0
        assert "/mds/ are open to anyone: no token file" in caplog.text
