"""cat, info, verify and bench end to end, with their failure cases."""

from __future__ import annotations

import json

import pytest


def test_cat_prints_abbreviated_samples(cli, dataset):
    result = cli.run("cat", str(dataset), "--start", "2", "-n", "2")
    assert result.returncode == 0, result.stderr
    blocks = result.stdout.strip().split("\n\n")
    assert len(blocks) == 2
    assert blocks[0].splitlines()[0] == "key: 's002'"
    assert "<PNG image 8x8" in blocks[0]
    assert "label: 2" in blocks[0]
    assert blocks[1].startswith("key: 's003'")


def test_cat_maxstring_cuts_long_strings(cli, tmp_path):
    from dings.format import FileWriter

    path = tmp_path / "text.msgpack"
    with FileWriter(path, progress=False) as writer:
        writer.write({"key": "a", "text": "x" * 500})
    result = cli.run("cat", str(path), "-s", "10")
    assert result.returncode == 0, result.stderr
    assert "(500 chars)" in result.stdout
    assert "x" * 11 not in result.stdout


@pytest.mark.parametrize("command", ["cat", "info", "preview"])
def test_missing_file_is_one_line_error(cli, tmp_path, command):
    extra = ["-o", str(tmp_path / "p.png")] if command == "preview" else []
    result = cli.run(command, str(tmp_path / "absent.msgpack"), *extra)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "absent.msgpack" in lines[0] and "no such file" in lines[0]


def test_folder_without_a_dataset(cli, tmp_path):
    # a folder is a dataset spec (its shards or its manifest); an empty one names no dataset
    result = cli.run("cat", str(tmp_path))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "holds no dataset" in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_format_names_the_file(cli, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a dataset\n")
    result = cli.run("info", str(path))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "notes.txt" in result.stderr and "index" in result.stderr


def test_debug_shows_the_traceback(cli, tmp_path):
    result = cli.run("--debug", "cat", str(tmp_path / "absent.msgpack"))
    assert result.returncode == 1
    assert "Traceback" in result.stderr


def test_info_text_and_json(cli, dataset):
    text = cli.run("info", str(dataset), "-q")
    assert text.returncode == 0, text.stderr
    assert "samples: 20" in text.stdout
    assert "md5: not checked (dings verify hashes every file)" in text.stdout
    assert text.stderr == ""
    result = cli.run("info", str(dataset), "--json", "--samples", "all", "--md5", "-q")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["length"] == 20
    assert doc["md5"] == "ok"
    assert doc["labels"] == {"0": 7, "1": 7, "2": 6}
    assert set(doc["keys"]) == {"key", "image", "label"}


def test_info_samples_must_be_a_number_or_all(cli, dataset):
    result = cli.run("info", str(dataset), "--samples", "many")
    assert result.returncode == 2
    assert "--samples" in result.stderr


def test_verify_ok_and_json(cli, dataset):
    result = cli.run("verify", str(dataset), "--deep", "-q")
    assert result.returncode == 0, result.stderr
    assert "OK (20 samples" in result.stdout
    assert "deep" in result.stdout
    doc = json.loads(cli.run("verify", str(dataset), "--json", "-q").stdout)
    assert doc[0]["ok"] is True and doc[0]["length"] == 20


def test_verify_finds_damage_and_exits_1(cli, dataset, tmp_path):
    good = cli.write_dataset(tmp_path / "good.msgpack")
    data = bytearray(dataset.read_bytes())
    data[100] ^= 0xFF
    dataset.write_bytes(bytes(data))
    result = cli.run("verify", str(good), str(dataset), "-q")
    assert result.returncode == 1
    assert "good.msgpack: OK" in result.stdout
    assert "data.msgpack: FAILED" in result.stdout
    assert "md5" in result.stdout
    doc = json.loads(cli.run("verify", str(dataset), "--json", "-q").stdout)
    assert doc[0]["ok"] is False and doc[0]["problems"]
    # the per-sample checksums name the damaged sample, by index and key
    from dings.format import load_offsets

    offsets = load_offsets(dataset).tolist()
    index = next(i for i, (a, b) in enumerate(zip(offsets, offsets[1:])) if a <= 100 < b)
    assert doc[0]["damaged"] == [index] and len(doc[0]["damaged_keys"]) == 1
    assert f"1 damaged sample(s) (checksum mismatch): {index} (key {doc[0]['damaged_keys'][0]!r})" in result.stdout


def test_verify_missing_dataset_fails(cli, tmp_path):
    result = cli.run("verify", str(tmp_path / "absent.msgpack"), "-q")
    assert result.returncode == 1
    assert "data file is missing" in result.stdout


def test_bench_text_and_json(cli, dataset):
    result = cli.run("bench", str(dataset), "-q")
    assert result.returncode == 0, result.stderr
    assert "20 samples" in result.stdout and "samples/s" in result.stdout
    doc = json.loads(cli.run("bench", str(dataset), "--raw", "--shuffle", "--json", "-q").stdout)
    assert doc["samples"] == 20 and doc["raw"] is True and doc["shuffle"] is True
    assert doc["nbytes"] == dataset.stat().st_size


def test_bench_reads_a_directory_tree(cli, tmp_path):
    folder = tmp_path / "images" / "cat"
    folder.mkdir(parents=True)
    for i in range(3):
        (folder / f"{i}.png").write_bytes(cli.png(i))
    doc = json.loads(cli.run("bench", str(tmp_path / "images"), "--json", "-q").stdout)
    assert doc["samples"] == 3
    assert doc["nbytes"] == sum(len(cli.png(i)) for i in range(3))
