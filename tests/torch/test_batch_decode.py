"""BatchDecoder: the vectorized template path gives exactly what msgpack decoding + collate gives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dings.format import packb, unpackb
from dings.torch import BatchDecoder, BatchError, BufferPool, Column, collate_columns

DTYPES = [
    "bool",
    "int8",
    "uint8",
    "int16",
    "uint16",
    ">i2",
    "int32",
    "uint32",
    "int64",
    "uint64",
    "float16",
    "float32",
    ">f4",
    "float64",
    "complex64",
    "complex128",
]

ints = st.integers(min_value=-(2**63), max_value=2**64 - 1)
text = st.text(max_size=40)
binary = st.binary(max_size=300)


def pack_all(samples):
    raw = [packb(s) for s in samples]
    sizes = np.array([len(r) for r in raw], dtype=np.int64)
    stops = np.cumsum(sizes)
    return b"".join(raw), stops - sizes, stops


def plain(samples, keys=None):
    """The reference: each sample through msgpack, then collate."""
    return collate_columns([unpackb(packb(s)) for s in samples], keys)


def same(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if isinstance(a, Column):
        return isinstance(b, Column) and a.text == b.text and a.tolist() == b.tolist()
    return a == b


def check(samples, keys=None, expect_fast=True):
    buffer, starts, stops = pack_all(samples)
    decoder = BatchDecoder(keys, BufferPool())
    got = decoder.decode(buffer, starts, stops)
    assert same(got, plain(samples, keys)), (got, plain(samples, keys))
    assert (decoder.fast, decoder.slow) == ((1, 0) if expect_fast else (0, 1))
    return got


@st.composite
def layouts(draw):
    """A layout (field -> strategy of values of one kind) and samples following it."""
    kinds = {
        "int": st.integers(min_value=-(2**63), max_value=2**63 - 1),
        "float": st.floats(allow_nan=True),
        "bool": st.booleans(),
        "str": text,
        "bytes": binary,
        "none": st.none(),
    }
    names = draw(
        st.lists(
            st.text(min_size=1, max_size=6).filter(lambda s: s not in ("key", "nd", "complex")),
            min_size=1,
            max_size=5,
            unique=True,
        )
    )
    fields = {}
    for name in names:
        choice = draw(st.sampled_from([*kinds, "array", "scalar", "nested"]))
        if choice == "array":
            dtype = draw(st.sampled_from(DTYPES))
            shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
            fields[name] = st.builds(
                lambda seed, d=dtype, s=shape: np.random.default_rng(seed).integers(0, 100, s).astype(d),
                st.integers(0, 2**32),
            )
        elif choice == "scalar":
            dtype = draw(st.sampled_from(DTYPES))
            fields[name] = st.builds(lambda v, d=dtype: np.array(v).astype(d)[()], st.integers(0, 100))
        elif choice == "nested":
            fields[name] = st.builds(lambda a, b: {"a": a, "b": b}, st.integers(-(2**63), 2**63 - 1), text)
        else:
            fields[name] = kinds[choice]
    count = draw(st.integers(1, 12))
    samples = [{"key": f"k{i}", **{k: draw(v) for k, v in fields.items()}} for i in range(count)]
    return samples


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(layouts())
def test_template_path_equals_plain_decoding(samples):
    check(samples)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts(), st.data())
def test_selected_keys(samples, data):
    keys = data.draw(st.lists(st.sampled_from(sorted(samples[0])), min_size=1, unique=True))
    got = check(samples, keys)
    assert list(got) == keys


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(ints, st.floats(allow_nan=False), text, binary, st.lists(st.integers(0, 1000), max_size=3)),
        min_size=2,
        max_size=8,
    )
)
def test_changing_kinds_take_the_fallback_and_agree_or_fail_alike(values):
    samples = [{"key": f"k{i}", "v": v} for i, v in enumerate(values)]
    buffer, starts, stops = pack_all(samples)
    try:
        expected = plain(samples)
    except BatchError as exc:
        with pytest.raises(BatchError) as caught:
            BatchDecoder().decode(buffer, starts, stops)
        assert str(caught.value) == str(exc)
        return
    assert same(BatchDecoder().decode(buffer, starts, stops), expected)


def test_every_int_encoding_in_one_batch():
    values = [
        0,
        1,
        127,
        128,
        255,
        256,
        65535,
        65536,
        2**32 - 1,
        2**32,
        2**63 - 1,
        -1,
        -32,
        -33,
        -128,
        -129,
        -32768,
        -32769,
        -(2**31),
        -(2**31) - 1,
        -(2**63),
    ]
    got = check([{"key": str(i), "v": v} for i, v in enumerate(values)])
    assert got["v"].tolist() == values and got["v"].dtype == np.int64


def test_ints_beyond_int64_fall_back_to_a_list():
    got = check([{"key": "a", "v": 2**64 - 1}, {"key": "b", "v": 1}], expect_fast=False)
    assert got["v"] == [2**64 - 1, 1]


def test_fixed_arrays_stack_and_are_copied_from_strided_and_scattered_positions():
    rng = np.random.default_rng(0)
    arrays = [rng.random((5, 7, 3), dtype=np.float32) for _ in range(9)]
    samples = [{"key": f"k{i}", "x": a, "label": i} for i, a in enumerate(arrays)]
    got = check(samples)
    assert got["x"].shape == (9, 5, 7, 3) and np.array_equal(got["x"], np.stack(arrays))
    buffer, starts, stops = pack_all(samples)
    order = np.array([3, 0, 8, 8, 1])  # any order, with repeats
    picked = BatchDecoder().decode(buffer, starts[order], stops[order])
    assert np.array_equal(picked["x"], np.stack([arrays[i] for i in order]))
    assert picked["label"].tolist() == order.tolist()


def test_a_changing_shape_names_the_sample_and_field():
    samples = [{"key": "a", "x": np.zeros(3)}, {"key": "b", "x": np.zeros(4)}]
    buffer, starts, stops = pack_all(samples)
    with pytest.raises(BatchError, match=r"field 'x' of sample 'b' .*shape \(4,\)"):
        BatchDecoder().decode(buffer, starts, stops)


def test_a_missing_selected_field_names_the_sample_and_field():
    samples = [{"key": "a", "x": 1, "y": 2}, {"key": "b", "x": 1}]
    buffer, starts, stops = pack_all(samples)
    with pytest.raises(BatchError, match=r"sample 'b' has no field 'y'"):
        BatchDecoder(("x", "y")).decode(buffer, starts, stops)


def test_template_is_relearned_when_the_layout_changes():
    decoder = BatchDecoder()
    for samples in ([{"key": "a", "x": 1}], [{"key": "b", "y": "t", "x": 2.5}]):
        buffer, starts, stops = pack_all(samples)
        assert same(decoder.decode(buffer, starts, stops), plain(samples))
    assert (decoder.fast, decoder.slow) == (2, 0)


def test_object_arrays_are_refused_on_the_fallback_path():
    from dings.format import packb as pack

    raw = pack({"key": "a", "x": np.array([1, None], dtype=object)}, allow_unsafe=True)
    with pytest.raises(ValueError):
        BatchDecoder().decode(raw, np.array([0]), np.array([len(raw)]))


def test_truncated_and_garbage_samples_fail_cleanly():
    raw = packb({"key": "a", "data": b"x" * 50})
    for broken in (raw[:-5], b"\xc1" * 10):
        with pytest.raises(ValueError):
            BatchDecoder().decode(broken, np.array([0]), np.array([len(broken)]))


def test_buffers_are_reused_only_when_nothing_refers_to_them():
    pool = BufferPool()
    first = pool.empty((4, 3), np.float32)
    first[...] = 1
    view = first[1:]
    del first
    second = pool.empty((4, 3), np.float32)
    second[...] = 2
    assert (view == 1).all()  # the view kept the first buffer
    del view
    third = pool.empty((4, 3), np.float32)
    third[...] = 3
    assert (second == 2).all()
