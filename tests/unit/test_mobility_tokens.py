"""The mobility APIs' token store: token files by line, tokens by digest, refusals logged rarely."""

import logging
from pathlib import Path

import pytest

from cloud.mobility import (
    DenialLog,
    Denied,
    TokenFileError,
    TokenStore,
    bearer_token,
    new_bearer_token,
    token_file_line,
)

CITY = new_bearer_token()
CALL_CENTRE = new_bearer_token()


def store() -> TokenStore:
    text = (
        "# agencies allowed to read MDS\n"
        f"{token_file_line('city-transport', CITY)}\n"
        "\n"
        f"{token_file_line('call-centre', CALL_CENTRE)}\n"
    )
    return TokenStore.parse(text, "tokens.txt")


def test_a_token_finds_its_holder_and_an_unknown_one_finds_nobody() -> None:
    tokens = store()
    assert tokens.caller(CITY) == "city-transport"
    assert tokens.caller(CALL_CENTRE) == "call-centre"
    assert tokens.caller(new_bearer_token()) is None
    assert tokens.caller(CITY[:-1]) is None
    assert tokens.callers == {"city-transport", "call-centre"}


def test_a_fresh_token_carries_256_random_bits() -> None:
    assert len(CITY) == 43  # 32 bytes, URL-safe base64 without padding
    assert CITY != CALL_CENTRE


def test_the_file_line_holds_the_digest_never_the_token() -> None:
    line = token_file_line("city-transport", CITY)
    name, hash_name, digest = line.split(":")
    assert (name, hash_name, len(digest)) == ("city-transport", "sha256", 64)
    assert CITY not in line


def test_a_name_may_hold_two_tokens_while_one_is_rotated() -> None:
    newer = new_bearer_token()
    text = f"{token_file_line('city', CITY)}\n{token_file_line('city', newer)}\n"
    tokens = TokenStore.parse(text, "tokens.txt")
    assert tokens.caller(CITY) == tokens.caller(newer) == "city"


def test_an_uppercase_digest_is_the_same_digest() -> None:
    name, hash_name, digest = token_file_line("city", CITY).split(":")
    assert TokenStore.parse(f"{name}:{hash_name}:{digest.upper()}", "t").caller(CITY) == "city"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (f"city:{CITY}", "tokens.txt:2: expected NAME:sha256:HEX (a plain token does not belong"),
        ("city", "tokens.txt:2: expected NAME:sha256:HEX"),
        ("city:sha256:ab:cd", "tokens.txt:2: expected NAME:sha256:HEX"),
        (f"city:md5:{'a' * 64}", "tokens.txt:2: unknown hash 'md5' (expected sha256)"),
        ("city:sha256:abc", "tokens.txt:2: the digest is not 64 hex digits"),
        (f"city:sha256:{'g' * 64}", "tokens.txt:2: the digest is not 64 hex digits"),
        (f"city hall:sha256:{'a' * 64}", "tokens.txt:2: 'city hall' is not a caller name"),
        (f":sha256:{'a' * 64}", "tokens.txt:2: '' is not a caller name"),
        (token_file_line("other", CITY), "tokens.txt:2: the same token as line 1"),
    ],
)
def test_a_malformed_line_is_named_by_file_and_number(line: str, problem: str) -> None:
    text = f"{token_file_line('city', CITY)}\n{line}\n"
    with pytest.raises(TokenFileError) as caught:
        TokenStore.parse(text, "tokens.txt")
    assert str(caught.value).startswith(problem)
    assert CITY not in str(caught.value)


def test_a_file_without_tokens_is_refused() -> None:
    with pytest.raises(TokenFileError, match=r"^tokens.txt: no token in the file"):
        TokenStore.parse("# nobody yet\n\n", "tokens.txt")


def test_load_names_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "tokens.txt"
    with pytest.raises(TokenFileError, match=rf"^{missing}: cannot read the token file"):
        TokenStore.load(missing)


def test_load_reads_a_written_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens.txt"
    path.write_text(token_file_line("city", CITY) + "\n", encoding="utf-8")
    assert TokenStore.load(path).caller(CITY) == "city"


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (f"Bearer {CITY}", CITY),
        (f"bearer  {CITY} ", CITY),
        ("Bearer", None),
        ("Bearer ", None),
        (f"Basic {CITY}", None),
        (CITY, None),
        (None, None),
    ],
)
def test_bearer_token_of_an_authorization_header(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_check_tells_a_missing_token_from_an_unknown_one() -> None:
    tokens = store()
    assert tokens.check(CITY) == "city-transport"
    missing = tokens.check(None)
    unknown = tokens.check(new_bearer_token())
    assert isinstance(missing, Denied)
    assert isinstance(unknown, Denied)
    assert (missing.status, missing.challenge) == (401, "Bearer")
    assert (unknown.status, unknown.challenge) == (401, 'Bearer error="invalid_token"')
    assert tokens.check("not a token\n") == unknown


def test_refusals_are_warned_of_once_per_reason_and_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    denials = DenialLog(logging.getLogger("test.denials"), "MDS", clock=lambda: now[0])
    unknown = store().check("guessed")
    missing = store().check(None)
    assert isinstance(unknown, Denied)
    assert isinstance(missing, Denied)
    with caplog.at_level(logging.WARNING, logger="test.denials"):
        for _ in range(5):
            denials.record(unknown, "192.0.2.7")
            now[0] += 1
        denials.record(missing, "192.0.2.8")
        now[0] = 61.0
        denials.record(unknown, "192.0.2.7")
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "MDS: refused a request from 192.0.2.7: unknown bearer token",
        "MDS: refused a request from 192.0.2.8: no bearer token",
        "MDS: refused a request from 192.0.2.7: unknown bearer token"
        " (4 more for this reason since the last warning)",
    ]
