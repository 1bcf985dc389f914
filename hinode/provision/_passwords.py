"""Generated passwords and Mosquitto's password-file hash (``$7$``: PBKDF2-SHA512)."""

import base64
import hashlib
import hmac
import secrets

#: What ``mosquitto_passwd`` 2.x writes: 101 iterations, a 12-byte salt, a 64-byte key.
ITERATIONS = 101
SALT_BYTES = 12
PASSWORD_BYTES = 24


def generate_password() -> str:
    """A random password of 192 bits, URL-safe so that it fits in a broker URL unquoted."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def mosquitto_hash(
    password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS
) -> str:
    """The ``$7$iterations$salt$hash`` line part that ``mosquitto_passwd`` would write."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    derived = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(derived).decode()}"


def verify(password: str, encoded: str) -> bool:
    """Whether *password* matches a ``$7$`` (or ``$6$`` salted SHA-512) password-file hash."""
    parts = encoded.split("$")
    if len(parts) == 5 and parts[1] == "7":
        iterations, salt, expected = int(parts[2]), base64.b64decode(parts[3]), parts[4]
        derived = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    elif len(parts) == 4 and parts[1] == "6":
        salt, expected = base64.b64decode(parts[2]), parts[3]
        derived = hashlib.sha512(password.encode() + salt).digest()
    else:
        return False
    return hmac.compare_digest(base64.b64encode(derived).decode(), expected)


def password_file(entries: list[tuple[str, str]]) -> str:
    """A Mosquitto password file from (username, hash) pairs."""
    return "".join(f"{username}:{encoded}\n" for username, encoded in entries)
