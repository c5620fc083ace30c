"""Shared corpus, writers and comparison helpers of the datadings 3.4 compatibility suite.

Every corpus entry is written once per test session with dings' ``FileWriter`` and with the
oracle ``datadings.writer.FileWriter`` into two folders under the *same* base file name, so even the
``.md5`` files (which name the files) can be compared byte for byte.

The oracle is used as a black box through its public API only.
"""

from __future__ import annotations

import math
import random
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

#: the six files of a dataset, as suffixes of ``NAME.msgpack`` (FORMAT.md, "Files of one dataset")
SIX_FILES = ("", ".offsets", ".keys", ".key_hashes", ".filter", ".md5")

#: corpora with more keys than this are looked up through a fixed random sample of keys
MAX_KEYS_TO_LOOK_UP = 200


# --------------------------------------------------------------------------------------------
# corpus
# --------------------------------------------------------------------------------------------


@dataclass
class Corpus:
    """One named list of samples, plus the keys that key look-up tests check."""

    name: str
    samples: list[dict]
    keys: list[str] = field(init=False)
    #: (index, key) pairs that the look-up tests check: all keys, or a fixed sample of big corpora
    lookups: list[tuple[int, str]] = field(init=False)

    def __post_init__(self) -> None:
        self.keys = [s["key"] for s in self.samples]
        assert len(set(self.keys)) == len(self.keys), f"corpus {self.name}: keys must be unique"
        pairs = list(enumerate(self.keys))
        if len(pairs) > MAX_KEYS_TO_LOOK_UP:
            chosen = random.Random(self.name).sample(pairs[1:-1], MAX_KEYS_TO_LOOK_UP - 2)
            pairs = [pairs[0]] + sorted(chosen) + [pairs[-1]]
        self.lookups = pairs

    def __len__(self) -> int:
        return len(self.samples)


def _empty() -> list[dict]:
    return []


def _one_sample() -> list[dict]:
    return [{"key": "the-only-sample", "label": 7, "text": "hello"}]


def _small_dicts() -> list[dict]:
    samples = []
    for i in range(1000):
        samples.append(
            {
                "key": f"small-{i:04d}",
                "int": i * (-1) ** i,
                "float": i / 7,
                "str": "abc" * (i % 13),
                "bool": i % 2 == 0,
                "none": None,
                "bytes": bytes(range(i % 40)),
                "list": list(range(i % 6)) + ["x", 1.5, None, True],
                "nested": {"level1": {"level2": [i, {"level3": str(i)}], "empty_map": {}, "empty_list": []}},
                # integer and float edge cases of msgpack's encodings
                "ints": [0, 127, 128, -32, -33, 255, 256, 2**16, 2**32 - 1, 2**32, -(2**31) - 1, 2**64 - 1, -(2**63)],
                "floats": [0.0, -0.0, math.inf, -math.inf, math.nan, 1e-310, 1.7976931348623157e308],
                "long_str": "ü" * (i % 3 * 40),  # crosses the fixstr/str8 boundary in bytes
            }
        )
    samples[10]["bytearray"] = bytearray(b"\x00\xffbytearray")
    samples[11]["memoryview"] = memoryview(b"memoryview\x00")
    samples[12]["tuple"] = (1, "two", (3.0,))  # packed as an array, read back as lists
    samples[13] = {"label": 13, "payload": [1, 2], "key": samples[13]["key"]}  # "key" need not come first
    return samples


def _large_samples() -> list[dict]:
    rng = np.random.default_rng(300)
    return [{"key": f"large-{i:02d}", "blob": rng.bytes(300_000), "index": i} for i in range(20)]


_NUMPY_DTYPES = (
    "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
)  # fmt: skip


def _values(rng: np.random.Generator, dtype: np.dtype, count: int) -> np.ndarray:
    if dtype.kind == "b":
        return rng.integers(0, 2, count).astype(bool)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = rng.integers(info.min, info.max, count, dtype=dtype.newbyteorder("="), endpoint=True)
        values[:2] = info.min, info.max
        return values
    real = rng.standard_normal(count) * 1000
    real[:3] = np.inf, -np.inf, np.nan
    if dtype.kind == "c":
        return real + 1j * rng.standard_normal(count)
    return real


