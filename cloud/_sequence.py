"""Sequence bookkeeping, pure: duplicate detection and gap ranges per (gateway, boot_id)."""

from bisect import bisect_right
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from cloud._model import SeqRange


@dataclass(frozen=True, slots=True)
class Merged:
    """The sequence state of one (gateway, boot_id) after a merge, and what the merge found."""

    first: int
    last: int
    #: Open gaps inside the merge window, sorted.
    gaps: tuple[SeqRange, ...]
    duplicates: int
    filled: int
    #: The sequence numbers found already seen.
    duplicate_seqs: frozenset[int]
    opened: tuple[SeqRange, ...]


def merge_sequences(
    first: int | None, last: int | None, gaps: Iterable[SeqRange], seqs: Iterable[int]
) -> Merged:
    """Merge newly stored *seqs* into the known span [first, last] and its open *gaps*.

    *gaps* need only hold the stored gaps overlapping [min(seqs), max(seqs)]: a sequence number
    interacts with no other. A number above ``last`` opens the gap between; one below ``first``
    (a late message from before the first one seen) opens the gap above it; one inside a gap
    fills it (splitting the range); one inside the span but in no gap is a duplicate.
    """
    open_gaps = sorted((g.first, g.last) for g in gaps)
    opened: list[tuple[int, int]] = []
    duplicates: list[int] = []
    filled = 0
    for seq in sorted(seqs):
        if first is None or last is None:
            first = last = seq
        elif seq > last:
            if seq > last + 1:
                open_gaps.append((last + 1, seq - 1))
                opened.append((last + 1, seq - 1))
            last = seq
        elif seq < first:
            if seq < first - 1:
                open_gaps.insert(0, (seq + 1, first - 1))
                opened.append((seq + 1, first - 1))
            first = seq
        else:
            index = bisect_right(open_gaps, seq, key=_start) - 1
            if index < 0 or open_gaps[index][1] < seq:
                duplicates.append(seq)
                continue
            low, high = open_gaps[index]
            filled += 1
            pieces = [(lo, hi) for lo, hi in ((low, seq - 1), (seq + 1, high)) if lo <= hi]
            open_gaps[index : index + 1] = pieces
    if first is None or last is None:
        msg = "merge_sequences needs at least one sequence number or a known span"
        raise ValueError(msg)
    return Merged(
        first=first,
        last=last,
        gaps=tuple(SeqRange(lo, hi) for lo, hi in open_gaps),
        duplicates=len(duplicates),
        filled=filled,
        duplicate_seqs=frozenset(duplicates),
        opened=tuple(SeqRange(lo, hi) for lo, hi in opened),
    )


def _start(gap: tuple[int, int]) -> int:
    return gap[0]


class RecentKeys:
    """The last *capacity* keys seen, oldest forgotten first: the collector's fast dedupe.

    It catches broker redeliveries and edge replays that arrive while their original is still
    remembered; older duplicates are caught by the idempotent stores and the stored sequences.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        if capacity < 1:
            msg = f"capacity must be positive, got {capacity}"
            raise ValueError(msg)
        self.capacity = capacity
        self._keys: dict[Hashable, None] = {}

    def seen(self, key: Hashable) -> bool:
        """Return whether *key* was seen before, and remember it."""
        if key in self._keys:
            return True
        self._keys[key] = None
        if len(self._keys) > self.capacity:
            del self._keys[next(iter(self._keys))]
        return False

    def __len__(self) -> int:
        return len(self._keys)


def state_supersedes(
    current: tuple[str, int, int] | None, boot_id: str, seq: int, sent_at: int
) -> bool:
    """Whether a state message (boot_id, seq, sent_at) replaces the stored one (latest wins).

    *current* is the stored (boot_id, seq, sent_at). A state message carries the last data seq
    used, so a lower seq is an older boot's retained birth or will arriving late. Within one
    boot the last will is built before the birth of the same connection yet must win over it,
    so equal seqs of one boot go by arrival; across boots the newer ``sent_at`` wins a tie.
    """
    if current is None:
        return True
    current_boot, current_seq, current_sent_at = current
    if seq != current_seq:
        return seq > current_seq
    return boot_id == current_boot or sent_at >= current_sent_at
