"""FileWriter and RawWriter: what they write, what they refuse, and that failures lose nothing."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from dings.format import (
    DuplicateKeyError,
    FileWriter,
    FormatError,
    InvalidSampleError,
    RawWriter,
    UnsafeDataError,
    load_keys,
    load_md5,
    load_offsets,
    packb,
    unpackb,
    verify,
)
from dings.readers import MsgpackReader

SUFFIXES = ["", ".offsets", ".keys", ".key_hashes", ".filter", ".crc32", ".md5"]


def dataset_files(path: Path) -> dict[str, bytes]:
    return {s: Path(str(path) + s).read_bytes() for s in SUFFIXES}


def write(path: Path, samples, **kwargs) -> None:
    with FileWriter(path, progress=False, **kwargs) as writer:
        for sample in samples:
            writer.write(sample)


def samples_(n: int, prefix: str = "s"):
    return [{"key": f"{prefix}{i}", "value": i, "blob": bytes([i % 256]) * (i * 37 % 500)} for i in range(n)]


def test_written_dataset_reads_back_equal_and_verifies(tmp_path):
    path = tmp_path / "d.msgpack"
    samples = samples_(300)
    write(path, samples)
    assert verify(path).ok
    with MsgpackReader(path) as reader:
        assert len(reader) == 300
        assert list(reader) == samples
        assert reader.find_index("s123") == 123


def test_written_counts_samples_and_write_returns_it(tmp_path):
    with FileWriter(tmp_path / "d.msgpack", progress=False) as writer:
        assert writer.written == 0
        assert writer.write({"key": "a"}) == 1
        assert writer.write({"key": "b"}) == 2
        assert writer.written == len(writer) == 2


def test_offsets_mark_sample_boundaries_in_data(tmp_path):
    path = tmp_path / "d.msgpack"
    samples = samples_(50)
    write(path, samples)
    offsets = load_offsets(path)
    data = path.read_bytes()
    assert offsets[0] == 0 and offsets[-1] == len(data)
    for i, sample in enumerate(samples):
        assert unpackb(data[offsets[i] : offsets[i + 1]]) == sample
    assert load_keys(path) == [s["key"] for s in samples]


def test_md5_file_lists_every_file_in_order(tmp_path):
    path = tmp_path / "d.msgpack"
    write(path, samples_(10))
    names = list(load_md5(path))
    assert names == ["d.msgpack", "d.msgpack.offsets", "d.msgpack.keys", "d.msgpack.key_hashes", "d.msgpack.filter"]


def test_empty_dataset_is_complete_and_empty(tmp_path):
    path = tmp_path / "empty.msgpack"
    write(path, [])
    assert path.read_bytes() == b""
    assert verify(path).ok
    with MsgpackReader(path) as reader:
        assert len(reader) == 0
        assert list(reader) == []


def test_large_samples_are_written_in_chunks_and_read_back(tmp_path):
    path = tmp_path / "big.msgpack"
    samples = [{"key": str(i), "data": os.urandom(700_000)} for i in range(6)]
    write(path, samples)
    with MsgpackReader(path) as reader:
        assert list(reader) == samples
    assert verify(path).ok


def test_raw_writer_writes_packed_samples(tmp_path):
    path = tmp_path / "raw.msgpack"
    samples = samples_(20)
    with RawWriter(path, progress=False) as writer:
        for sample in samples:
            writer.write(sample["key"], packb(sample))
    other = tmp_path / "file.msgpack"
    write(other, samples)
    assert path.read_bytes() == other.read_bytes()
    assert verify(path).ok


def test_raw_writer_refuses_data_that_is_not_a_packed_map(tmp_path):
    with RawWriter(tmp_path / "raw.msgpack", progress=False) as writer:
        with pytest.raises(InvalidSampleError, match="'k'.*not a packed msgpack map"):
            writer.write("k", packb([1, 2]))
        with pytest.raises(InvalidSampleError, match="keys must be str"):
            writer.write(3, packb({"key": 3}))


# --- validation: clear errors, nothing written for the bad sample, earlier samples stay valid ---


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"value": 1}, "has no 'key'"),
        ({"key": 5}, "5 is a int; keys must be str"),
        ({"key": b"bytes"}, "keys must be str"),
        ({"key": "k", "nd": True}, "reserved key 'nd'"),
        ({"key": "k", "complex": 1}, "reserved key 'complex'"),
        ({"key": "k", "big": 2**64}, r"'k'.*sample\['big'\] is an int beyond 64 bits"),
        (
            {"key": "k", "nested": {"list": [1, -(2**63) - 1]}},
            r"sample\['nested'\]\['list'\]\[1\] is an int beyond 64 bits",
        ),
        ({"key": "k", "thing": object()}, r"sample\['thing'\] has type object"),
        (["key", "k"], "must be a dict"),
    ],
)
def test_invalid_samples_raise_clear_errors_and_are_not_written(tmp_path, bad, message):
    path = tmp_path / "d.msgpack"
    with FileWriter(path, progress=False) as writer:
        writer.write({"key": "good-1"})
        with pytest.raises(InvalidSampleError, match=message):
            writer.write(bad)
        writer.write({"key": "good-2"})
    with MsgpackReader(path) as reader:
        assert [s["key"] for s in reader] == ["good-1", "good-2"]
    assert verify(path).ok


def test_duplicate_key_is_refused_and_named(tmp_path):
    path = tmp_path / "d.msgpack"
    with FileWriter(path, progress=False) as writer:
        writer.write({"key": "same"})
        with pytest.raises(DuplicateKeyError, match="'same' was already written"):
            writer.write({"key": "same", "other": 1})
    with MsgpackReader(path) as reader:
        assert list(reader) == [{"key": "same"}]


def test_object_arrays_are_refused_unless_allowed(tmp_path):
    path = tmp_path / "d.msgpack"
    with FileWriter(path, progress=False) as writer:
        with pytest.raises(UnsafeDataError, match="'k'.*object-dtype array"):
            writer.write({"key": "k", "a": np.array([{}, 1], dtype=object)})
    with FileWriter(path, progress=False, overwrite=True, allow_unsafe=True) as writer:
        writer.write({"key": "k", "a": np.array([1, "x"], dtype=object)})
    with pytest.raises(UnsafeDataError):
        MsgpackReader(path).get(0)
    assert list(MsgpackReader(path, allow_unsafe=True).get(0)["a"]) == [1, "x"]


def test_bytes_beyond_msgpack_limit_are_refused_before_writing(tmp_path):
    # np.zeros maps untouched pages, so this 4 GiB buffer costs no real memory
    huge = memoryview(np.zeros(2**32, dtype=np.uint8))
    path = tmp_path / "d.msgpack"
    with FileWriter(path, progress=False) as writer:
        with pytest.raises(InvalidSampleError, match=r"'k'.*sample\['data'\] is 4294967296 bytes"):
            writer.write({"key": "k", "data": huge})
        writer.write({"key": "ok"})
    assert path.stat().st_size < 100


def test_errors_are_catchable_as_builtin_and_package_errors():
    assert issubclass(InvalidSampleError, ValueError) and issubclass(InvalidSampleError, FormatError)
    assert issubclass(DuplicateKeyError, InvalidSampleError)
    assert issubclass(UnsafeDataError, ValueError) and issubclass(UnsafeDataError, FormatError)


# --- atomic writing ---


def test_nothing_appears_until_the_writer_closes(tmp_path):
    path = tmp_path / "d.msgpack"
    with FileWriter(path, progress=False) as writer:
        writer.write({"key": "a"})
        assert not any(p.name.startswith("d.msgpack") for p in tmp_path.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted("d.msgpack" + s for s in SUFFIXES)


def test_exception_in_with_block_removes_temporaries_and_keeps_old_dataset(tmp_path):
    path = tmp_path / "d.msgpack"
    write(path, samples_(5, "old"))
    before = dataset_files(path)
    with pytest.raises(RuntimeError):
        with FileWriter(path, overwrite=True, progress=False) as writer:
            writer.write({"key": "new"})
            raise RuntimeError("conversion failed")
    assert dataset_files(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted("d.msgpack" + s for s in SUFFIXES)


def test_keyboard_interrupt_in_with_block_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with FileWriter(tmp_path / "d.msgpack", progress=False) as writer:
            writer.write({"key": "a"})
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_interrupt_while_the_writer_is_set_up_leaves_nothing_even_while_its_traceback_is_kept(tmp_path, monkeypatch):
    import dings.format.writer as writer_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(writer_module, "Progress", interrupted)  # the last step of setting up
    with pytest.raises(KeyboardInterrupt) as caught:
        FileWriter(tmp_path / "d.msgpack", progress=False)
    assert caught.value.__traceback__ is not None  # the frames, and the half-made writer, are alive
    assert list(tmp_path.iterdir()) == []


def test_unclosed_writer_that_is_dropped_leaves_nothing(tmp_path):
    writer = FileWriter(tmp_path / "d.msgpack", progress=False)
    writer.write({"key": "a"})
    del writer
    assert list(tmp_path.iterdir()) == []


def test_overwrite_replaces_the_dataset(tmp_path):
    path = tmp_path / "d.msgpack"
    write(path, samples_(5, "old"))
    write(path, samples_(3, "new"), overwrite=True)
    with MsgpackReader(path) as reader:
        assert [s["key"] for s in reader] == ["new0", "new1", "new2"]
    assert verify(path).ok


KILL_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from dings.format import FileWriter
    path = sys.argv[1]
    with FileWriter(path, overwrite=True, progress=False) as writer:
        for i in range(10**9):
            writer.write({"key": str(i), "data": os.urandom(1000)})
            if i == 5000:
                print("writing", flush=True)
    """
)