def _numpy_samples() -> list[dict]:
    rng = np.random.default_rng(42)
    samples = []
    for name in _NUMPY_DTYPES:
        native = np.dtype(name)
        orders = [("any", "=")] if native.itemsize == 1 else [("little", "<"), ("big", ">")]
        for order_name, order in orders:
            dtype = native.newbyteorder(order)
            cube = _values(rng, native, 2 * 5 * 6).reshape(2, 5, 6).astype(dtype)
            vector = cube.reshape(-1)
            samples.append(
                {
                    "key": f"{name}-{order_name}-endian",
                    "vector": vector,
                    "cube_3d": cube,
                    "zero_dim": np.array(vector[3], dtype=dtype),
                    "empty_1d": np.empty((0,), dtype=dtype),
                    "empty_2d": np.empty((4, 0), dtype=dtype),
                    "strided_slice": cube[:, ::2, 1::3],
                    "transposed": cube.T,
                    "reversed": vector[::-1],
                    "fortran_order": np.asfortranarray(cube[0]),
                }
            )
    samples.append(
        {
            "key": "numpy-scalars",
            "bool_": np.bool_(True),
            "int8": np.int8(-128),
            "uint8": np.uint8(255),
            "int16": np.int16(-300),
            "uint16": np.uint16(65535),
            "int32": np.int32(-(2**31)),
            "uint32": np.uint32(2**32 - 1),
            "int64": np.int64(-(2**63)),
            "uint64": np.uint64(2**64 - 1),
            "float16": np.float16(1.5),
            "float32": np.float32(-2.25),
            "float64": np.float64(3.125),  # a float subclass: msgpack packs it as a plain float
            "complex64": np.complex64(1 - 2j),
            "complex128": np.complex128(complex(1e300, -0.0)),
            "in_list": [np.float32(np.nan), np.int16(7)],
        }
    )
    samples.append(
        {
            "key": "python-complex",
            "z": 1 + 2j,
            "zeros": [0j, complex(-0.0, 0.0)],
            "extremes": [complex(1e-300, 1e300), complex(math.inf, -math.inf), complex(math.nan, 1)],
        }
    )
    samples.append(
        {
            "key": "other-array-kinds",
            "structured": np.array(
                [(1, 2.5, b"ab"), (-3, np.nan, b"")], dtype=[("a", "<i4"), ("b", ">f8"), ("c", "S2")]
            ),
            "unicode": np.array(["ab", "ü日", ""]),
            "bytes": np.array([b"abc", b"", b"\x00z"]),
            "big_array": np.arange(1_000_000, dtype=">u4").reshape(1000, 1000),  # 4 MB: larger than write chunks
        }
    )
    return samples


_UNICODE_KEYS = [
    "日本語のキー",
    "中文键",
    "한국어",
    "🦆",
    "🎉🎉 party 🎉🎉",
    "👩‍👩‍👧‍👦 family (ZWJ sequence)",
    "café naïve résumé",
    "e\u0301 (decomposed é)",
    "é (composed é)",
    "Ωμέγα",
    "ключ",
    "مفتاح",
    "with spaces",
    " leading space",
    "trailing space ",
    "tab\tand\nnewline",
    "nul\x00inside",
    "",
    "a" * 500,
    "é" * 500,
    "🙂" * 500,
    "k" * 70_000,  # more than 65535 bytes: str32 inside the keys array
]


def _unicode_keys() -> list[dict]:
    return [{"key": key, "index": i, "echo": key[:50]} for i, key in enumerate(_UNICODE_KEYS)]


_NUMERIC_LOOKING_KEYS = [
    "0", "1", "-1", "+1", "00", "01", "1.0", "1.", ".5", "1e3", "1E-3", "0x1F", "0b101", "0o17", "1_000",
    "inf", "-inf", "nan", "NaN", "Infinity", "True", "False", "None", "null", " 1", "1 ",
    "١٢٣", "²", "½", "18446744073709551615", "18446744073709551616", "-9223372036854775809",
]  # fmt: skip


