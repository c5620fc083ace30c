"""Specification of packing in dings.format: packb/unpackb, pack/unpack, make_packer/make_unpacker.

The format is msgpack with msgpack-numpy's encoding of numpy values (see FORMAT.md, "Packing rules").
Everything that is packed must come back equal through every write and read path, and decoding must
never run code from a file unless the caller opted in.
"""

from __future__ import annotations

import io
import math
import pathlib
import pickle

import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dings.format import (
    FormatError,
    UnsafeDataError,
    make_packer,
    make_unpacker,
    pack,
    packb,
    unpack,
    unpackb,
)

# --- the three write/read paths; every round trip below runs through each of them ---


def via_packb(obj, **kwargs):
    return unpackb(packb(obj, **kwargs), **kwargs)


def via_stream(obj, **kwargs):
    buffer = io.BytesIO()
    pack(obj, buffer, **kwargs)
    buffer.seek(0)
    return unpack(buffer, **kwargs)


def via_packer(obj, **kwargs):
    unpacker = make_unpacker(**kwargs)
    unpacker.feed(make_packer(**kwargs).pack(obj))
    (value,) = list(unpacker)
    return value


ROUND_TRIPS = [
    pytest.param(via_packb, id="packb-unpackb"),
    pytest.param(via_stream, id="pack-unpack-stream"),
    pytest.param(via_packer, id="packer-unpacker"),
]


@pytest.fixture(params=ROUND_TRIPS)
def round_trip(request):
    return request.param


# --- equality helpers ---


def assert_same_array(actual, expected):
    """Same type, dtype (including byte order), shape and content."""
    assert isinstance(actual, np.ndarray), f"expected an ndarray, got {type(actual).__name__}"
    assert actual.dtype == expected.dtype
    assert actual.dtype.str == expected.dtype.str
    assert actual.shape == expected.shape
    assert np.array_equal(actual, expected)
    assert actual.tobytes() == expected.tobytes()


def assert_deep_equal(actual, expected, where="value"):
    """Recursive, type-strict equality that understands numpy arrays inside nested structures.

    bytes-like values (bytearray, memoryview) are expected back as bytes; lists stay lists and map
    order is kept.
    """
    if isinstance(expected, np.ndarray):
        assert_same_array(actual, expected)
    elif isinstance(expected, dict):
        assert type(actual) is dict, f"{where}: expected dict, got {type(actual).__name__}"
        assert list(actual) == list(expected), f"{where}: keys differ"
        for key, value in expected.items():
            assert_deep_equal(actual[key], value, f"{where}[{key!r}]")
    elif isinstance(expected, list):
        assert type(actual) is list, f"{where}: expected list, got {type(actual).__name__}"
        assert len(actual) == len(expected), f"{where}: lengths differ"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_deep_equal(a, e, f"{where}[{i}]")
    elif isinstance(expected, (bytes, bytearray, memoryview)):
        assert type(actual) is bytes, f"{where}: expected bytes, got {type(actual).__name__}"
        assert actual == bytes(expected), f"{where}: {actual!r} != {bytes(expected)!r}"
    else:
        assert type(actual) is type(expected), f"{where}: {type(actual).__name__} != {type(expected).__name__}"
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


# --- numpy arrays of every standard dtype ---

_ORDERLESS = ["bool", "int8", "uint8", "S5"]
_ORDERED = [
    "int16",
    "int32",
    "int64",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
    "U3",
    "datetime64[ns]",
    "timedelta64[s]",
]
_ORDERED += [name for name in ("longdouble", "clongdouble") if hasattr(np, name)]

# normalised through .str (as unpacking does), so the native order reads "=" and not an explicit "<"
DTYPES = [np.dtype(name) for name in _ORDERLESS] + [
    np.dtype(np.dtype(name).newbyteorder(order).str) for name in _ORDERED for order in "<>"
]


def _dtype_params():
    return [pytest.param(dtype, id=dtype.str) for dtype in DTYPES]


