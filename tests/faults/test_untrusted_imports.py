"""Untrusted inputs of ``dings import``: hostile list files, folders, tar shards, patterns and JSON.

Each hostile input must end in one clear error naming the file, row or member, within bounded
memory and time. Operations that used to exhaust memory or hang run in a child process with an
address-space limit (``RLIMIT_AS``) and a wall timeout: the timeout only detects a hang, it is no
timing assertion.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from dings.format import CorruptIndexError, DamagedDataError, load_label_names, parse_json, write_label_names
from dings.readers import MsgpackReader
from dings.tools import ImportDataError, import_folder, import_list, import_webdataset
from dings.tools.importing.webdataset import MAX_EXPANSION, expand_braces

if not hasattr(os, "mkfifo"):  # pragma: no cover - POSIX only
    pytest.skip("FIFOs and /dev/zero need a POSIX system", allow_module_level=True)

#: enough for the interpreter with numpy, far below what the hostile inputs used to take
MEMORY_LIMIT = 1 << 30
#: a child that runs longer hangs (the operations finish in well under a second)
HANG_TIMEOUT = 120
#: a 1x1 grey PNG file: imports decode every image (bytes after it do no harm)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU"
    b"\x00\x00\x00\nIDATx\x9cc`\x00\x00\x00\x02\x00\x01H\xaf\xa4q\x00\x00\x00\x00IEND\xaeB`\x82"
)
#: the exit status of a child whose operation raised the expected error
REFUSED = 3


def run_bounded(code: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``code`` in a child Python with at most :data:`MEMORY_LIMIT` of address space."""

    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    try:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            cwd=cwd,
            env=env,
            preexec_fn=limit,
            capture_output=True,
            text=True,
            timeout=HANG_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"hung: still running after {HANG_TIMEOUT} s")


def refused(code: str, cwd: Path, error: str = "ImportDataError", module: str = "dings.tools") -> str:
    """Run ``code`` bounded; it must raise ``error``; return the error's message."""
    wrapped = "import sys\nfrom dings.tools import import_folder, import_list, import_webdataset\n"
    wrapped += f"from {module} import {error}\ntry:\n" + textwrap.indent(textwrap.dedent(code), "    ")
    wrapped += f"\nexcept {error} as exc:\n    print(exc)\n    sys.exit({REFUSED})\n"
    result = run_bounded(wrapped, cwd)
    assert result.returncode == REFUSED, f"exit {result.returncode}; stderr: {result.stderr[-2000:]}"
    return result.stdout.strip()


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``dings ARGS`` in a bounded child."""
    return run_bounded(f"import sys\nfrom dings.cli.main import main\nsys.exit(main({args!r}))", cwd)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The CLI failed with exit status 1 and said why in one line."""
    assert result.returncode == 1, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


# --- list sources: only regular files, --root confines ---


def test_a_list_naming_dev_zero_is_refused_naming_the_row(tmp_path):
    (tmp_path / "ok.png").write_bytes(PNG)
    write_csv(tmp_path / "list.csv", [{"path": "ok.png", "label": "a"}, {"path": "/dev/zero", "label": "b"}])
    message = refused(f"import_list({str(tmp_path / 'list.csv')!r}, 'out.msgpack', progress=False)", tmp_path)
    assert "list.csv row 2" in message and "/dev/zero" in message and "not a regular file" in message
    assert not (tmp_path / "out.msgpack").exists()


def test_a_list_naming_a_fifo_is_refused_instead_of_hanging(tmp_path):
    os.mkfifo(tmp_path / "pipe.png")
    (tmp_path / "list.jsonl").write_text(json.dumps({"path": "pipe.png"}) + "\n")
    message = refused(f"import_list({str(tmp_path / 'list.jsonl')!r}, 'out.msgpack', progress=False)", tmp_path)
    assert "list.jsonl row 1" in message and "pipe.png" in message and "not a regular file" in message


def test_a_symlink_to_a_device_is_refused(tmp_path):
    os.symlink("/dev/zero", tmp_path / "zero.png")
    write_csv(tmp_path / "list.csv", [{"path": "zero.png"}])
    message = refused(f"import_list({str(tmp_path / 'list.csv')!r}, 'out.msgpack', progress=False)", tmp_path)
    assert "row 1" in message and "zero.png" in message and "not a regular file" in message