def _numeric_looking_keys() -> list[dict]:
    keys = _NUMERIC_LOOKING_KEYS + [str(i) for i in range(2, 300)]
    return [{"key": key, "position": i} for i, key in enumerate(keys)]


def _many_short_samples() -> list[dict]:
    return [{"key": f"s{i}", "i": i} for i in range(70_000)]


def _maps_with_non_str_keys() -> list[dict]:
    return [
        {"key": "int-keys", "map": {1: "one", -5: "minus five", 2**40: "big", 0: None}},
        {"key": "nested-int-keys", "map": {0: {1: {2: [3, {4: 5}]}}}},
        {"key": "mixed-str-and-int", "map": {1: "int one", "1": "str one", 2.5: "float key", None: "none key"}},
        {"key": "bool-keys", "map": {True: "yes", False: "no"}},
        {"key": "bytes-keys", "map": {b"raw": 1, b"\x00": 2}},
        {"key": "int-keys-at-top-level", 7: "seven", -1: [1, 2], 3.5: {"x": 1}},
        {"key": "big-int-map", "map": {i: i * i for i in range(66_000)}},  # more than 65535 entries: map32 header
    ]


CORPORA: dict[str, Callable[[], list[dict]]] = {
    "empty": _empty,
    "one-sample": _one_sample,
    "1000-small-dicts": _small_dicts,
    "20-large-300kB-samples": _large_samples,
    "numpy-arrays-and-scalars": _numpy_samples,
    "unicode-keys": _unicode_keys,
    "numeric-looking-keys": _numeric_looking_keys,
    "70000-short-samples": _many_short_samples,
    "maps-with-non-str-keys": _maps_with_non_str_keys,
}


@pytest.fixture(scope="session", params=list(CORPORA), ids=list(CORPORA))
def corpus(request) -> Corpus:
    """Each corpus entry, built once per session."""
    return Corpus(request.param, CORPORA[request.param]())


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------


def write_with_datadings(path: Path, samples: list[dict]) -> Path:
    from datadings.writer import FileWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    with FileWriter(path, overwrite=True, disable=True) as writer:
        for sample in samples:
            writer.write(sample)
    return path


def write_with_dings(path: Path, samples: list[dict]) -> Path:
    from dings.format import FileWriter

    with FileWriter(path, overwrite=True, progress=False) as writer:
        for sample in samples:
            writer.write(sample)
    return path


@dataclass
class Written:
    """The same corpus written by both implementations under the same base file name."""

    corpus: Corpus
    dings: Path
    datadings: Path


@pytest.fixture(scope="session")
def written(corpus: Corpus, tmp_path_factory) -> Written:
    root = tmp_path_factory.mktemp(f"written-{corpus.name}")
    name = f"{corpus.name}.msgpack"
    return Written(
        corpus,
        dings=write_with_dings(root / "dings" / name, corpus.samples),
        datadings=write_with_datadings(root / "datadings" / name, corpus.samples),
    )


def companion(data: Path, suffix: str) -> Path:
    """``NAME.msgpack`` + suffix (``""`` is the data file itself)."""
    return data.with_name(data.name + suffix)


def differing_files(ours: Path, theirs: Path, suffixes=SIX_FILES) -> list[str]:
    """Names of the dataset files whose bytes differ (or that exist on one side only)."""
    different = []
    for suffix in suffixes:
        a, b = companion(ours, suffix), companion(theirs, suffix)
        if not a.exists() or not b.exists() or a.read_bytes() != b.read_bytes():
            different.append(a.name)
    return different


# --------------------------------------------------------------------------------------------
# reading and comparing
# --------------------------------------------------------------------------------------------


def open_datadings_reader(path: Path):
    """The oracle's reader; its warnings about missing optional index files are silenced."""
    from datadings.reader import MsgpackReader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MsgpackReader(path)


def open_dings_reader(path: Path):
    from dings.readers import MsgpackReader

    return MsgpackReader(path)


