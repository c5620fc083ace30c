"""dings on a local Ray instance: the same dataset as a local write, retries, resume, S3, duplicates, Datasink/Datasource."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dings.format import DuplicateKeyError, PartitionedOutput, fingerprint, load_manifest, verify
from dings.readers import ShardedReader
from dings.tools import ImportDataError, write_partitioned

from ..ray_cluster import local_ray
from ..readers import remote_servers as _servers

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'dings-tools[ray]' (the hatch env has it)")
pytest.importorskip("ray.data", reason="Ray Data is not installed: pip install 'dings-tools[ray]'")


s3 = _servers.s3


@pytest.fixture(scope="module")
def cluster():
    """One local Ray instance (2 CPUs, 127.0.0.1) for the module; this module's functions go to the workers by value."""
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with local_ray() as context:
        yield context


def load(payload: list[int]):
    """Samples of a partition: one per number, content seeded by the number."""
    for i in payload:
        rng = np.random.default_rng(i)
        yield {
            "key": f"k{i:04d}",
            "label": i % 5,
            "data": rng.bytes(8 + i % 13),
            "array": rng.integers(0, 100, size=(2, i % 3 + 1)),
        }


def payloads(count: int = 5, size: int = 7) -> list[list[int]]:
    return [list(range(p * size, (p + 1) * size)) for p in range(count)]


def expected(parts: list[list[int]]) -> list[dict]:
    return [s for p in parts for s in load(p)]


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def read_all(pattern: str, **options) -> list[dict]:
    with ShardedReader(pattern, **options) as reader:
        return list(reader)


def equal(a: list[dict], b: list[dict]) -> bool:
    return len(a) == len(b) and all(
        x.keys() == y.keys() and all(np.array_equal(x[k], y[k]) for k in x) for x, y in zip(a, b)
    )


def test_ray_writes_the_same_bytes_as_a_local_write(cluster, tmp_path):
    on_ray = write_partitioned(payloads(), load, tmp_path / "ray" / "train", engine="ray", shard_size=3)
    local = write_partitioned(payloads(), load, tmp_path / "local" / "train", engine="local", shard_size=3)
    assert on_ray.written == local.written == [0, 1, 2, 3, 4] and on_ray.samples == 35
    assert files_of(tmp_path / "ray" / "train") == files_of(
        tmp_path / "local" / "train"
    )  # shards and manifest, byte for byte
    assert equal(read_all(str(tmp_path / "ray" / "train" / "train-*.msgpack")), expected(payloads()))


def killed_once(marker: str):
    """A load that kills its worker in the middle of partition 2, once (the marker file remembers)."""

    def run(payload: list[int]):
        for n, sample in enumerate(load(payload)):
            if payload[0] == 14 and n == 4 and not os.path.exists(marker):
                Path(marker).write_text("killed")
                os.kill(os.getpid(), signal.SIGKILL)
            yield sample

    return run


def test_a_killed_worker_is_retried_and_the_result_is_complete(cluster, tmp_path):
    marker = str(tmp_path / "killed")
    result = write_partitioned(payloads(), killed_once(marker), tmp_path / "train", engine="ray", shard_size=3)
    assert Path(marker).exists()  # the worker really died
    assert result.samples == 35 and result.written == [0, 1, 2, 3, 4]
    assert all(verify(p).ok for p in result.paths)
    assert equal(read_all(str(tmp_path / "train" / "train-*.msgpack")), expected(payloads()))
    assert not list((tmp_path / "train").glob(".*.tmp*"))  # the dead attempt's temporaries are gone


def failing(payload: list[int]):
    if payload[0] == 21:
        raise ImportDataError("k0021: unreadable image")
    yield from load(payload)


def test_a_stopped_job_resumes(cluster, tmp_path):
    with pytest.raises(ImportDataError, match="k0021: unreadable image"):  # the task's own exception, one line
        write_partitioned(payloads(), failing, tmp_path / "train", engine="ray")
    assert (
        not list((tmp_path / "train").glob("train-*.msgpack"))
        and not (tmp_path / "train" / "train.manifest.json").exists()
    )
    staged = PartitionedOutput(tmp_path / "train")
    done = [i for i, p in enumerate(payloads()) if staged.verified(i, fingerprint(p)) is not None]
    assert 3 not in done
    result = write_partitioned(payloads(), load, tmp_path / "train", engine="ray")
    assert result.skipped == done and result.written == [i for i in range(5) if i not in done]
    assert equal(read_all(str(tmp_path / "train" / "train-*.msgpack")), expected(payloads()))


def test_duplicate_keys_across_partitions_fail_and_leave_nothing_complete(cluster, tmp_path):
    parts = payloads(3)
    parts[2] = parts[2] + [3]  # k0003 is in partition 0 as well
    with pytest.raises(DuplicateKeyError, match=r"'k0003' is in partition 0 .* and in partition 2"):
        write_partitioned(parts, load, tmp_path / "train", engine="ray")
    assert (
        not list((tmp_path / "train").glob("train-*.msgpack"))
        and not (tmp_path / "train" / "train.manifest.json").exists()
    )


