"""The append-only settlement ledger as a JSON-lines file."""

import json
import os
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from cloud.energy import JST, LedgerEntry
from messages import ConfigError


class JsonlLedger:
    """The append-only ledger as JSON lines; amounts are decimal strings, so they stay exact."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> list[LedgerEntry]:
        if not self.path.exists():
            return []
        entries = []
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                entries.append(
                    LedgerEntry(
                        slot_start=datetime.fromisoformat(raw["slot_start"]),
                        site=raw["site"],
                        revision=int(raw["revision"]),
                        kind=raw["kind"],
                        given_wh=Decimal(raw["given_wh"]),
                        taken_wh=Decimal(raw["taken_wh"]),
                        amount_yen=Decimal(raw["amount_yen"]),
                        price_yen_per_kwh=Decimal(raw["price_yen_per_kwh"]),
                        recorded_at=datetime.fromisoformat(raw["recorded_at"]),
                    )
                )
            except (ValueError, KeyError, ArithmeticError) as exc:
                msg = f"{self.path}:{number}: not a ledger entry: {exc}"
                raise ConfigError(msg) from None
        return entries

    def append(self, entries: Sequence[LedgerEntry]) -> None:
        if not entries:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as ledger:
            for entry in entries:
                ledger.write(json.dumps(entry_record(entry, exact=True)) + "\n")
            ledger.flush()
            os.fsync(ledger.fileno())


def entry_record(entry: LedgerEntry, *, exact: bool) -> dict[str, Any]:
    def number(value: Decimal) -> str | float:
        return str(value) if exact else float(value)

    return {
        "slot_start": entry.slot_start.astimezone(JST).isoformat(),
        "site": entry.site,
        "revision": entry.revision,
        "kind": entry.kind,
        "given_wh": number(entry.given_wh),
        "taken_wh": number(entry.taken_wh),
        "amount_yen": number(entry.amount_yen),
        "price_yen_per_kwh": number(entry.price_yen_per_kwh),
        "recorded_at": entry.recorded_at.astimezone(JST).isoformat(),
    }