def kill_while_writing(path: Path) -> None:
    """Start a subprocess writing to ``path`` and SIGKILL it once it has written 5000 samples."""
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL


def test_sigkill_during_write_leaves_old_dataset_intact_and_no_new_one(tmp_path):
    path = tmp_path / "d.msgpack"
    write(path, samples_(100, "old"))
    before = dataset_files(path)
    kill_while_writing(path)
    assert dataset_files(path) == before
    assert verify(path).ok
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in {"d.msgpack" + s for s in SUFFIXES}]
    assert leftovers and all(name.startswith(".d.msgpack.") and ".tmp" in name for name in leftovers)
    write(
        path, samples_(3, "next"), overwrite=True
    )  # the next write of the same output removes the dead writer's files
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted("d.msgpack" + s for s in SUFFIXES)


def test_sigkill_of_first_write_leaves_no_complete_looking_dataset(tmp_path):
    path = tmp_path / "d.msgpack"
    kill_while_writing(path)
    assert not path.exists()
    assert not verify(path).ok


# --- existing outputs ---


class FakeTerminal(io.StringIO):
    """Standard input that says it is a terminal, with the user's answers already typed."""

    def isatty(self) -> bool:
        return True


def test_existing_output_without_terminal_raises_file_exists_naming_flag(tmp_path, monkeypatch):
    path = tmp_path / "d.msgpack"
    write(path, samples_(2))
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(FileExistsError, match=r"d\.msgpack.*overwrite=True"):
        FileWriter(path, progress=False)


