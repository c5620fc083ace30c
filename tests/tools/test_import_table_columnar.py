"""import_table's columnar fast path: whole record batches packed at once, byte-identical to row by row.

A table whose columns need no per-row work (bytes, str, int, float, bool; nulls; int or str labels
with a class list) is packed with numpy and Arrow and written with ``RawWriter.write_many``. Every
file it writes, and every error it raises, equals what the row-by-row path gives; any other table
(or shuffling, shards, recompression) takes the row-by-row path, unchanged.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dings.tools import ImportDataError, import_table
from dings.tools.importing import core
from dings.tools.importing import table as table_module

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
feather = pytest.importorskip("pyarrow.feather")

SUFFIXES = ["", ".offsets", ".keys", ".key_hashes", ".filter", ".crc32", ".md5", ".labels.json"]
#: byte lengths at every msgpack str/bin header boundary
EDGE_SIZES = [0, 1, 31, 32, 255, 256, 65535, 65536]
#: ints at every msgpack int boundary
EDGE_INTS = [
    0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1,
    -1, -32, -33, -128, -129, -32768, -32769, -(2**31), -(2**31) - 1, -(2**63),
]  # fmt: skip


def tiny_image(kind: str) -> bytes:
    """A 1x1 image that decodes (imports decode every image); bytes appended after it do no harm."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1, 1), "red").save(out, format=kind)
    return out.getvalue()


JPEG = tiny_image("JPEG")
PNG = tiny_image("PNG")
GIF = tiny_image("GIF")


def files(path: Path) -> dict[str, bytes | None]:
    out = {}
    for suffix in SUFFIXES:
        target = Path(str(path) + suffix)
        out[suffix] = target.read_bytes() if target.exists() else None
    return out


def row_by_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn the fast path off."""
    monkeypatch.setattr(table_module, "table_packer", lambda *args, **kwargs: None)


def fast_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the row-by-row writing fail: an import that succeeds took the fast path."""

    def refuse(*args, **kwargs):
        raise AssertionError("the row-by-row path was taken")

    monkeypatch.setattr(core, "_write", refuse)


def slow_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the fast path was taken")

    monkeypatch.setattr(core, "_write_packed", refuse)


def both_ways(tmp_path: Path, table_file: Path, expect_fast: bool = True, **options) -> dict[str, bytes | None]:
    """Import ``table_file`` with the fast path and without; assert equal files; return them."""
    with pytest.MonkeyPatch.context() as patch:
        (fast_only if expect_fast else slow_only)(patch)
        import_table(table_file, tmp_path / "fast" / "d.msgpack", progress=False, **options)
    with pytest.MonkeyPatch.context() as patch:
        row_by_row(patch)
        import_table(table_file, tmp_path / "slow" / "d.msgpack", progress=False, **options)
    fast, slow = files(tmp_path / "fast" / "d.msgpack"), files(tmp_path / "slow" / "d.msgpack")
    assert fast == slow
    return fast


def errors_both_ways(tmp_path: Path, table_file: Path, **options) -> str:
    """Import a bad table both ways; assert the same error; return its message."""
    with pytest.raises(ImportDataError) as fast:
        import_table(table_file, tmp_path / "fast" / "d.msgpack", progress=False, **options)
    with pytest.MonkeyPatch.context() as patch:
        row_by_row(patch)
        with pytest.raises(ImportDataError) as slow:
            import_table(table_file, tmp_path / "slow" / "d.msgpack", progress=False, **options)
    assert str(fast.value) == str(slow.value)
    assert "\n" not in str(fast.value)
    assert not (tmp_path / "fast" / "d.msgpack").exists()
    return str(fast.value)