@pytest.fixture
def rooted(tmp_path):
    """``root/`` with an image, a secret image next to it, and a link from inside to the secret."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "in.png").write_bytes(PNG)
    (tmp_path / "secret.png").write_bytes(PNG + b"secret")
    os.symlink(tmp_path / "secret.png", root / "link.png")
    return root


@pytest.mark.parametrize("path", ["../secret.png", "sub/../../secret.png", "link.png", "{outside}"])
def test_with_root_a_path_outside_it_is_refused_naming_the_row(tmp_path, rooted, path):
    path = path.format(outside=tmp_path / "secret.png")
    write_csv(tmp_path / "list.csv", [{"path": "in.png"}, {"path": path}])
    with pytest.raises(ImportDataError, match=r"list\.csv row 2: .*outside --root") as info:
        import_list(tmp_path / "list.csv", tmp_path / "out.msgpack", root=rooted, progress=False)
    assert path in str(info.value)
    assert not (tmp_path / "out.msgpack").exists()


def test_with_root_paths_inside_it_are_imported_absolute_ones_too(tmp_path, rooted):
    (tmp_path / "list.csv").write_text(f"path,key\nin.png,rel\n{rooted / 'in.png'},abs\n")
    result = import_list(tmp_path / "list.csv", tmp_path / "out.msgpack", root=rooted, progress=False)
    assert result.samples == 2


def test_without_root_relative_and_absolute_paths_are_trusted(tmp_path, rooted):
    (rooted / "list.csv").write_text(f"path,key\n../secret.png,rel\n{tmp_path / 'secret.png'},abs\nlink.png,link\n")
    result = import_list(rooted / "list.csv", tmp_path / "out.msgpack", progress=False)
    assert result.samples == 3
    with MsgpackReader(tmp_path / "out.msgpack") as reader:
        assert {s["image"] for s in reader} == {PNG + b"secret"}


def test_a_table_naming_dev_zero_is_refused_naming_the_row(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"image": ["/dev/zero"], "label": [1]}), tmp_path / "t.parquet")
    code = f"from dings.tools import import_table\nimport_table({str(tmp_path / 't.parquet')!r}, 'out.msgpack', progress=False)"
    message = refused(code, tmp_path)
    assert "t.parquet row" in message and "/dev/zero" in message and "not a regular file" in message


# --- folders: a FIFO or device in the tree is refused, naming it ---


@pytest.mark.parametrize("special", ["fifo", "device link"])
def test_a_special_file_in_a_folder_is_refused_naming_it(tmp_path, special):
    (tmp_path / "tree" / "cat").mkdir(parents=True)
    (tmp_path / "tree" / "cat" / "1.png").write_bytes(PNG)
    if special == "fifo":
        os.mkfifo(tmp_path / "tree" / "cat" / "2.png")
    else:
        os.symlink("/dev/zero", tmp_path / "tree" / "cat" / "2.png")
    message = refused(f"import_folder({str(tmp_path / 'tree')!r}, 'out.msgpack', progress=False)", tmp_path)
    assert str(tmp_path / "tree" / "cat" / "2.png") in message and "not a regular file" in message


def test_special_files_that_are_not_selected_are_skipped(tmp_path):
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "1.png").write_bytes(PNG)
    os.mkfifo(tmp_path / "tree" / "control.fifo")
    result = import_folder(tmp_path / "tree", tmp_path / "out.msgpack", progress=False)
    assert result.samples == 1


def test_the_cli_refuses_a_list_naming_a_fifo_in_one_line(tmp_path):
    os.mkfifo(tmp_path / "pipe.png")
    write_csv(tmp_path / "list.csv", [{"path": "pipe.png"}])
    line = one_line_error(run_cli(["import", "list.csv", "out.msgpack", "-q"], tmp_path))
    assert "list.csv row 1" in line and "pipe.png" in line


def test_the_cli_refuses_a_path_outside_root_in_one_line(tmp_path, rooted):
    write_csv(tmp_path / "list.csv", [{"path": "../secret.png"}])
    line = one_line_error(run_cli(["import", "list.csv", "out.msgpack", "--root", "root", "-q"], tmp_path))
    assert "list.csv row 1" in line and "outside --root" in line


# --- tar shards: members are bounded ---


def zeros_member(archive: tarfile.TarFile, name: str, size: int) -> None:
    """Stream ``size`` zero bytes into ``archive`` as member ``name`` (never all in memory)."""

    class Zeros(io.RawIOBase):
        def __init__(self) -> None:
            self.left = size

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:  # noqa: ANN001
            n = min(len(buffer), self.left)
            buffer[:n] = bytes(n)
            self.left -= n
            return n

    info = tarfile.TarInfo(name)
    info.size = size
    archive.addfile(info, io.BufferedReader(Zeros(), 1 << 20))


def add_member(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


@pytest.fixture
def bomb(tmp_path):
    """A .tar.gz of a few hundred KiB whose second sample's member expands to 64 MiB."""
    path = tmp_path / "bomb.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=1) as archive:
        add_member(archive, "a.png", PNG)
        zeros_member(archive, "b.bin", 64 << 20)
    assert path.stat().st_size < 2 << 20
    return path


