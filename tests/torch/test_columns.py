"""Copying byte ranges of a packed buffer into batch columns: every path gives the plain slices."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dings.torch.columns import copy_rows, gather


def ranges(draw, size: int, count: int, width_max: int, same_width: bool):
    starts, stops = [], []
    width = draw(st.integers(0, width_max))
    for _ in range(count):
        length = width if same_width else draw(st.integers(0, width_max))
        length = min(length, size)
        start = draw(st.integers(0, size - length))
        starts.append(start)
        stops.append(start + length)
    return np.array(starts, dtype=np.int64), np.array(stops, dtype=np.int64)


@st.composite
def buffers_and_ranges(draw, same_width: bool):
    # widths around the limit between one gather and a copy per row, rows up to the buffer's end
    size = draw(st.integers(1, 6000))
    source = np.frombuffer(draw(st.binary(min_size=size, max_size=size)), dtype=np.uint8)
    count = draw(st.integers(1, 40))
    starts, stops = ranges(draw, size, count, draw(st.sampled_from([8, 100, 2048, 2100])), same_width)
    return source, starts, stops


@settings(max_examples=200, deadline=None)
@given(buffers_and_ranges(same_width=False))
def test_gather_concatenates_the_ranges_in_order(case):
    source, starts, stops = case
    data, offsets = gather(source, starts, stops)
    expected = [source[a:b].tobytes() for a, b in zip(starts, stops)]
    assert data.tobytes() == b"".join(expected)
    assert [data[offsets[i] : offsets[i + 1]].tobytes() for i in range(len(expected))] == expected


@settings(max_examples=200, deadline=None)
@given(buffers_and_ranges(same_width=True))
def test_copy_rows_puts_each_range_in_its_row(case):
    source, starts, stops = case
    width = int(stops[0] - starts[0])
    out = np.full((len(starts), width), 7, dtype=np.uint8)
    copy_rows(source, starts, width, out)
    assert [row.tobytes() for row in out] == [source[a:b].tobytes() for a, b in zip(starts, stops)]


def test_evenly_spaced_and_overlapping_rows_are_copied_exactly():
    source = np.arange(200, dtype=np.uint8)
    out = np.empty((5, 30), dtype=np.uint8)
    copy_rows(source, np.array([0, 10, 20, 30, 40]), 30, out)  # rows overlap their neighbours
    assert (out == np.stack([source[s : s + 30] for s in range(0, 50, 10)])).all()