def text_of(size: int, char: str) -> str:
    """A str of exactly ``size`` UTF-8 bytes made mostly of ``char``."""
    width = len(char.encode())
    return char * (size // width) + "x" * (size % width)


def every_type(rows: int) -> dict[str, pa.Array]:
    """Columns of every supported type, each row a different edge value; some nulls."""

    def pick(values: list, i: int):
        return values[i % len(values)]

    return {
        "image": pa.array([pick([JPEG, PNG, GIF], i) + bytes(pick(EDGE_SIZES, i)) for i in range(rows)], pa.binary()),
        "blob": pa.array([bytes(pick(EDGE_SIZES, i + 3)) for i in range(rows)], pa.large_binary()),
        "text": pa.array([text_of(pick(EDGE_SIZES, i), pick(["a", "é", "鍵", "🙂"], i)) for i in range(rows)]),
        "big_text": pa.array([text_of(pick(EDGE_SIZES, i + 1), "ж") for i in range(rows)], pa.large_string()),
        "n": pa.array([pick(EDGE_INTS, i) for i in range(rows)], pa.int64()),
        "u64": pa.array([pick([0, 127, 128, 2**32, 2**63, 2**64 - 1], i) for i in range(rows)], pa.uint64()),
        "i8": pa.array([pick([-128, -33, -32, 0, 127], i) for i in range(rows)], pa.int8()),
        "u16": pa.array([pick([0, 255, 256, 65535], i) for i in range(rows)], pa.uint16()),
        "f64": pa.array([pick([0.0, -0.0, 1.5, float("inf"), float("nan"), 1e300], i) for i in range(rows)]),
        "f32": pa.array([pick([0.1, -2.5, float("-inf"), 3.4e38], i) for i in range(rows)], pa.float32()),
        "flag": pa.array([pick([True, False], i) for i in range(rows)]),
        "maybe": pa.array([None if i % 3 == 0 else i for i in range(rows)], pa.int32()),
        "maybe_text": pa.array([None if i % 4 == 1 else f"t{i}" for i in range(rows)]),
        "maybe_bytes": pa.array([None if i % 5 == 2 else b"b" * i for i in range(rows)]),
        "maybe_flag": pa.array([None if i % 2 else True for i in range(rows)]),
        "maybe_float": pa.array([None if i % 3 == 2 else i / 3 for i in range(rows)]),
    }


@pytest.mark.parametrize("labels", ["names", "ints", "ints with names", "uints with names", "none"])
def test_every_supported_type_and_edge_size_packs_as_row_by_row(tmp_path, labels):
    rows = 44  # every edge value meets every other column's values
    columns = {"key": pa.array([f"ключ-{i}-🔑" for i in range(rows)]), **every_type(rows)}
    options: dict = {}
    if labels == "names":
        columns["label"] = pa.array([None if i == 5 else ["cat", "dog", "émeu"][i % 3] for i in range(rows)])
    elif labels == "ints":
        columns["label"] = pa.array([None if i == 7 else i * 1000 - 20_000 for i in range(rows)], pa.int64())
    elif labels == "ints with names":
        columns["label"] = pa.array([-1 if i == 3 else i % 4 for i in range(rows)], pa.int16())
        options["labels"] = ["a", "b", "c", "d"]
    elif labels == "uints with names":
        columns["label"] = pa.array([None if i == 2 else i % 4 for i in range(rows)], pa.uint64())
        options["labels"] = ["a", "b", "c", "d"]
    pq.write_table(pa.table(columns), tmp_path / "t.parquet")
    written = both_ways(tmp_path, tmp_path / "t.parquet", **options)
    assert written[".labels.json"] is not None or labels in ("ints", "none")


def test_keys_are_row_numbers_or_int_keys_and_batches_are_joined(tmp_path):
    """2,500 rows: three record batches; keys 0000…2499, then an int key column; an Arrow file too."""
    rows = 2500
    table = pa.table({"jpg": pa.array([JPEG] * rows), "label": pa.array([i % 10 for i in range(rows)])})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=700)
    both_ways(tmp_path / "numbers", tmp_path / "t.parquet")
    feather.write_feather(table.append_column("id", pa.array(range(-5, rows - 5))), tmp_path / "t.arrow", chunksize=999)
    both_ways(tmp_path / "ints", tmp_path / "t.arrow", key_column="id")


def test_more_rows_than_the_table_said_get_wider_row_numbers(tmp_path, monkeypatch):
    pq.write_table(pa.table({"image": pa.array([JPEG] * 12)}), tmp_path / "t.parquet")
    real = table_module._open
    monkeypatch.setattr(table_module, "_open", lambda path, size: (lambda o: (o[0], 9, o[2]))(real(path, size)))
    both_ways(tmp_path, tmp_path / "t.parquet")