def test_output_to_s3(cluster, s3):
    url = f"s3://{s3.bucket}/sets/train"
    result = write_partitioned(payloads(), load, url, engine="ray", shard_size=4, storage_options=s3.options)
    assert result.samples == 35 and result.paths[0] == f"{url}/train-00000-00000.msgpack"
    s3.fs.invalidate_cache()
    names = [p.rsplit("/", 1)[-1] for p in s3.fs.ls(f"{s3.bucket}/sets/train", detail=False)]
    assert "train.manifest.json" in names and "train.partial" not in names
    manifest = json.loads(s3.fs.cat_file(f"{s3.bucket}/sets/train/train.manifest.json"))
    assert manifest["samples"] == 35 and len(manifest["shards"]) == len(result.paths) == 10
    assert equal(read_all(f"{url}/train-*.msgpack", storage_options=s3.options), expected(payloads()))
    from dings.tools.ray import read_dings

    rows = read_dings(url, storage_options=s3.options).take_all()  # the manifest lists the shards
    assert sorted(r["key"] for r in rows) == [s["key"] for s in expected(payloads())]
    with pytest.raises(FileExistsError, match="overwrite"):
        write_partitioned(payloads(2), load, url, engine="ray", storage_options=s3.options)
    smaller = write_partitioned(
        payloads(2), load, url, engine="ray", shard_size=4, storage_options=s3.options, overwrite=True
    )
    assert len(smaller.paths) == 4  # the older set's other shards went in the same commit
    assert equal(read_all(f"{url}/train-*.msgpack", storage_options=s3.options), expected(payloads(2)))


def test_datasink_and_datasource(cluster, tmp_path):
    from dings.tools.ray import DingsDatasink, read_dings

    samples = [
        {
            "key": f"s{i:03d}",
            "label": i % 4,
            "image": bytes([i]) * (i % 7 + 1),
            "array": np.full((2, 3), i, dtype=np.float32),
        }
        for i in range(60)
    ]
    dataset = ray.data.from_items(samples, override_num_blocks=3)
    dataset.write_datasink(DingsDatasink(tmp_path / "sink", shard_size=8))
    manifest = load_manifest(tmp_path / "sink")
    assert manifest["samples"] == 60 and manifest["partitions"] == 3
    written = sorted(read_all(str(tmp_path / "sink" / "sink-*.msgpack")), key=lambda s: s["key"])
    assert equal(written, samples)
    back = sorted(read_dings(str(tmp_path / "sink" / "sink-*.msgpack")).take_all(), key=lambda s: s["key"])
    assert equal([{k: r[k] for k in ("key", "label", "image", "array")} for r in back], samples)
    with pytest.raises(Exception, match="exists"):
        ray.data.from_items(samples[:5]).write_datasink(DingsDatasink(tmp_path / "sink"))


def test_cli_import_with_engine_ray(cluster, tmp_path):
    pytest.importorskip("PIL", reason="Pillow makes the test images")
    import io

    from PIL import Image

    for i in range(9):
        folder = tmp_path / "photos" / ["cat", "dog", "owl"][i % 3]
        folder.mkdir(parents=True, exist_ok=True)
        out = io.BytesIO()
        Image.fromarray(np.full((4, 4, 3), i * 20, dtype=np.uint8)).save(out, format="PNG")
        (folder / f"{i}.png").write_bytes(out.getvalue())
    dings = Path(sys.executable).with_name("dings")
    command = [
        str(dings),
        "import",
        str(tmp_path / "photos"),
        str(tmp_path / "out"),
        "--engine",
        "ray",
        "--address",
        cluster.address_info["gcs_address"],
        "--partition-size",
        "4",
        "-q",
    ]
    done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert done.returncode == 0, done.stderr
    assert [s["key"] for s in read_all(str(tmp_path / "out" / "out-*.msgpack"))] == sorted(
        f"{c}/{i}.png" for i, c in zip(range(9), ["cat", "dog", "owl"] * 3)
    )
    again = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert again.returncode == 1 and again.stderr.count("\n") == 1 and "pass -y/--no-confirm" in again.stderr


def square_unless_37(x: int) -> int:
    if x == 37:
        raise KeyError(f"item {x} is refused")
    return x * x


def test_ray_map_yields_results_in_input_order_and_raises_a_tasks_own_exception(cluster):
    from dings.tools import ray_map

    assert list(ray_map(square_unless_37, range(30), chunksize=4, max_pending=8)) == [x * x for x in range(30)]
    results = ray_map(square_unless_37, range(50), chunksize=4)
    assert [next(results) for _ in range(37)] == [x * x for x in range(37)]
    with pytest.raises(KeyError, match="item 37 is refused"):
        next(results)
    with pytest.raises(ValueError, match="chunksize and max_pending must be at least 1"):
        next(ray_map(square_unless_37, range(3), chunksize=0))