@pytest.mark.parametrize(
    "answer, outcome", [("y", None), ("yes", None), ("n", FileExistsError), ("abort", KeyboardInterrupt)]
)
def test_interactive_user_is_asked_yes_no_abort(tmp_path, monkeypatch, capsys, answer, outcome):
    path = tmp_path / "d.msgpack"
    write(path, samples_(2, "old"))
    monkeypatch.setattr(sys, "stdin", FakeTerminal(f"maybe\n{answer}\n"))  # an unclear answer asks again
    if outcome is None:
        write(path, samples_(1, "new"))
        assert [s["key"] for s in MsgpackReader(path)] == ["new0"]
    else:
        with pytest.raises(outcome):
            FileWriter(path, progress=False)
        assert [s["key"] for s in MsgpackReader(path)] == ["old0", "old1"]
    prompts = [line for line in capsys.readouterr().err.split("] ") if "Overwrite?" in line]
    assert len(prompts) == 2 and "d.msgpack" in prompts[0]


def test_directory_as_output_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        FileWriter(tmp_path, progress=False)


def test_missing_parent_folders_are_created(tmp_path):
    path = tmp_path / "a" / "b" / "d.msgpack"
    write(path, samples_(1))
    assert verify(path).ok


# --- progress ---


def test_progress_off_prints_nothing(tmp_path, capsys):
    write(tmp_path / "d.msgpack", samples_(100))
    assert capsys.readouterr() == ("", "")