@settings(max_examples=15, deadline=None)
@given(
    ints=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=30),
    texts=st.lists(st.text(max_size=40), min_size=1, max_size=30),
    blobs=st.lists(st.binary(max_size=300), min_size=1, max_size=30),
    floats=st.lists(st.floats(allow_nan=False) | st.none(), min_size=1, max_size=30),
)
def test_random_columns_pack_as_row_by_row(tmp_path_factory, ints, texts, blobs, floats):
    rows = min(len(ints), len(texts), len(blobs), len(floats))
    folder = tmp_path_factory.mktemp("random")
    table = pa.table(
        {
            "n": ints[:rows],
            "text": texts[:rows],
            "blob": pa.array(blobs[:rows], pa.binary()),
            "f": pa.array(floats[:rows], pa.float64()),
        }
    )
    pq.write_table(table, folder / "t.parquet")
    both_ways(folder, folder / "t.parquet")


def test_unchecked_images_of_any_content_pack_as_row_by_row(tmp_path):
    images = [bytes(size) for size in EDGE_SIZES]
    pq.write_table(pa.table({"image": pa.array(images, pa.binary())}), tmp_path / "t.parquet")
    both_ways(tmp_path, tmp_path / "t.parquet", check_images=False)


def test_an_existing_dataset_is_replaced_only_with_overwrite(tmp_path):
    pq.write_table(pa.table({"image": [JPEG]}), tmp_path / "t.parquet")
    import_table(tmp_path / "t.parquet", tmp_path / "d.msgpack", progress=False)
    with pytest.raises(FileExistsError):
        import_table(tmp_path / "t.parquet", tmp_path / "d.msgpack", progress=False)
    import_table(tmp_path / "t.parquet", tmp_path / "d.msgpack", progress=False, overwrite=True)


def fallback_tables(tmp_path: Path) -> dict[str, tuple[Path, dict]]:
    """Tables (and options) that take the row-by-row path."""
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "a.jpg").write_bytes(JPEG)
    jpeg = pa.array([JPEG, JPEG])
    cases = {
        "image paths": ({"image": pa.array(["a.jpg", "a.jpg"])}, {"root": tmp_path / "img"}),
        "Image structs": (
            {
                "image": pa.array(
                    [{"bytes": JPEG, "path": None}] * 2, pa.struct([("bytes", pa.binary()), ("path", pa.string())])
                )
            },
            {},
        ),
        "list column": ({"image": jpeg, "vec": pa.array([[1.0, 2.0], [3.0, 4.0]])}, {}),
        "dictionary column": ({"image": jpeg, "tag": pa.array(["x", "y"]).dictionary_encode()}, {}),
        "fixed-size binary column": ({"image": jpeg, "id": pa.array([b"ab", b"cd"], pa.binary(2))}, {}),
        "digit-text labels": ({"image": jpeg, "label": pa.array(["3", "12"])}, {}),
        "a reserved field": ({"image": jpeg, "nd": pa.array([1, 2])}, {}),
        "two image fields": ({"img": jpeg, "image": jpeg}, {"image_column": "img"}),
        "a label field that is no label column": ({"image": jpeg, "label": [1, 2]}, {"label_column": None}),
        "shards": ({"image": jpeg, "n": [1, 2]}, {"shard_size": 1}),
    }
    out = {}
    for name, (columns, options) in cases.items():
        path = tmp_path / f"{name.replace(' ', '_')}.parquet"
        pq.write_table(pa.table(columns), path)
        out[name] = (path, options)
    return out


