"""Readings as InfluxDB line protocol and back, pure.

One measurement per kind (telemetry, vitals, position); tags site, gateway, device and phase
(absent when the reading has none); one field per quantity plus the integer field ``seq``;
timestamps in milliseconds. Readings of one device, phase and instant share a point, so writing
the same reading again rewrites the same field of the same point: writes are idempotent.
"""

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from cloud._model import StoredReading

_SPECIAL = re.compile(r"[,= \\\n\"]")
_TAGS = ("device", "gateway", "phase", "site")


def _escape(text: str) -> str:
    if _SPECIAL.search(text) is None:
        return text
    return (
        text.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace("=", "\\=")
        .replace(" ", "\\ ")
        .replace("\n", "\\n")
    )


def to_lines(readings: Iterable[StoredReading]) -> list[str]:
    """Line protocol for *readings*, one line per (kind, site, gateway, device, phase, ts)."""
    points: dict[tuple[str, str, str, str, str | None, int], list[str]] = {}
    seqs: dict[tuple[str, str, str, str, str | None, int], int] = {}
    for reading in readings:
        key = (
            reading.kind,
            reading.site,
            reading.gateway,
            reading.device,
            reading.phase,
            reading.ts,
        )
        fields = points.get(key)
        if fields is None:
            fields = points[key] = []
        fields.append(f"{_escape(reading.quantity)}={reading.value!r}")
        seqs[key] = max(seqs.get(key, reading.seq), reading.seq)
    lines = []
    for key, fields in points.items():
        kind, site, gateway, device, phase, ts = key
        phase_tag = f",phase={_escape(phase)}" if phase is not None else ""
        lines.append(
            f"{_escape(kind)},device={_escape(device)},gateway={_escape(gateway)}{phase_tag},"
            f"site={_escape(site)} {','.join(fields)},seq={seqs[key]}i {ts}"
        )
    return lines


def from_series(
    kind: str, columns: Sequence[str], values: Iterable[Sequence[Any]], quantity: str | None
) -> Iterator[StoredReading]:
    """Readings of the rows of one InfluxQL result series (``epoch=ms``), fields unpivoted."""
    index = {name: position for position, name in enumerate(columns)}
    time_at, seq_at = index["time"], index.get("seq")
    tag_at = {tag: index.get(tag) for tag in _TAGS}
    field_at = sorted(
        (name, position)
        for name, position in index.items()
        if name not in {"time", "seq", *_TAGS} and (quantity is None or name == quantity)
    )
    for row in values:

        def tag(name: str, row: Sequence[Any] = row) -> Any:
            position = tag_at[name]
            return None if position is None else row[position]

        seq = row[seq_at] if seq_at is not None else None
        for name, position in field_at:
            value = row[position]
            if value is None or isinstance(value, str | bool):
                continue
            yield StoredReading(
                site=tag("site") or "",
                gateway=tag("gateway") or "",
                device=tag("device") or "",
                quantity=name,
                phase=tag("phase") or None,
                ts=int(row[time_at]),
                value=float(value),
                seq=int(seq) if seq is not None else -1,
                kind=kind,
            )
