"""Adapters of the shuttle service's ports: the service log (JSON lines) and the state file."""

import contextlib
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cloud.mobility import LoopState, StateDocumentError, decode_state, encode_state

#: The service's state, in its data directory.
STATE_FILE = "mobility-state.json"


class JsonlServiceLog:
    """The service's decisions and the riders' stops, one JSON line each, flushed as written."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")

    def record(self, entry: dict[str, Any]) -> None:
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class StateFile:
    """The shuttle service's state in one JSON file, replaced whole on every save: written to a
    temporary file beside it, flushed and synced, then renamed over it, so that a crash leaves
    the old state or the new one, never half of one."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> LoopState | None:
        """The saved state; None if there is none. Raises ``OSError`` or
        :class:`StateDocumentError`."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError as exc:
            raise StateDocumentError("", f"not UTF-8 text: {exc.reason}") from None
        return decode_state(text)

    def save(self, state: LoopState) -> None:
        text = encode_state(state)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(
            prefix=f".{self.path.stem}.", suffix=".tmp", dir=self.path.parent
        )
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            Path(temporary).replace(self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
            raise
        # The rename itself survives a power cut only once the directory is synced.
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def move_aside(self, at: datetime) -> Path | None:
        """Rename the file to ``NAME.YYYYmmddTHHMMSSZ.json`` beside it; None if there is none."""
        if not self.path.exists():
            return None
        stamp = f"{at.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        aside = self.path.with_name(f"{self.path.stem}.{stamp}{self.path.suffix}")
        number = 1
        while aside.exists():
            number += 1
            aside = self.path.with_name(f"{self.path.stem}.{stamp}-{number}{self.path.suffix}")
        self.path.rename(aside)
        return aside