@pytest.mark.parametrize(
    "case",
    [
        "image paths",
        "Image structs",
        "list column",
        "dictionary column",
        "fixed-size binary column",
        "digit-text labels",
        "a reserved field",
        "two image fields",
        "a label field that is no label column",
        "shards",
    ],
)
def test_tables_that_need_per_row_work_take_the_row_by_row_path(tmp_path, case):
    path, options = fallback_tables(tmp_path)[case]
    if case == "a reserved field":
        with pytest.raises(ImportDataError, match="reserved key 'nd'"):
            with pytest.MonkeyPatch.context() as patch:
                slow_only(patch)
                import_table(path, tmp_path / "out" / "d.msgpack", progress=False, **options)
        return
    if case == "shards":
        with pytest.MonkeyPatch.context() as patch:
            slow_only(patch)
            result = import_table(path, tmp_path / "out" / "d.msgpack", progress=False, **options)
        assert result.samples == 2 and len(result.paths) == 2
        return
    both_ways(tmp_path, path, expect_fast=False, **options)


def test_recompression_takes_the_row_by_row_path(tmp_path):
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="JPEG")
    pq.write_table(pa.table({"image": [out.getvalue()]}), tmp_path / "t.parquet")
    both_ways(tmp_path, tmp_path / "t.parquet", expect_fast=False, recompress=80)


def write(tmp_path: Path, columns: dict) -> Path:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table(columns), path)
    return path


def test_a_duplicate_key_names_table_and_row(tmp_path):
    path = write(tmp_path, {"key": ["a", "b", "a"], "image": [JPEG] * 3})
    message = errors_both_ways(tmp_path, path)
    assert message == "t.parquet row 2: duplicate key 'a' (an earlier sample has the same key)".replace(
        "t.parquet", str(path)
    )


def test_a_label_outside_the_class_list_names_table_and_row(tmp_path):
    path = write(tmp_path, {"image": [JPEG] * 3, "label": [0, 1, 5]})
    assert errors_both_ways(tmp_path, path, labels=["a", "b"]).startswith(f"{path} row 2: label 5 is outside")
    path = write(tmp_path, {"image": [JPEG] * 3, "label": ["a", "zebra", "b"]})
    assert "row 1: label 'zebra' is not in the class list" in errors_both_ways(tmp_path, path, labels=["a", "b"])


def test_a_missing_column_names_the_table(tmp_path):
    path = write(tmp_path, {"image": [JPEG]})
    assert "no column 'id'" in errors_both_ways(tmp_path, path, key_column="id")


@pytest.mark.parametrize(
    "columns, expected",
    [
        ({"key": ["a", None], "image": [JPEG, JPEG]}, "row 1: the key column 'key' is empty"),
        ({"image": [JPEG, None]}, "row 1: no image in column 'image'"),
        ({"image": [JPEG, b"junk", JPEG]}, "row 1: unreadable image"),
        # the first bad row wins, whatever its fault
        ({"key": ["a", "a", "b"], "image": [JPEG, JPEG, b"junk"]}, "row 1: duplicate key 'a'"),
        ({"key": ["a", "b", "a"], "image": [JPEG, b"junk", JPEG]}, "row 1: unreadable image"),
        # a batch's labels are converted before its rows are written
        ({"key": ["a", "a"], "image": [JPEG, JPEG], "label": [0, 9]}, "row 1: label 9 is outside"),
    ],
)
def test_row_errors_are_those_of_row_by_row(tmp_path, columns, expected):
    path = write(tmp_path, columns)
    assert expected in errors_both_ways(tmp_path, path, labels=["a", "b"])


def test_a_rare_image_format_is_checked_fully(tmp_path):
    path = write(tmp_path, {"image": [JPEG, GIF, PNG]})
    both_ways(tmp_path, path)


def test_errors_after_earlier_batches_are_raised_there(tmp_path):
    keys = [f"k{i}" for i in range(3000)]
    keys[2500] = "k3"
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"key": keys, "image": [JPEG] * 3000}), path)
    assert "row 2500: duplicate key 'k3'" in errors_both_ways(tmp_path, path)


