"""Batching readings per device, reconnect backoff and seq ranges (pure parts of the agent)."""

import itertools

from hypothesis import given
from hypothesis import strategies as st

from edge.batching import Batcher
from edge.outbox._sqlite import seq_ranges
from edge.uplink import Backoff


def test_batch_is_due_when_full_or_old() -> None:
    batcher = Batcher(max_readings=10, max_age_ms=1000)
    assert not batcher.add("meter-1", 4, through_id=4, now_ms=0)
    assert not batcher.add("meter-1", 4, through_id=8, now_ms=500)
    assert batcher.add("meter-1", 4, through_id=12, now_ms=600)  # 12 readings ≥ 10
    assert batcher.take("meter-1") == 12
    assert batcher.take("meter-1") is None
    batcher.add("meter-2", 1, through_id=13, now_ms=1000)
    assert batcher.due(1999) == []
    assert batcher.next_due_ms() == 2000
    assert batcher.due(2000) == ["meter-2"]


def test_zero_age_seals_every_poll() -> None:
    batcher = Batcher(max_readings=500, max_age_ms=0)
    assert batcher.add("meter-1", 1, through_id=1, now_ms=0)


def test_backoff_grows_with_jitter_and_resets() -> None:
    backoff = Backoff(min_s=1.0, max_s=8.0, random=lambda: 1.0)
    assert [backoff.next_delay() for _ in range(6)] == [1, 2, 4, 8, 8, 8]
    backoff.reset()
    low = Backoff(min_s=1.0, max_s=8.0, random=lambda: 0.0)
    assert [low.next_delay() for _ in range(4)] == [0.5, 1, 2, 4]
    assert backoff.next_delay() == 1


@given(st.sets(st.integers(min_value=0, max_value=500)))
def test_seq_ranges_cover_exactly_the_seqs(seqs: set[int]) -> None:
    ranges = seq_ranges(seqs)
    covered = {seq for first, last in ranges for seq in range(first, last + 1)}
    assert covered == seqs
    for (_, last), (first, _) in itertools.pairwise(ranges):
        assert first > last + 1  # merged: no two ranges touch