def _float_bits(value: float) -> bytes:
    return struct.pack(">d", value)


def assert_same(actual: Any, expected: Any, where: str = "sample") -> None:
    """Assert that a decoded value equals ``expected`` exactly, recursively.

    Strict about types (``True`` is not ``1``, ``np.int16`` is not ``int``) and bit patterns (NaN
    equals NaN, ``-0.0`` differs from ``0.0``). numpy arrays must have the same dtype (including
    byte order), shape and C-order bytes. Differences that msgpack itself introduces are accepted
    for the *expected* side only: tuples read back as lists, bytearray/memoryview as bytes, and
    ``np.float64`` (a ``float`` subclass that msgpack packs natively) as ``float``.
    """
    if isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray), f"{where}: expected an ndarray, got {type(actual).__name__}"
        assert actual.dtype.str == expected.dtype.str and actual.dtype == expected.dtype, (
            f"{where}: dtype {actual.dtype!r} ({actual.dtype.str}) != {expected.dtype!r} ({expected.dtype.str})"
        )
        assert actual.shape == expected.shape, f"{where}: shape {actual.shape} != {expected.shape}"
        assert actual.tobytes() == expected.tobytes(), f"{where}: array contents differ"
    elif isinstance(expected, np.generic) and not isinstance(expected, float):
        assert type(actual) is type(expected), f"{where}: type {type(actual).__name__} != {type(expected).__name__}"
        assert actual.dtype.str == expected.dtype.str, f"{where}: dtype {actual.dtype.str} != {expected.dtype.str}"
        assert actual.tobytes() == expected.tobytes(), f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, bool):
        assert actual is expected, f"{where}: {actual!r} is not {expected!r}"
    elif isinstance(expected, int):
        assert type(actual) is int and actual == expected, f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, float):
        assert type(actual) is float, f"{where}: expected float, got {type(actual).__name__}"
        assert _float_bits(actual) == _float_bits(expected), f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, complex):
        assert type(actual) is complex, f"{where}: expected complex, got {type(actual).__name__}"
        assert _float_bits(actual.real) + _float_bits(actual.imag) == _float_bits(expected.real) + _float_bits(
            expected.imag
        ), f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, str):
        assert type(actual) is str and actual == expected, f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, (bytes, bytearray, memoryview)):
        assert type(actual) is bytes, f"{where}: expected bytes, got {type(actual).__name__}"
        assert actual == bytes(expected), f"{where}: bytes differ"
    elif expected is None:
        assert actual is None, f"{where}: {actual!r} is not None"
    elif isinstance(expected, dict):
        assert type(actual) is dict, f"{where}: expected dict, got {type(actual).__name__}"
        actual_keys, expected_keys = list(actual), list(expected)
        assert actual_keys == expected_keys, f"{where}: map keys {actual_keys[:10]!r} != {expected_keys[:10]!r}"
        for a_key, e_key in zip(actual_keys, expected_keys):
            assert type(a_key) is type(e_key), f"{where}: key {a_key!r} has type {type(a_key).__name__}"
            assert_same(actual[a_key], expected[e_key], f"{where}[{e_key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert type(actual) is list, f"{where}: expected list, got {type(actual).__name__}"
        assert len(actual) == len(expected), f"{where}: length {len(actual)} != {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same(a, e, f"{where}[{i}]")
    else:
        raise AssertionError(f"{where}: assert_same does not handle {type(expected).__name__}")


@pytest.fixture(scope="session")
def same() -> Callable[[Any, Any, str], None]:
    """The recursive exact-equality assertion :func:`assert_same`."""
    return assert_same


@pytest.fixture(scope="session")
def helpers():
    """Writing/reading helpers for the test modules (conftest is not importable as a module)."""

    class Helpers:
        companion = staticmethod(companion)
        differing_files = staticmethod(differing_files)
        write_with_datadings = staticmethod(write_with_datadings)
        write_with_dings = staticmethod(write_with_dings)
        open_datadings_reader = staticmethod(open_datadings_reader)
        open_dings_reader = staticmethod(open_dings_reader)

    return Helpers