def test_pack_functions_match_msgpack():
    """The column encoders on their own: each value as ``dings.format.packb`` packs it."""
    from dings.format import packb
    from dings.tools.importing.columnar import bin_headers, floats, ints, map_headers, str_headers

    def rows(encoded):
        matrix, lengths = encoded
        return [bytes(matrix[i, : lengths[i]]) for i in range(len(lengths))]

    assert rows(ints(np.array(EDGE_INTS, dtype=np.int64))) == [packb(v) for v in EDGE_INTS]
    unsigned = [0, 127, 128, 2**32, 2**64 - 1]
    assert rows(ints(np.array(unsigned, dtype=np.uint64))) == [packb(v) for v in unsigned]
    values = [0.0, -0.0, 1.5, float("inf"), 1e-310]
    assert rows(floats(np.array(values))) == [packb(v) for v in values]
    sizes = np.array(EDGE_SIZES + [2**32 - 1], dtype=np.int64)
    assert rows(str_headers(sizes)) == [packb("x" * int(n))[: -int(n) or None] for n in sizes[:-1]] + [
        b"\xdb\xff\xff\xff\xff"
    ]
    assert rows(bin_headers(sizes[:-1])) == [packb(bytes(int(n)))[: -int(n) or None] for n in sizes[:-1]]
    counts = [0, 1, 15, 16, 65535, 65536]
    assert rows(map_headers(np.array(counts))) == [
        packb({str(i): None for i in range(n)})[:5][: {0: 1, 1: 1, 15: 1, 16: 3, 65535: 3, 65536: 5}[n]] for n in counts
    ]


@pytest.mark.parametrize(
    "duplicate, bad_label, expected",
    [
        (1500, 1100, "row 1100: label 9 is outside"),  # both in the second record batch: labels first
        (1000, 1100, "row 1000: duplicate key 'k3'"),  # the duplicate is in the first record batch
        (2100, 1100, "row 1100: label 9 is outside"),
        (None, 2047, "row 2047: label 9 is outside"),
    ],
)
def test_record_batches_packed_together_keep_the_order_of_errors(tmp_path, duplicate, bad_label, expected):
    """The fast path packs several record batches (of 1,024 rows) at once; errors stay per batch."""
    rows = 3000
    keys = [f"k{i}" for i in range(rows)]
    if duplicate is not None:
        keys[duplicate] = "k3"
    labels = [i % 2 for i in range(rows)]
    labels[bad_label] = 9
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"key": keys, "image": [JPEG] * rows, "label": labels}), path)
    assert expected in errors_both_ways(tmp_path, path, labels=["a", "b"])


def test_a_missing_key_in_a_later_record_batch_comes_after_the_earlier_rows(tmp_path):
    rows = 2500
    keys: list[str | None] = [f"k{i}" for i in range(rows)]
    keys[2200] = None
    keys[1800] = "k1"
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"key": keys, "image": [JPEG] * rows}), path)
    assert "row 1800: duplicate key 'k1'" in errors_both_ways(tmp_path, path)
    keys[1800] = "fine"
    pq.write_table(pa.table({"key": keys, "image": [JPEG] * rows}), path)
    assert "row 2200: the key column 'key' is empty" in errors_both_ways(tmp_path, path)


@pytest.mark.parametrize("shard_size", [None, 700])
def test_a_shuffled_import_writes_its_temporary_file_the_fast_way(tmp_path, monkeypatch, shard_size):
    """Shuffling writes the rows to a temporary dataset (fast path), then rewrites them permuted."""
    rows = 2100
    table = pa.table({"image": pa.array([JPEG + bytes(i % 50) for i in range(rows)]), "n": list(range(rows))})
    pq.write_table(table, tmp_path / "t.parquet")
    used = []
    real = core._write_packed
    monkeypatch.setattr(core, "_write_packed", lambda *args: used.append(args[1]) or real(*args))
    options = {"shuffle": True, "seed": 11, "shard_size": shard_size}
    fast = import_table(tmp_path / "t.parquet", tmp_path / "fast" / "d.msgpack", progress=False, **options)
    assert len(used) == 1 and "unshuffled" in used[0].name
    with pytest.MonkeyPatch.context() as patch:
        row_by_row(patch)
        slow = import_table(tmp_path / "t.parquet", tmp_path / "slow" / "d.msgpack", progress=False, **options)
    assert len(fast.paths) == len(slow.paths) == (1 if shard_size is None else 3)
    for a, b in zip(fast.paths, slow.paths):
        assert a.name == b.name and files(a) == files(b)
    assert not list((tmp_path / "fast").glob("*unshuffled*"))
