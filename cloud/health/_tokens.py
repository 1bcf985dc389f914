"""Bearer tokens of actors: shown once when made, stored only as a SHA-256 digest."""

import hashlib
import secrets

PREFIX = "hct_"


def new_token() -> str:
    """A fresh bearer token: 256 random bits, so a plain SHA-256 of it cannot be guessed back."""
    return PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
