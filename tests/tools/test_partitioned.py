"""write_partitioned and import_partitioned without an engine: in this process and as ranks of a job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from dings.format import load_label_names, load_manifest
from dings.readers import MsgpackReader, ShardedReader
from dings.tools import ImportDataError, import_partitioned, import_source, rank_from_env, write_partitioned


def load(payload: list[int]):
    """Samples of a partition: one per number, bytes seeded by the number."""
    for i in payload:
        yield {"key": f"k{i:04d}", "label": i % 3, "data": np.random.default_rng(i).bytes(4 + i % 9)}


def payloads(count: int = 4, size: int = 5) -> list[list[int]]:
    return [list(range(p * size, (p + 1) * size)) for p in range(count)]


def read_all(folder: Path, name: str) -> list[dict]:
    with ShardedReader(str(folder / f"{name}-*.msgpack")) as reader:
        return list(reader)


def test_local_engine_writes_every_partition_and_commits(tmp_path):
    result = write_partitioned(payloads(), load, tmp_path / "out", shard_size=2)
    assert result.samples == 20 and result.written == [0, 1, 2, 3] and result.skipped == []
    assert [Path(p).name for p in result.paths][:4] == [
        "out-00000-00000.msgpack",
        "out-00000-00001.msgpack",
        "out-00000-00002.msgpack",
        "out-00001-00000.msgpack",
    ]
    assert read_all(tmp_path / "out", "out") == [s for p in payloads() for s in load(p)]
    assert load_manifest(tmp_path / "out")["shards"][0]["samples"] == 2


def test_a_stopped_job_resumes_from_the_partitions_it_wrote(tmp_path):
    def failing(payload):
        if payload[0] == 10:
            raise ImportDataError("sample 10: unreadable")
        yield from load(payload)

    with pytest.raises(ImportDataError, match="sample 10"):
        write_partitioned(payloads(), failing, tmp_path / "out")
    assert not list((tmp_path / "out").glob("out-*.msgpack"))  # nothing looks complete
    result = write_partitioned(payloads(), load, tmp_path / "out")
    assert result.skipped == [0, 1] and result.written == [2, 3]
    assert read_all(tmp_path / "out", "out") == [s for p in payloads() for s in load(p)]


def test_changed_input_is_not_resumed(tmp_path):
    with pytest.raises(RuntimeError):
        write_partitioned(
            payloads(),
            lambda p: (_ for _ in ()).throw(RuntimeError("stop")) if p[0] == 15 else load(p),
            tmp_path / "out",
        )
    changed = payloads()
    changed[1] = [5, 6, 7]  # partition 1 now holds other samples: its old shards do not count
    result = write_partitioned(changed, load, tmp_path / "out")
    assert result.skipped == [0, 2] and result.written == [1, 3]
    assert [s["key"] for s in read_all(tmp_path / "out", "out")][5:8] == ["k0005", "k0006", "k0007"]


RANK_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from dings.tools import write_partitioned

    def load(payload):
        for i in payload:
            yield {"key": f"k{i:04d}", "label": i % 3, "data": np.random.default_rng(i).bytes(4 + i % 9)}

    parts = [list(range(p * 5, (p + 1) * 5)) for p in range(5)]
    try:
        result = write_partitioned(parts, load, sys.argv[1], engine="ranks", timeout=float(sys.argv[2]), shard_size=3)
    except TimeoutError as exc:
        print(json.dumps({"error": str(exc)}))
    else:
        print(json.dumps({"written": result.written, "committed": result.manifest is not None, "samples": result.samples}))
    """
)


def run_rank(rank: int, world: int, out: Path, timeout: float) -> subprocess.Popen:
    env = {**os.environ, "RANK": str(rank), "WORLD_SIZE": str(world)}
    return subprocess.Popen(
        [sys.executable, "-c", RANK_SCRIPT, str(out), str(timeout)], env=env, stdout=subprocess.PIPE, text=True
    )


def test_two_ranks_write_their_partitions_and_rank_0_commits(tmp_path):
    ranks = [run_rank(r, 2, tmp_path / "out", 120) for r in (0, 1)]
    outputs = [json.loads(p.communicate(timeout=180)[0]) for p in ranks]
    assert outputs[0] == {"written": [0, 2, 4], "committed": True, "samples": 25}
    assert outputs[1] == {"written": [1, 3], "committed": False, "samples": 10}
    assert read_all(tmp_path / "out", "out") == [s for p in payloads(5) for s in load(p)]
    assert not (tmp_path / "out" / "out.partial").exists()


def test_rank_0_gives_up_on_missing_ranks_with_a_clear_error(tmp_path):
    alone = run_rank(0, 3, tmp_path / "out", 0.5)
    error = json.loads(alone.communicate(timeout=120)[0])["error"]
    assert "3 of 3 partition(s) (1, 2, 4)" in error and "other ranks" in error
    assert not list((tmp_path / "out").glob("out-*.msgpack"))


def test_rank_from_env():
    assert rank_from_env({"RANK": "1", "WORLD_SIZE": "4"}) == (1, 4)
    assert rank_from_env({"SLURM_PROCID": "0", "SLURM_NTASKS": "2"}) == (0, 2)
    with pytest.raises(ValueError, match="RANK and WORLD_SIZE"):
        rank_from_env({})
    with pytest.raises(ValueError, match="below WORLD_SIZE"):
        rank_from_env({"RANK": "4", "WORLD_SIZE": "4"})


@pytest.fixture
def photos(tmp_path):
    pytest.importorskip("PIL", reason="Pillow makes the test images")
    import io

    from PIL import Image

    root = tmp_path / "photos"
    for i in range(11):
        folder = root / ["cat", "dog"][i % 2]
        folder.mkdir(parents=True, exist_ok=True)
        out = io.BytesIO()
        Image.fromarray(np.full((4, 4, 3), i * 20, dtype=np.uint8)).save(out, format="PNG")
        (folder / f"{i:02d}.png").write_bytes(out.getvalue())
    return root


def test_import_in_partitions_has_the_samples_of_a_plain_import(photos, tmp_path):
    plain = import_source(photos, tmp_path / "plain.msgpack", progress=False)
    result = import_partitioned(photos, tmp_path / "parts", "folder", partition_size=4, shard_size=3)
    assert result.samples == 11 and len(result.paths) == 5 and result.label_names == ["cat", "dog"]
    with MsgpackReader(plain.paths[0]) as reader:
        assert read_all(tmp_path / "parts", "parts") == list(reader)
    assert all(load_label_names(p) == ["cat", "dog"] for p in result.paths)


def test_import_in_partitions_names_the_bad_file(photos, tmp_path):
    (photos / "dog" / "zz.png").write_bytes(b"not an image")
    with pytest.raises(ImportDataError, match="zz.png: unreadable image"):
        import_partitioned(photos, tmp_path / "parts", "folder", partition_size=4)
    with pytest.raises(ValueError, match="--shuffle is not available"):
        import_partitioned(str(tmp_path / "x-{0..1}.tar"), tmp_path / "w", "webdataset", shuffle=True)


WITHOUT_RAY = textwrap.dedent(
    """
    import importlib.abc, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "ray":
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, Block())
    import dings.tools.ray
    from dings.tools import MissingExtraError
    try:
        dings.tools.ray.DingsDatasink("out")
    except MissingExtraError as exc:
        print(exc)
    """
)


def test_the_ray_module_imports_without_ray_and_says_what_to_install():
    done = subprocess.run([sys.executable, "-c", WITHOUT_RAY], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert 'pip install "dings-tools[ray]"' in done.stdout and done.stdout.count("\n") == 1
