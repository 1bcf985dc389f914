"""The read planner: the fewest block reads that cover the wanted registers. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

Table = Literal["holding", "input"]

#: The Modbus application protocol's limit for one read of holding or input registers.
MAX_READ_REGISTERS = 125


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """Registers ``first..last`` (inclusive) of one table that a value occupies."""

    table: Table
    first: int
    last: int

    @property
    def count(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True, slots=True)
class BlockRead:
    """One read request: *count* registers of *table* from *address*."""

    table: Table
    address: int
    count: int

    @property
    def last(self) -> int:
        return self.address + self.count - 1

    def covers(self, span: Span) -> bool:
        return span.table == self.table and self.address <= span.first and span.last <= self.last


def plan_reads(
    spans: Iterable[Span],
    *,
    max_registers: int = MAX_READ_REGISTERS,
    max_gap: int = 16,
    forbidden: Callable[[Table, int, int], bool] = lambda _table, _first, _last: False,
) -> list[BlockRead]:
    """Coalesce *spans* into block reads of at most *max_registers* registers each.

    A gap of unwanted registers between two spans is read along (bridged) when it is at most
    *max_gap* registers long, because a few more bytes in one response cost less than a further
    round trip; it is never bridged when *forbidden* says any of its addresses must not be read.
    Spans are sorted first, so greedy left-to-right packing yields the fewest blocks for the
    constraints. A span longer than *max_registers* is a caller error (ValueError).
    """
    if not 1 <= max_registers <= MAX_READ_REGISTERS:
        msg = f"max_registers must be 1..{MAX_READ_REGISTERS}, got {max_registers}"
        raise ValueError(msg)
    blocks: list[BlockRead] = []
    current: tuple[Table, int, int] | None = None
    for span in sorted(set(spans)):
        if span.count > max_registers:
            msg = f"a value of {span.count} registers cannot fit a read of {max_registers}"
            raise ValueError(msg)
        if current is not None:
            table, first, last = current
            if span.table == table and span.first <= last + 1:
                # overlapping or adjacent: nothing to bridge
                new_last = max(last, span.last)
                if new_last - first + 1 <= max_registers:
                    current = (table, first, new_last)
                    continue
            elif (
                span.table == table
                and span.first - last - 1 <= max_gap
                and span.last - first + 1 <= max_registers
                and not forbidden(table, last + 1, span.first - 1)
            ):
                current = (table, first, span.last)
                continue
            blocks.append(BlockRead(table, first, last - first + 1))
        current = (span.table, span.first, span.last)
    if current is not None:
        table, first, last = current
        blocks.append(BlockRead(table, first, last - first + 1))
    return blocks