def sample_array(dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """A deterministic array of ``dtype`` and ``shape`` whose elements differ from each other."""
    n = math.prod(shape)
    values = np.arange(1, n + 1)
    if dtype.kind == "b":
        array = values % 3 == 0
    elif dtype.kind == "S":
        array = np.array([f"b{i}".encode() for i in values], dtype="S5")
    elif dtype.kind == "U":
        array = np.array([f"é{chr(0x4E00 + i)}" for i in values], dtype="U3")
    elif dtype.kind in "mM":
        array = (values * 1_000_003).astype(np.int64)
    elif dtype.kind == "i":
        array = values - n // 2
    elif dtype.kind == "f":
        array = values / 4 - 1
    elif dtype.kind == "c":
        array = values / 4 - 1j * values
    else:
        array = values
    return array.astype(dtype).reshape(shape)


SHAPES = [
    pytest.param((), id="0d"),
    pytest.param((0,), id="empty"),
    pytest.param((0, 3), id="empty-2d"),
    pytest.param((5,), id="1d"),
    pytest.param((2, 3, 4), id="3d"),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", _dtype_params())
def test_array_round_trips_with_dtype_byte_order_and_shape(round_trip, dtype, shape):
    array = sample_array(dtype, shape)
    assert_same_array(round_trip(array), array)


@pytest.mark.parametrize("dtype", _dtype_params())
def test_transposed_array_round_trips_in_its_logical_order(round_trip, dtype):
    array = sample_array(dtype, (2, 3, 4)).T
    assert not array.flags.c_contiguous
    assert_same_array(round_trip(array), array)


@pytest.mark.parametrize("dtype", _dtype_params())
def test_strided_slice_round_trips(round_trip, dtype):
    array = sample_array(dtype, (6,))[::2]
    assert not array.flags.c_contiguous
    assert_same_array(round_trip(array), array)


def test_unpacked_array_does_not_alias_the_callers_buffer():
    array = np.arange(4, dtype="<i4")
    packed = bytearray(packb(array))
    result = unpackb(packed)
    packed[:] = b"\0" * len(packed)
    assert_same_array(result, np.arange(4, dtype="<i4"))


# --- numpy scalars and plain Python values ---


@pytest.mark.parametrize(
    "scalar",
    [np.float32(1.5), np.int64(-(2**62)), np.uint64(2**64 - 1), np.bool_(True), np.complex64(1 - 2j), np.float16(0.25)],
    ids=lambda s: type(s).__name__,
)
def test_numpy_scalar_comes_back_with_equal_value_and_same_dtype(round_trip, scalar):
    result = round_trip(scalar)
    assert type(result) is type(scalar)
    assert result.dtype == scalar.dtype
    assert result == scalar


def test_numpy_float64_packs_as_plain_msgpack_float_since_it_subclasses_float():
    # msgpack packs float subclasses natively (as datadings does), so the value comes back as float
    assert packb(np.float64(2.5)) == packb(2.5)
    result = unpackb(packb(np.float64(2.5)))
    assert type(result) is float and result == 2.5


PLAIN_VALUES = {
    "none": None,
    "true": True,
    "false": False,
    "zero": 0,
    "int64-min": -(2**63),
    "uint64-max": 2**64 - 1,
    "float": 1.25,
    "negative-zero": -0.0,
    "infinity": float("inf"),
    "huge-float": 1e308,
    "complex": complex(1, 2),
    "complex-negative": complex(-0.5, -1e-9),
    "complex-infinite": complex(float("inf"), -3),
    "empty-str": "",
    "emoji": "dings 😀🎉",
    "cjk": "数据集の鍵",
    "bytes": b"\x00\xff raw",
    "empty-bytes": b"",
    "nested": {"a": [1, [2, {"b": b"x"}], {"c": None}], "d": {"e": {"f": [complex(0, 1), "g"]}}},
    "empty-containers": {"list": [], "map": {}},
}


@pytest.mark.parametrize("value", PLAIN_VALUES.values(), ids=PLAIN_VALUES.keys())
def test_plain_python_value_round_trips_with_same_type(round_trip, value):
    assert_deep_equal(round_trip(value), value)


@pytest.mark.parametrize("value", [bytearray(b"ab\x00"), memoryview(b"cd\xff")], ids=["bytearray", "memoryview"])
def test_bytes_like_values_come_back_as_bytes(round_trip, value):
    result = round_trip(value)
    assert type(result) is bytes
    assert result == bytes(value)


def test_map_with_int_keys_unpacks():
    value = {1: "one", -2: [b"x"], 2**40: {3: None}}
    assert_deep_equal(unpackb(packb(value)), value)


def test_map_with_int_keys_unpacks_through_make_unpacker():
    value = {1: "one", 2: {3: 4}}
    unpacker = make_unpacker()
    unpacker.feed(packb(value))
    assert_deep_equal(next(unpacker), value)


def test_lists_stay_lists_at_every_level():
    result = unpackb(packb([1, [2, [3, []]], {"k": [4]}]))
    assert type(result) is list
    assert type(result[1]) is list and type(result[1][1]) is list and type(result[1][1][1]) is list
    assert type(result[2]["k"]) is list


def test_pack_writes_exactly_the_bytes_of_packb():
    value = {"key": "a", "array": np.arange(3, dtype=">u2")}
    buffer = io.BytesIO()
    pack(value, buffer)
    assert buffer.getvalue() == packb(value)


def test_packer_writes_exactly_the_bytes_of_packb():
    value = {"key": "a", "array": np.arange(3, dtype=">u2"), "c": 1j}
    assert make_packer().pack(value) == packb(value)


# --- Hypothesis: random nested samples through every path ---

_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_MAP_KEYS = _TEXT.filter(lambda key: key not in ("nd", "complex"))
_NUMERIC_DTYPES = st.one_of(
    hnp.boolean_dtypes(),
    hnp.integer_dtypes(endianness="?"),
    hnp.unsigned_integer_dtypes(endianness="?"),
    hnp.floating_dtypes(endianness="?"),
    hnp.complex_number_dtypes(endianness="?"),
)
_ARRAYS = hnp.arrays(
    dtype=_NUMERIC_DTYPES,
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    elements={"allow_nan": False},
)
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False),
    _TEXT,
    st.binary(max_size=20),
    _ARRAYS,
)
SAMPLES = st.recursive(
    _LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_MAP_KEYS, children, max_size=4),
    max_leaves=12,
)
_HYPOTHESIS = settings(max_examples=100, deadline=None, database=None)


