"""Writing provisioning output: secrets with mode 0600 from the first byte, the rest 0644."""

import os
from pathlib import Path

SECRET_MODE = 0o600
PUBLIC_MODE = 0o644


def write_secret(path: Path, content: str | bytes) -> None:
    """Write *content* to *path* readable by its owner only (never briefly wider)."""
    _write(path, content, SECRET_MODE)


def write_public(path: Path, content: str | bytes) -> None:
    _write(path, content, PUBLIC_MODE)


def _write(path: Path, content: str | bytes, mode: int) -> None:
    data = content.encode() if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(descriptor, mode)
        os.write(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    partial.replace(path)
