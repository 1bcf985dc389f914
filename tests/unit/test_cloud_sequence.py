"""Sequence bookkeeping: duplicates, gap ranges opened and closed, latest-wins state."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud._model import SeqRange
from cloud._sequence import RecentKeys, merge_sequences, state_supersedes


def ranges_of(missing: set[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for seq in sorted(missing):
        if out and out[-1][1] == seq - 1:
            out[-1] = (out[-1][0], seq)
        else:
            out.append((seq, seq))
    return out


def test_a_jump_opens_a_gap_and_a_late_message_fills_it() -> None:
    merged = merge_sequences(None, None, [], [1, 2, 3, 7])
    assert merged.gaps == (SeqRange(4, 6),)
    assert merged.opened == (SeqRange(4, 6),)
    later = merge_sequences(merged.first, merged.last, merged.gaps, [5])
    assert later.gaps == (SeqRange(4, 4), SeqRange(6, 6))
    assert later.filled == 1
    final = merge_sequences(later.first, later.last, later.gaps, [4, 6])
    assert final.gaps == ()
    assert (final.first, final.last) == (1, 7)


def test_a_seen_sequence_number_is_a_duplicate() -> None:
    merged = merge_sequences(1, 10, [SeqRange(5, 5)], [3, 10, 5, 5])
    assert merged.duplicates == 3
    assert merged.filled == 1
    assert merged.gaps == ()


def test_a_message_from_before_the_first_one_seen_opens_the_gap_above_it() -> None:
    merged = merge_sequences(10, 12, [], [4])
    assert (merged.first, merged.last) == (4, 12)
    assert merged.gaps == (SeqRange(5, 9),)


@settings(max_examples=300, deadline=None)
@given(
    total=st.integers(min_value=1, max_value=200),
    data=st.data(),
)
def test_gaps_are_exactly_the_missing_numbers_whatever_the_order(
    total: int, data: st.DataObject
) -> None:
    seqs = list(range(1, total + 1))
    delivered = data.draw(st.lists(st.sampled_from(seqs), min_size=1, max_size=total * 2))
    chunks = data.draw(st.integers(min_value=1, max_value=8))
    first = last = None
    gaps: tuple[SeqRange, ...] = ()
    duplicates = 0
    for index in range(chunks):
        part = delivered[index::chunks]
        if not part:
            continue
        window = [g for g in gaps if g.last >= min(part) and g.first <= max(part)]
        outside = [g for g in gaps if g not in window]
        merged = merge_sequences(first, last, window, part)
        first, last = merged.first, merged.last
        gaps = tuple(sorted([*outside, *merged.gaps], key=lambda g: g.first))
        duplicates += merged.duplicates
    seen = set(delivered)
    assert (first, last) == (min(seen), max(seen))
    missing = set(range(min(seen), max(seen) + 1)) - seen
    assert [(g.first, g.last) for g in gaps] == ranges_of(missing)
    assert duplicates == len(delivered) - len(seen)


def test_recent_keys_forget_the_oldest_beyond_capacity() -> None:
    recent = RecentKeys(capacity=2)
    assert not recent.seen("a")
    assert not recent.seen("b")
    assert recent.seen("a")
    assert not recent.seen("c")
    assert not recent.seen("a")  # "a" was the oldest and is forgotten
    assert len(recent) == 2
    with pytest.raises(ValueError, match="positive"):
        RecentKeys(0)


def test_state_latest_wins_but_an_older_boot_arriving_late_does_not() -> None:
    assert state_supersedes(None, "b1", 5, 100)
    # the will of the same connection is built before its birth yet arrives after it
    assert state_supersedes(("b1", 5, 200), "b1", 5, 100)
    # the birth of a new boot (seq went on) replaces the will of the old one
    assert state_supersedes(("b1", 5, 100), "b2", 9, 300)
    # the old boot's will, delayed, does not replace the new boot's birth
    assert not state_supersedes(("b2", 9, 300), "b1", 5, 100)
    # a new boot that sent nothing yet: same seq, the newer message wins
    assert state_supersedes(("b1", 5, 100), "b2", 5, 300)
    assert not state_supersedes(("b2", 5, 300), "b1", 5, 100)