def test_a_member_larger_than_the_limit_is_refused_naming_tar_and_member(tmp_path, bomb):
    code = f"import_webdataset({str(bomb)!r}, 'out.msgpack', max_member_size=1 << 20, progress=False)"
    message = refused(code, tmp_path)
    assert str(bomb) in message and "b.bin" in message and "max_member_size" in message
    assert not (tmp_path / "out.msgpack").exists()


def test_the_members_of_one_sample_are_bounded_together(tmp_path):
    path = tmp_path / "wide.tar"
    with tarfile.open(path, "w") as archive:
        add_member(archive, "s1.png", PNG)
        add_member(archive, "s1.a.bin", bytes(600 << 10))
        add_member(archive, "s1.b.bin", bytes(600 << 10))
    with pytest.raises(ImportDataError, match=r"wide\.tar: member s1\.b\.bin: the members of sample 's1' take more"):
        import_webdataset(path, tmp_path / "out.msgpack", max_member_size=1 << 20, progress=False)


def test_members_within_the_limit_are_imported(tmp_path, bomb):
    result = import_webdataset(bomb, tmp_path / "out.msgpack", max_member_size=64 << 20, progress=False)
    assert result.samples == 2


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2", "w:xz"])
def test_plain_and_compressed_shards_stream_the_same_samples(tmp_path, mode):
    path = tmp_path / f"shard.tar{'.' + mode[2:] if ':' in mode else ''}"
    with tarfile.open(path, mode) as archive:
        for i in range(3):
            add_member(archive, f"s{i}.png", PNG + bytes([i]))
            add_member(archive, f"s{i}.meta.json", json.dumps({"i": i}).encode())
    import_webdataset(path, tmp_path / "out.msgpack", progress=False)
    with MsgpackReader(tmp_path / "out.msgpack") as reader:
        assert [(s["key"], s["image"], s["meta"]) for s in reader] == [
            (f"s{i}", PNG + bytes([i]), {"i": i}) for i in range(3)
        ]


def test_a_header_declaring_a_huge_member_is_refused_before_reading(tmp_path):
    """The header says 3 GiB (the default limit is 1 GiB) but the file holds a few bytes."""
    header = tarfile.TarInfo("big.png")
    header.size = 3 << 30
    path = tmp_path / "lies.tar"
    path.write_bytes(header.tobuf(format=tarfile.GNU_FORMAT) + PNG + bytes(1024))
    code = f"import_webdataset({str(path)!r}, 'out.msgpack', progress=False)"
    message = refused(code, tmp_path)
    assert "lies.tar" in message and "big.png" in message and str(3 << 30) in message


def test_a_huge_long_name_header_is_refused(tmp_path):
    """A GNU long-name header of 64 MiB: tarfile would read it whole before any member is seen."""
    header = tarfile.TarInfo("././@LongLink")
    header.type = tarfile.GNUTYPE_LONGNAME
    header.size = 64 << 20
    path = tmp_path / "longname.tar.gz"
    import gzip

    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(header.tobuf(format=tarfile.GNU_FORMAT))
        chunk = b"a" * (1 << 20)
        for _ in range(64):
            f.write(chunk)
        f.write(bytes(2048))
    code = f"import_webdataset({str(path)!r}, 'out.msgpack', progress=False)"
    message = refused(code, tmp_path)
    assert "longname.tar.gz" in message and "headers take more than 16 MiB" in message


def test_the_cli_takes_max_member_size_and_refuses_in_one_line(tmp_path, bomb):
    line = one_line_error(run_cli(["import", str(bomb), "out.msgpack", "--max-member-size", "1MiB", "-q"], tmp_path))
    assert "bomb.tar.gz" in line and "b.bin" in line and "--max-member-size" in line


# --- brace patterns are bounded ---


@pytest.mark.parametrize("pattern", ["x-{0..99999999}.tar", "x-{0..999}-{0..999}-{0..9}.tar", "{{1,2}..99999999}"])
def test_a_brace_pattern_of_too_many_names_is_refused(tmp_path, pattern):
    message = refused(
        f"from dings.tools.importing.webdataset import expand_braces\nexpand_braces({pattern!r})",
        tmp_path,
        error="ValueError",
        module="builtins",
    )
    assert pattern in message and f"{MAX_EXPANSION:,}" in message


def test_a_brace_pattern_within_the_bound_expands(tmp_path):
    assert len(expand_braces("x-{0..999}-{0..99}.tar")) == 100_000


def test_the_cli_refuses_a_huge_brace_pattern_in_one_line(tmp_path):
    line = one_line_error(run_cli(["import", "x-{0..99999999}.tar", "out.msgpack", "-q"], tmp_path))
    assert "x-{0..99999999}.tar" in line


