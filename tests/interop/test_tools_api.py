"""dings.tools, dataset modules and reader checks offer datadings 3.4.7's names and argument orders.

Every function is called the way datadings code calls it (positional arguments in datadings'
order, datadings' keyword names) on both implementations, and the results are compared.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import inspect
import io
import multiprocessing
import queue
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

datadings = pytest.importorskip("datadings", reason="the oracle datadings==3.4.7 is installed by the hatch test env")

import datadings.tools as dt  # noqa: E402

import dings.tools as ours  # noqa: E402

ADDED_NAMES = [
    "ProgressPrinter",
    "make_printer",
    "hash_string_bytes",
    "download_if_not_found",
    "download_files_if_not_found",
    "verify_file",
    "tiff_to_nd_array",
    "Yielder",
    "YielderProc",
    "SentinelEnd",
    "SentinelError",
    "document_keys",
]


def positional_names(function) -> list[str]:
    return [
        p.name
        for p in inspect.signature(function).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and not p.name.startswith("_")
    ]


@pytest.mark.parametrize("name", ADDED_NAMES)
def test_datadings_tool_names_are_public(name):
    assert hasattr(dt, name)
    assert name in ours.__all__ and getattr(ours, name) is not None


@pytest.mark.parametrize(
    "name", ["path_append", "hash_md5hex", "yield_threaded", "split_array", "prepare_indir", "make_printer",
             "download_if_not_found", "download_files_if_not_found", "verify_file", "hash_string_bytes",
             "document_keys", "tiff_to_nd_array"],
)  # fmt: skip
def test_positional_arguments_come_in_datadings_order(name):
    theirs = positional_names(getattr(dt, name))
    mine = positional_names(getattr(ours, name))
    if name == "prepare_indir":  # datadings' `args` (parsed arguments) is our `indir`, which also takes them
        theirs = ["files", "indir"]
    assert mine[: len(theirs)] == theirs


def test_yield_process_takes_gen_first():
    assert positional_names(ours.yield_process)[0] == positional_names(dt.yield_process)[0] == "gen"


# --- paths and hashes ---


def test_path_append_takes_string(tmp_path):
    path = tmp_path / "data.msgpack"
    assert ours.path_append(path, string=".md5") == dt.path_append(path, string=".md5") == tmp_path / "data.msgpack.md5"


def test_hash_md5hex_takes_read_size_then_progress(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(bytes(range(256)) * 1000)
    with contextlib.redirect_stderr(io.StringIO()):
        expected = dt.hash_md5hex(path, 1000, False)
        assert ours.hash_md5hex(path, 1000, False) == expected == hashlib.md5(path.read_bytes()).hexdigest()
        assert ours.hash_md5hex(path, read_size=4096, progress=True) == expected
    with pytest.raises(TypeError, match="read_size must be an int"):
        ours.hash_md5hex(path, True)  # dings' old order (progress second) fails loudly


@pytest.mark.parametrize("salt", [b"", b"\x01" * 8])
def test_hash_string_bytes(salt):
    for text in ["", "key", "日本語", "k" * 300]:
        assert ours.hash_string_bytes(text, salt) == dt.hash_string_bytes(text, salt)
        assert ours.hash_string(text, salt) == dt.hash_string(text, salt)


# --- background workers ---


def numbers(count=20):
    yield from range(count)


def test_yield_threaded_and_yield_process_take_gen():
    assert list(ours.yield_threaded(gen=numbers())) == list(dt.yield_threaded(gen=numbers())) == list(range(20))
    if multiprocessing.get_start_method() == "fork":
        assert list(ours.yield_process(gen=numbers())) == list(dt.yield_process(gen=numbers()))
    assert list(ours.yield_process(gen=numbers, context="fork")) == list(range(20))


def read_until_end(q, end, error):
    items = []
    while True:
        item = q.get(timeout=10)
        if item is end or isinstance(item, ours.SentinelEnd):
            return items
        if item is error or isinstance(item, ours.SentinelError):
            return items + ["error"]
        items.append(item)


def failing():
    yield 1
    raise ValueError("broken source")


def test_yielder_thread_feeds_a_queue_and_marks_the_end_or_an_error():
    end, error = object(), object()
    for gen, expected in [(numbers(), list(range(20))), (failing(), [1, "error"])]:
        q = queue.Queue(maxsize=3)
        worker = ours.Yielder(gen, q, end, error)
        assert isinstance(worker, threading.Thread) and worker.daemon
        worker.start()
        assert read_until_end(q, end, error) == expected
        worker.join(10)
        assert not worker.is_alive()
    assert isinstance(worker.exception, ValueError)


def test_yielder_stops_when_asked():
    q = queue.Queue(maxsize=1)
    worker = ours.Yielder(iter(range(10**9)), q, object(), object())
    worker.start()
    assert q.get(timeout=10) == 0
    worker.stop()
    while worker.is_alive():
        with contextlib.suppress(queue.Empty):
            q.get(timeout=0.1)
    assert not worker.is_alive()


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork", reason="a generator reaches a process only by fork")
def test_yielder_process_feeds_a_queue_with_sentinels():
    for gen, expected in [(numbers(), list(range(20))), (failing(), [1, "error"])]:
        q = multiprocessing.Queue(maxsize=3)
        worker = ours.YielderProc(gen, q)
        worker.start()
        assert read_until_end(q, None, None) == expected
        worker.join(10)
        assert worker.exitcode == 0
        worker.stop()


# --- progress ---


def test_print_over_takes_print_keywords_and_writes_what_datadings_writes(capsys):
    dt.print_over("step", 1, "of", 3, sep="-", end="", flush=True)
    theirs = capsys.readouterr().out
    ours.print_over("step", 1, "of", 3, sep="-", end="", flush=True)
    assert capsys.readouterr().out == theirs
    dt.print_over("done")
    theirs = capsys.readouterr().out
    ours.print_over("done")
    assert capsys.readouterr().out == theirs


def test_make_printer_returns_a_callable_progress_bar():
    out = io.StringIO()
    printer = ours.make_printer(total=10, file=out, desc="work")
    theirs = dt.make_printer(total=10, file=io.StringIO())
    with printer, theirs:
        printer(3)
        printer()
        theirs(3)
        theirs()
        assert printer.n == theirs.n == 4
    assert isinstance(printer, ours.ProgressPrinter) and printer.monitor_interval == 0
    assert "work" in out.getvalue() and "%" in out.getvalue()
    assert ours.BAR_FORMAT == dt.BAR_FORMAT


# --- arrays ---


def test_split_array_as_datadings():
    img = np.arange(3 * 10 * 7).reshape(3, 10, 7)
    expected = list(dt.split_array(img, 4, 3))
    got = list(ours.split_array(img, 4, 3))
    assert len(got) == len(expected) == 9
    assert all(np.array_equal(a, b) for a, b in zip(got, expected))
    hwc = np.arange(10 * 7 * 2).reshape(10, 7, 2)
    assert [t.shape for t in ours.split_array(hwc, 5, 7, indices=(0, 1))] == [(5, 7, 2), (5, 7, 2)]


# --- sources: prepare_indir, downloads, verify_file ---


def source(tmp_path) -> tuple[dict, Path]:
    indir = tmp_path / "in"
    indir.mkdir(exist_ok=True)
    (indir / "a.bin").write_bytes(b"payload")
    files = {"a": {"path": "a.bin", "url": None, "md5": hashlib.md5(b"payload").hexdigest()}}
    return files, indir


def test_prepare_indir_takes_parsed_arguments(tmp_path):
    files, indir = source(tmp_path)
    args = argparse.Namespace(indir=str(indir), skip_verification=False)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        theirs = dt.prepare_indir(files, args)
        mine = ours.prepare_indir(files, args, progress=False)
    assert {k: str(v["path"]) for k, v in mine.items()} == {k: v["path"] for k, v in theirs.items()}
    files["a"]["md5"] = "0" * 32
    with pytest.raises(ours.ChecksumMismatchError):
        ours.prepare_indir(files, args, progress=False)
    ours.prepare_indir(files, argparse.Namespace(indir=str(indir), skip_verification=True), progress=False)
    with pytest.raises(ValueError, match="no 'indir'"):
        ours.prepare_indir(files, argparse.Namespace(skip_verification=True))


def test_verify_file_passes_and_fails_loudly(tmp_path):
    files, indir = source(tmp_path)
    meta = files["a"]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert dt.verify_file(meta, str(indir)) is None
        assert ours.verify_file(meta, str(indir), progress=False) is None
        bad = dict(meta, md5="f" * 32)
        with pytest.raises(SystemExit):  # datadings prints and exits the program
            dt.verify_file(bad, str(indir))
        with pytest.raises(ours.ChecksumMismatchError, match="a.bin"):  # dings raises (docs/compatibility.md)
            ours.verify_file(bad, str(indir), progress=False)


def test_download_if_not_found(tmp_path):
    served = tmp_path / "served.bin"
    served.write_bytes(b"remote bytes")
    target = tmp_path / "new" / "dir" / "file.bin"
    assert ours.download_if_not_found(served.as_uri(), target, progress=False) == target
    assert target.read_bytes() == b"remote bytes"
    served.write_bytes(b"changed")
    ours.download_if_not_found(served.as_uri(), target, progress=False)  # exists: not downloaded again
    with contextlib.redirect_stdout(io.StringIO()):
        dt.download_if_not_found(served.as_uri(), str(target))  # the oracle does the same
    assert target.read_bytes() == b"remote bytes"


def test_download_files_if_not_found(tmp_path):
    served = tmp_path / "served.bin"
    served.write_bytes(b"remote bytes")
    files, indir = source(tmp_path)
    files["b"] = {"path": "sub/b.bin", "url": served.as_uri(), "md5": None}
    ours.download_files_if_not_found(files, indir, progress=False)
    assert (indir / "sub" / "b.bin").read_bytes() == b"remote bytes" and (indir / "a.bin").read_bytes() == b"payload"


# --- documentation and TIFF ---


def test_document_keys_as_datadings():
    from datadings.sets.types import ImageClassificationData, SaliencyExperiment

    for typefun in (ImageClassificationData, SaliencyExperiment):
        assert ours.document_keys(typefun) == dt.document_keys(typefun)
        assert ours.document_keys(typefun, "Note:", "Keys:", "end") == dt.document_keys(
            typefun, "Note:", "Keys:", "end"
        )


def test_tiff_to_nd_array_is_band_first(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    rgb = np.arange(5 * 4 * 3, dtype=np.uint16).reshape(5, 4, 3)
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    tifffile.imwrite(tmp_path / "gray.tif", rgb[..., 0])
    array = ours.tiff_to_nd_array(str(tmp_path / "rgb.tif"))
    assert array.dtype == np.uint8 and array.shape == (3, 5, 4)
    assert np.array_equal(array, np.moveaxis(rgb, -1, 0).astype(np.uint8))
    assert ours.tiff_to_nd_array(tmp_path / "gray.tif", np.float32).shape == (1, 5, 4)
    assert ours.tiff_to_nd_array(tmp_path / "gray.tif", None).dtype == np.uint16
    (tmp_path / "bad.tif").write_bytes(b"not a tiff")
    with pytest.raises(ValueError, match="bad.tif: not a readable TIFF"):
        ours.tiff_to_nd_array(tmp_path / "bad.tif")


# --- reader checks and dataset modules ---


def test_verify_data_and_verify_index_take_read_size(tmp_path):
    from datadings.reader import MsgpackReader as TheirReader
    from datadings.writer import FileWriter as TheirWriter

    from dings.readers import MsgpackReader

    path = tmp_path / "d.msgpack"
    with TheirWriter(path, disable=True) as writer:
        for i in range(5):
            writer.write({"key": f"k{i}", "i": i})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = TheirReader(path)
        expected = theirs.verify_data(read_size=1024), theirs.verify_data(1024, False)
    mine = MsgpackReader(path)
    assert (mine.verify_data(read_size=1024), mine.verify_data(1024, False)) == expected == (True, True)
    assert mine.verify_index(read_size=1024) and mine.verify_index(64, progress=False)


def test_dataset_module_constants():
    import datadings.sets.CAMVID as their_camvid
    import datadings.sets.VOC2012 as their_voc

    from dings.sets import CAMVID, VOC2012, YFCC100m

    assert np.array_equal(CAMVID.M, their_camvid.M) and CAMVID.M.dtype == their_camvid.M.dtype
    assert np.allclose(
        VOC2012.median_frequency_weights(their_voc.COUNTS), their_voc.median_frequency_weights(their_voc.COUNTS)
    )
    assert np.allclose(VOC2012.median_frequency_weights([4, 1, 2, 9]), their_voc.median_frequency_weights([4, 1, 2, 9]))
    assert Path(YFCC100m.ROOT).is_dir()  # REJECTED_PATH: the downloaded list's place, not a shipped file
    assert Path(YFCC100m.REJECTED_PATH).name == "YFCC100m_rejected_images.msgpack.xz"
    their_counts = pytest.importorskip("datadings.sets.YFCC100m_counts")
    assert YFCC100m.FILE_COUNTS == their_counts.FILE_COUNTS
    assert YFCC100m.FILES_TOTAL == their_counts.FILES_TOTAL == 94_502_424


# --- converter toolbox: argument helpers and MATLAB structs ---


def test_argument_threads_takes_datadings_default_and_max_threads():
    import os

    cpus = len(os.sched_getaffinity(0))
    for args, given, expected in [
        ((4, 2), [], 2),
        ((1, 0), ["-t", str(cpus + 5)], cpus),
        ((3,), [], 3),
        ((1, -2), ["-t", str(3 * cpus)], 2 * cpus),
    ]:
        parser = argparse.ArgumentParser()
        ours.argument_threads(parser, *args)
        assert parser.parse_args(given).threads == expected, args
    from datadings.tools import argparse as dta

    theirs = argparse.ArgumentParser()
    dta.argument_threads(theirs, 4, 2)
    assert theirs.parse_args([]).threads == 2
    with pytest.raises(TypeError, match="flags"):
        ours.argument_threads(argparse.ArgumentParser(), "-w", 3)


def test_make_parser_takes_formatter_class_in_datadings_position():
    from datadings.tools import argparse as dta

    for module in (dta, ours):
        parser = module.make_parser("doc", True, True, True, True, False, argparse.HelpFormatter)
        assert parser.formatter_class is argparse.HelpFormatter
        assert vars(parser.parse_args(["in"])).keys() == {"indir", "outdir", "no_confirm", "skip_verification"}
        simple = module.make_parser_simple("doc", False, True, False, False, False, argparse.HelpFormatter)
        assert simple.formatter_class is argparse.HelpFormatter and list(vars(simple.parse_args([]))) == ["outdir"]


def test_iter_fields_takes_arr():
    pytest.importorskip("scipy")
    arr = np.zeros(2, dtype=[("a", "i4"), ("b", "f8")])
    arr["a"] = [1, 2]
    assert [dict(r) for r in ours.iter_fields(arr=arr, ignore=("b",))] == [{"a": 1}, {"a": 2}]


def test_min_max_action_clamps_as_datadings():
    from datadings.tools import argparse as dta

    def parsed(base, given):
        class OneToSeven(base):
            min_value = 1
            max_value = 7

        parser = argparse.ArgumentParser()
        parser.add_argument("--level", type=int, action=OneToSeven)
        return parser.parse_args(given).level

    for given in (["--level", "3"], ["--level", "0"], ["--level", "-4"], ["--level", "99"], []):
        assert parsed(ours.MinMaxAction, given) == parsed(dta.MinMaxAction, given), given
