"""Stored readings as text lines: JSON lines or CSV with a header."""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Literal

from cloud._model import EXPORT_FIELDS, StoredReading

ExportFormat = Literal["csv", "jsonl"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "jsonl")


def parse_instant(text: str) -> int:
    """An ISO 8601 date or date-time as epoch milliseconds; a time without offset is UTC.

    Raises ValueError with a message naming the text.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        msg = f"{text!r} is not an ISO 8601 date or date-time (e.g. 2026-11-23T09:00:00+09:00)"
        raise ValueError(msg) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def export_lines(readings: Iterable[StoredReading], fmt: ExportFormat) -> Iterator[str]:
    """One line per reading (and a header line first for CSV), without line ends."""
    if fmt == "jsonl":
        for reading in readings:
            yield json.dumps(dict(zip(EXPORT_FIELDS, reading, strict=False)))
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="")
    writer.writerow(EXPORT_FIELDS)
    yield buffer.getvalue()
    for reading in readings:
        buffer.seek(0)
        buffer.truncate()
        row = list(reading[: len(EXPORT_FIELDS)])
        writer.writerow(["" if value is None else value for value in row])
        yield buffer.getvalue()