# --- deep JSON ---

DEEP = b"[" * 100_000 + b"]" * 100_000


def test_parse_json_turns_deep_nesting_into_an_error_naming_the_source():
    with pytest.raises(DamagedDataError, match=r"^somewhere: .*nested too deeply"):
        parse_json(DEEP, "somewhere")
    with pytest.raises(DamagedDataError, match=r"^somewhere: not valid JSON"):
        parse_json(b"{", "somewhere")
    with pytest.raises(ImportDataError, match=r"^elsewhere: "):
        parse_json(b"\xff", "elsewhere", ImportDataError)
    assert parse_json(b'{"a": [1]}', "x") == {"a": [1]}


def test_deep_label_names_json_is_a_corrupt_index(tmp_path):
    data = tmp_path / "d.msgpack"
    write_label_names(data, ["a"])
    (tmp_path / "d.msgpack.labels.json").write_bytes(DEEP)
    with pytest.raises(CorruptIndexError, match=r"d\.msgpack\.labels\.json: .*nested too deeply"):
        load_label_names(data)


def test_a_deep_commit_journal_is_an_incomplete_commit_naming_it(tmp_path):
    from dings.format import FileWriter, IncompleteCommitError

    with FileWriter(tmp_path / "d.msgpack", progress=False) as writer:
        writer.write({"key": "a"})
    (tmp_path / "d.msgpack.journal").write_bytes(DEEP)
    with pytest.raises(
        IncompleteCommitError, match=r"d\.msgpack\.journal: unreadable commit journal: .*nested too deeply"
    ):
        MsgpackReader(tmp_path / "d.msgpack")


def test_a_deep_json_member_is_refused_naming_it(tmp_path):
    path = tmp_path / "shard.tar"
    with tarfile.open(path, "w") as archive:
        add_member(archive, "s1.png", PNG)
        add_member(archive, "s1.meta.json", DEEP)
    with pytest.raises(ImportDataError, match=r"shard\.tar: member s1\.meta\.json: .*nested too deeply"):
        import_webdataset(path, tmp_path / "out.msgpack", progress=False)


def test_a_deep_json_line_is_refused_naming_file_and_line(tmp_path):
    (tmp_path / "a.png").write_bytes(PNG)
    (tmp_path / "list.jsonl").write_bytes(b'{"path": "a.png"}\n' + b'{"path": "a.png", "x": ' + DEEP + b"}\n")
    with pytest.raises(ImportDataError, match=r"list\.jsonl:2: .*nested too deeply"):
        import_list(tmp_path / "list.jsonl", tmp_path / "out.msgpack", progress=False)


def test_the_cli_refuses_deep_json_lines_in_one_line(tmp_path):
    (tmp_path / "list.jsonl").write_bytes(DEEP + b"\n")
    line = one_line_error(run_cli(["import", "list.jsonl", "out.msgpack", "-q"], tmp_path))
    assert "list.jsonl:1" in line


# --- long CSV fields ---


def test_a_long_csv_field_is_imported(tmp_path):
    (tmp_path / "a.png").write_bytes(PNG)
    caption = "word " * (1 << 18)  # 1.25 MiB, over csv's default field limit of 128 KiB
    write_csv(tmp_path / "list.csv", [{"path": "a.png", "caption": caption}])
    import_list(tmp_path / "list.csv", tmp_path / "out.msgpack", progress=False)
    with MsgpackReader(tmp_path / "out.msgpack") as reader:
        assert reader[0]["caption"] == caption


def test_a_csv_field_over_the_limit_is_refused_naming_file_and_line(tmp_path):
    (tmp_path / "a.png").write_bytes(PNG)
    write_csv(
        tmp_path / "list.csv", [{"path": "a.png", "caption": "x"}, {"path": "a.png", "caption": "x" * (17 << 20)}]
    )
    with pytest.raises(ImportDataError, match=r"list\.csv:3: .*field larger than"):
        import_list(tmp_path / "list.csv", tmp_path / "out.msgpack", progress=False)
    assert csv.field_size_limit() == 128 * 1024  # the process-wide limit is left as it was


@pytest.mark.parametrize("name", ["list.csv", "list.jsonl"])
def test_a_list_that_is_not_utf8_is_refused_naming_it(tmp_path, name):
    (tmp_path / name).write_bytes(
        b'{"path": "a.png"}\n\xff\xfe\xfa\n' if name.endswith("jsonl") else b"path\n\xff.png\n"
    )
    with pytest.raises(ImportDataError, match=rf"{name.replace('.', '[.]')}: not UTF-8 text"):
        import_list(tmp_path / name, tmp_path / "out.msgpack", progress=False)
