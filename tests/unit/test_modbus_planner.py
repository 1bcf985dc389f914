"""The read planner: coverage, block limits, forbidden ranges, fewer requests than values."""

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.modbus import MAX_READ_REGISTERS, BlockRead, Span, load_profile, plan_reads
from edge.modbus._device import spans_of

Case = tuple[list[Span], int, int, list[tuple[int, int]]]


@st.composite
def requests(draw: st.DrawFn) -> Case:
    max_registers = draw(st.integers(min_value=4, max_value=MAX_READ_REGISTERS))
    max_gap = draw(st.integers(min_value=0, max_value=40))
    forbidden = draw(
        st.lists(
            st.tuples(st.integers(0, 2000), st.integers(0, 30)).map(lambda t: (t[0], t[0] + t[1])),
            max_size=4,
        )
    )
    spans: list[Span] = []
    for _ in range(draw(st.integers(min_value=1, max_value=60))):
        table = draw(st.sampled_from(["holding", "input"]))
        first = draw(st.integers(min_value=0, max_value=2100))
        size = draw(st.sampled_from([1, 2, 4]))
        last = first + size - 1
        if any(first <= end and last >= start for start, end in forbidden):
            continue  # a profile never asks for a forbidden register (validation rejects it)
        spans.append(Span(table, first, last))
    return spans, max_registers, max_gap, forbidden


def _is_forbidden(ranges: list[tuple[int, int]]) -> Callable[[str, int, int], bool]:
    def check(_table: str, first: int, last: int) -> bool:
        return any(first <= end and last >= start for start, end in ranges)

    return check


@settings(max_examples=300, deadline=None)
@given(requests())
def test_planned_reads_cover_everything_within_the_limits_and_forbidden_ranges(case: Case) -> None:
    spans, max_registers, max_gap, forbidden = case
    blocks = plan_reads(
        spans, max_registers=max_registers, max_gap=max_gap, forbidden=_is_forbidden(forbidden)
    )
    for span in spans:  # every requested register is covered by one block
        assert any(block.covers(span) for block in blocks), span
    for block in blocks:  # no block is too long or touches a forbidden address
        assert 1 <= block.count <= max_registers <= MAX_READ_REGISTERS
        for start, end in forbidden:
            assert block.last < start or block.address > end, (block, start, end)
    # never more requests than values, let alone registers
    assert len(blocks) <= len(set(spans)) <= sum(span.count for span in set(spans))


def test_a_contiguous_meter_map_takes_far_fewer_requests_than_values() -> None:
    # 40 float32 values back to back, as on an Eastron meter
    spans = [Span("input", 2 * i, 2 * i + 1) for i in range(40)]
    blocks = plan_reads(spans)
    assert blocks == [BlockRead("input", 0, 80)]


def test_small_gaps_are_bridged_and_large_ones_are_not() -> None:
    spans = [Span("holding", 0, 1), Span("holding", 10, 11), Span("holding", 100, 101)]
    assert plan_reads(spans, max_gap=16) == [
        BlockRead("holding", 0, 12),
        BlockRead("holding", 100, 2),
    ]


def test_a_forbidden_gap_is_never_bridged() -> None:
    spans = [Span("holding", 0, 1), Span("holding", 10, 11)]

    def forbidden(_table: str, first: int, last: int) -> bool:
        return first <= 5 <= last

    assert plan_reads(spans, max_gap=16, forbidden=forbidden) == [
        BlockRead("holding", 0, 2),
        BlockRead("holding", 10, 2),
    ]


def test_tables_are_never_mixed_in_one_block() -> None:
    spans = [Span("holding", 0, 1), Span("input", 2, 3)]
    assert plan_reads(spans) == [BlockRead("holding", 0, 2), BlockRead("input", 2, 2)]


def test_a_device_maximum_of_one_value_per_request_is_respected() -> None:
    spans = [Span("holding", 1000 + 2 * i, 1001 + 2 * i) for i in range(5)]
    blocks = plan_reads(spans, max_registers=2, max_gap=0)
    assert [block.count for block in blocks] == [2] * 5


@pytest.mark.parametrize("name", ["sdm630", "sdm120", "em24", "abb_terra_ac", "phoenix_charx"])
def test_shipped_profiles_take_far_fewer_requests_than_values(name: str) -> None:
    profile = load_profile(name)
    registers = profile.measured()
    blocks = plan_reads(
        spans_of(registers),
        max_registers=profile.max_registers_per_request,
        max_gap=profile.max_gap,
        forbidden=profile.is_forbidden,
    )
    assert len(blocks) * 2 <= len(registers)
    assert all(block.count <= profile.max_registers_per_request for block in blocks)