def test_progress_on_reports_samples_and_rates(tmp_path, capsys):
    with FileWriter(tmp_path / "d.msgpack", progress=True, desc="demo") as writer:
        for sample in samples_(100):
            writer.write(sample)
    err = capsys.readouterr().err
    assert "demo: 100 samples" in err and "samples/s" in err and "MB/s" in err


def test_datadings_disable_flag_turns_progress_off(tmp_path, capsys):
    with FileWriter(tmp_path / "d.msgpack", disable=True) as writer:
        writer.write({"key": "a"})
    assert capsys.readouterr().err == ""


def test_containers_beyond_msgpack_limits_are_explained(monkeypatch):
    # building a list of 2**32 entries needs 32 GiB; lower the limit to check the explanation itself
    from dings.format import validation

    monkeypatch.setattr(validation, "MAX_LENGTH", 3)
    assert "list with more than 2**32-1 entries" in validation.find_problem({"key": "k", "l": [1, 2, 3, 4]})
    assert "map with more than 2**32-1 entries" in validation.find_problem({"key": "k", "m": dict.fromkeys("abcd")})
    assert validation.find_problem({"key": "k", "l": [1, 2]}) is None


def test_dropped_writer_stops_its_threads(tmp_path):
    import threading

    before = threading.active_count()
    writer = FileWriter(tmp_path / "d.msgpack", progress=False)
    writer.write({"key": "a"})
    assert threading.active_count() == before + 3  # md5, write, crc32
    del writer
    assert threading.active_count() == before


def test_progress_line_is_tqdm_and_leaves_no_stale_characters(tmp_path):
    import io

    from dings.format import Progress

    out = io.StringIO()
    meter = Progress("demo", total=None, enabled=True, stream=out, interval=0)
    meter.update(123456, 10**9)
    meter.update(1, 1)
    meter.close()
    lines = out.getvalue().rstrip("\n").split("\r")[1:]
    assert lines and all(len(later) >= len(earlier.rstrip()) for earlier, later in zip(lines, lines[1:]))
    assert "123,457 samples" in lines[-1].replace("123457", "123,457") and "1,000.0 MB" in lines[-1]


def test_progress_auto_is_quiet_off_a_terminal(tmp_path, capsys):
    with FileWriter(tmp_path / "d.msgpack", progress=None) as writer:
        writer.write({"key": "a"})
    assert capsys.readouterr().err == ""


def test_silent_bar_counts_like_tqdm_without_printing(capsys):
    from dings.format import progress_bar

    bar = progress_bar(range(3), total=3, enabled=False)
    assert list(bar) == [0, 1, 2] and bar.n == 3
    bar.reset(total=10)
    bar.update(4)
    bar.set_postfix_str("x")
    bar.close()
    assert (bar.n, bar.total) == (4, 10)
    assert capsys.readouterr().err == ""
