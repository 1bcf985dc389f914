"""Bearer tokens of the mobility APIs' callers (agencies, back ends), kept only as SHA-256 digests.

A token file holds one caller per line, ``NAME:sha256:HEX``: the caller's name and the SHA-256
of its token in hex, as ``hinode mobility token NAME --out FILE`` appends it. Blank lines and
lines starting with ``#`` are skipped. A name may hold several tokens (to rotate one: add the
new line, hand the token over, then delete the old line and restart). The tokens themselves
never reach the server: they are 256 random bits, so their plain SHA-256 cannot be guessed back.
"""

import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from messages import ConfigError

HASH_NAME = "sha256"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
#: What a bearer token may hold (RFC 6750 b64token); anything else cannot be one of ours.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class TokenFileError(ConfigError):
    """A token file that cannot be read or has a malformed line; the message names both."""


def new_bearer_token() -> str:
    """A fresh token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def valid_caller_name(name: str) -> bool:
    """Letters, digits, ``.``, ``_`` and ``-``, at most 64, starting with a letter or digit."""
    return _NAME.fullmatch(name) is not None


def token_file_line(name: str, token: str) -> str:
    """The token file's line for *token* held by *name* (without the newline)."""
    if not valid_caller_name(name):
        msg = f"{name!r} is not a caller name (letters, digits, '.', '_', '-'; at most 64)"
        raise ValueError(msg)
    return f"{name}:{HASH_NAME}:{token_digest(token)}"


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; None for anything else."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


@dataclass(frozen=True, slots=True)
class Denied:
    """Why a request was refused: its HTTP status, the ``WWW-Authenticate`` challenge, a reason.

    MDS 2.0 answers an invalid token with 401 like a missing one (its *Responses* section); so
    does RFC 6750, which tells the two apart only in the challenge's ``error`` parameter.
    """

    status: int
    challenge: str
    reason: str


NO_TOKEN = Denied(401, "Bearer", "no bearer token")
UNKNOWN_TOKEN = Denied(401, 'Bearer error="invalid_token"', "unknown bearer token")


class TokenStore:
    """The callers allowed in, by the SHA-256 digest of their token."""

    def __init__(self, entries: Iterable[tuple[str, str]]) -> None:
        """*entries* are (caller name, hex SHA-256 of its token)."""
        self._entries = tuple((name, bytes.fromhex(digest)) for name, digest in entries)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def callers(self) -> frozenset[str]:
        return frozenset(name for name, _ in self._entries)

    @classmethod
    def parse(cls, text: str, source: str) -> "TokenStore":
        """The store a token file's *text* describes; *source* names the file in errors."""
        entries: list[tuple[str, str]] = []
        lines_of: dict[str, int] = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            where = f"{source}:{number}"
            fields = line.split(":")
            if len(fields) != 3:
                hint = (
                    " (a plain token does not belong here: `hinode mobility token` writes the line)"
                    if len(fields) == 2
                    else ""
                )
                msg = f"{where}: expected NAME:{HASH_NAME}:HEX{hint}"
                raise TokenFileError(msg)
            name, hash_name, digest = fields
            if not valid_caller_name(name):
                msg = (
                    f"{where}: {name!r} is not a caller name "
                    "(letters, digits, '.', '_', '-'; at most 64)"
                )
                raise TokenFileError(msg)
            if hash_name != HASH_NAME:
                msg = f"{where}: unknown hash {hash_name!r} (expected {HASH_NAME})"
                raise TokenFileError(msg)
            if not _HEX_DIGEST.fullmatch(digest):
                msg = f"{where}: the digest is not 64 hex digits"
                raise TokenFileError(msg)
            digest = digest.lower()
            if digest in lines_of:
                msg = f"{where}: the same token as line {lines_of[digest]}"
                raise TokenFileError(msg)
            lines_of[digest] = number
            entries.append((name, digest))
        if not entries:
            msg = f"{source}: no token in the file (`hinode mobility token NAME --out FILE`)"
            raise TokenFileError(msg)
        return cls(entries)

    @classmethod
    def load(cls, path: Path) -> "TokenStore":
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            msg = f"{path}: cannot read the token file: {reason}"
            raise TokenFileError(msg) from exc
        return cls.parse(text, str(path))

    def caller(self, token: str) -> str | None:
        """Who holds *token*, or None."""
        presented = hashlib.sha256(token.encode("utf-8")).digest()
        holder = None
        # Every entry is compared, in constant time each: the answer takes as long either way.
        for name, digest in self._entries:
            if hmac.compare_digest(presented, digest):
                holder = name
        return holder

    def check(self, token: str | None) -> str | Denied:
        """The caller *token* belongs to, or why it is refused (*token*: None when none came)."""
        if token is None:
            return NO_TOKEN
        if not _B64TOKEN.fullmatch(token):
            return UNKNOWN_TOKEN
        holder = self.caller(token)
        return UNKNOWN_TOKEN if holder is None else holder


@dataclass
class _Refusals:
    warned_at: float
    since: int = 0


@dataclass
class DenialLog:
    """Warns of refused requests: a reason's first refusal at once, then one line per interval
    with how many came meanwhile. Never a token: only the reason and the client's address."""

    logger: logging.Logger
    api: str
    interval_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _refusals: dict[str, _Refusals] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, denied: Denied, client: str | None) -> None:
        now = self.clock()
        with self._lock:
            refusals = self._refusals.get(denied.reason)
            if refusals is not None and now - refusals.warned_at < self.interval_s:
                refusals.since += 1
                return
            meanwhile = 0 if refusals is None else refusals.since
            self._refusals[denied.reason] = _Refusals(now)
        self.logger.warning(
            "%s: refused a request from %s: %s%s",
            self.api,
            client or "an unknown address",
            denied.reason,
            f" ({meanwhile} more for this reason since the last warning)" if meanwhile else "",
        )