@_HYPOTHESIS
@given(value=SAMPLES)
def test_random_nested_values_round_trip_through_packb_unpackb(value):
    assert_deep_equal(unpackb(packb(value)), value)


@_HYPOTHESIS
@given(value=SAMPLES)
def test_random_nested_values_round_trip_through_pack_unpack_on_a_stream(value):
    assert_deep_equal(via_stream(value), value)


@_HYPOTHESIS
@given(values=st.lists(SAMPLES, min_size=1, max_size=5), chunk=st.integers(min_value=1, max_value=64))
def test_concatenated_messages_stream_through_packer_and_unpacker(values, chunk):
    packer = make_packer()
    stream = b"".join(packer.pack(value) for value in values)
    unpacker = make_unpacker()
    results = []
    for start in range(0, len(stream), chunk):
        unpacker.feed(stream[start : start + chunk])
        results.extend(unpacker)
    assert len(results) == len(values)
    for result, value in zip(results, values):
        assert_deep_equal(result, value)


@_HYPOTHESIS
@given(values=st.lists(SAMPLES, min_size=1, max_size=5))
def test_concatenated_messages_stream_from_a_file_like_unpacker(values):
    stream = io.BytesIO(b"".join(packb(value) for value in values))
    results = list(make_unpacker(stream))
    assert len(results) == len(values)
    for result, value in zip(results, values):
        assert_deep_equal(result, value)


# --- the byte layout pins the format ---


def test_array_is_a_map_with_bin_keys_in_msgpack_numpy_layout():
    raw = msgpack.unpackb(packb(np.arange(3, dtype="<i4")), raw=False)
    assert raw == {
        b"nd": True,
        b"type": "<i4",
        b"kind": b"",
        b"shape": [3],
        b"data": (0).to_bytes(4, "little") + (1).to_bytes(4, "little") + (2).to_bytes(4, "little"),
    }
    assert list(raw) == [b"nd", b"type", b"kind", b"shape", b"data"]


def test_array_data_is_c_order_bytes_even_for_a_fortran_array():
    array = np.asfortranarray(np.arange(6, dtype=">i2").reshape(2, 3))
    raw = msgpack.unpackb(packb(array), raw=False)
    assert raw[b"type"] == ">i2"
    assert raw[b"shape"] == [2, 3]
    assert raw[b"data"] == np.ascontiguousarray(array).tobytes()


def test_numpy_scalar_is_a_map_with_nd_false():
    raw = msgpack.unpackb(packb(np.float32(1.5)), raw=False)
    assert raw == {b"nd": False, b"type": "<f4", b"data": np.float32(1.5).tobytes()}


def test_complex_is_a_map_with_its_repr():
    assert msgpack.unpackb(packb(complex(1, 2)), raw=False) == {b"complex": True, b"data": "(1+2j)"}


def test_str_packs_as_msgpack_str():
    assert packb("a") == b"\xa1a"


def test_bytes_pack_as_msgpack_bin():
    assert packb(b"a") == b"\xc4\x01a"


def test_packing_matches_plain_msgpack_numpy_settings():
    # what datadings 3.4 writes: msgpack.packb(..., default=msgpack_numpy.encode, use_bin_type=True)
    import msgpack_numpy

    value = {"key": "k", "x": np.arange(4, dtype="<f8").reshape(2, 2), "s": np.int16(3), "c": 2j, "b": b"\x01"}
    assert packb(value) == msgpack.packb(value, default=msgpack_numpy.encode, use_bin_type=True)


