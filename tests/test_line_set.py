"""What a resume knows of every line is a bitmap, answering exactly as a set would."""

from __future__ import annotations

import sys

from hypothesis import given
from hypothesis import strategies as st

from syngen_improve.outputs import _BITMAP_LINES, _LineSet

lines = st.one_of(
    st.integers(0, 5000), st.integers(-5, -1), st.sampled_from([_BITMAP_LINES, 2**40])
)


@given(added=st.lists(lines, max_size=200), asked=st.lists(lines, max_size=200))
def test_a_line_set_answers_as_a_set(added: list[int], asked: list[int]) -> None:
    bits = _LineSet(added)
    for line in [*added, *asked]:
        assert (line in bits) == (line in set(added)), line
    assert "3" not in bits
    assert None not in bits


def test_a_million_lines_take_a_bit_each() -> None:
    bits = _LineSet(range(1, 1_000_001))
    assert 1_000_000 in bits
    assert 0 not in bits
    assert 1_000_001 not in bits
    assert sys.getsizeof(bits._bits) < 300_000  # a set of a million ints: about 60 MB