# --- safety: object arrays need pickle and are refused by default ---


class _TouchOnUnpickle:
    """Unpickling this runs ``Path.touch(marker)``: a harmless stand-in for arbitrary code."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (self.marker,)


def malicious_payload(marker: pathlib.Path) -> bytes:
    """An object-array message, built by hand, whose pickle creates ``marker`` when loaded."""
    return msgpack.packb(
        {
            b"nd": True,
            b"type": "|O",
            b"kind": b"O",
            b"shape": [1],
            b"data": pickle.dumps(_TouchOnUnpickle(marker)),
        },
        use_bin_type=True,
    )


def test_object_array_packed_with_allow_unsafe_is_refused_by_default_unpackb():
    data = packb(np.array([1, "x", None], dtype=object), allow_unsafe=True)
    with pytest.raises(UnsafeDataError, match="pickle") as info:
        unpackb(data)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, FormatError)
    assert "allow_unsafe" in str(info.value)


def test_refused_payload_does_not_execute_code(tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(UnsafeDataError):
        unpackb(malicious_payload(marker))
    assert not marker.exists()


def test_refused_payload_nested_inside_a_sample_does_not_execute_code(tmp_path):
    marker = tmp_path / "pwned"
    inner = msgpack.unpackb(malicious_payload(marker), raw=False)
    data = msgpack.packb({"key": "k", "deep": [{"x": inner}]}, use_bin_type=True)
    with pytest.raises(UnsafeDataError):
        unpackb(data)
    assert not marker.exists()


def test_make_unpacker_refuses_object_array_without_executing_code(tmp_path):
    marker = tmp_path / "pwned"
    unpacker = make_unpacker()
    unpacker.feed(malicious_payload(marker))
    with pytest.raises(UnsafeDataError, match="allow_unsafe"):
        next(unpacker)
    assert not marker.exists()


def test_unpack_from_stream_refuses_object_array_without_executing_code(tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(UnsafeDataError):
        unpack(io.BytesIO(malicious_payload(marker)))
    assert not marker.exists()


def test_hand_built_payload_is_live_when_unsafe_is_allowed(tmp_path):
    # guards the refusal tests above: the payload really would run code if decoded with pickle
    marker = tmp_path / "pwned"
    unpackb(malicious_payload(marker), allow_unsafe=True)
    assert marker.exists()


@pytest.mark.parametrize(
    "kind, dtype_descr",
    [(b"", "|O"), (b"V", [["a", "|O"]])],
    ids=["plain-object-type", "structured-object-field"],
)
def test_array_map_with_object_dtype_under_another_kind_is_refused(kind, dtype_descr):
    # zero bytes only: if decoding is (wrongly) allowed, the object pointers are NULL, not garbage
    data = msgpack.packb(
        {b"nd": True, b"type": dtype_descr, b"kind": kind, b"shape": [1], b"data": bytes(8)},
        use_bin_type=True,
    )
    with pytest.raises(UnsafeDataError):
        unpackb(data)


def test_object_array_round_trips_when_unsafe_is_allowed(round_trip):
    array = np.array([1, "x", None, [2, 3]], dtype=object)
    result = round_trip(array, allow_unsafe=True)
    assert result.dtype == object
    assert result.shape == array.shape
    assert list(result) == list(array)


@pytest.mark.parametrize(
    "array",
    [np.array([1, "x"], dtype=object), np.zeros(2, dtype=[("a", "O"), ("b", "<i4")])],
    ids=["object", "structured-with-object-field"],
)
def test_packb_refuses_object_arrays_by_default(array):
    with pytest.raises(UnsafeDataError, match="allow_unsafe"):
        packb(array)


def test_packer_refuses_object_arrays_by_default():
    with pytest.raises(UnsafeDataError):
        make_packer().pack({"key": "k", "x": np.array([None], dtype=object)})


# --- unsupported types ---


class Widget:
    pass


@pytest.mark.parametrize("allow_unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.parametrize("value", [object(), Widget(), {1, 2}], ids=["object", "Widget", "set"])
def test_packb_of_unsupported_type_raises_type_error_naming_the_type(value, allow_unsafe):
    with pytest.raises(TypeError, match=type(value).__name__):
        packb(value, allow_unsafe=allow_unsafe)


def test_packb_of_unsupported_nested_value_raises_type_error():
    with pytest.raises(TypeError, match="Widget"):
        packb({"key": "k", "deep": [1, {"w": Widget()}]})
