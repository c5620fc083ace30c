"""The README's IterableDataset + DataLoader over array samples: no useless warning, and a useful one (issue 19, #13)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dings.format import FileWriter  # noqa: E402
from dings.readers import MsgpackReader  # noqa: E402
from dings.torch import DataLoader, IterableDataset  # noqa: E402

SCRIPT = """
import numpy as np, sys
from dings.format import FileWriter
from dings.readers import MsgpackReader
from dings.torch import DataLoader, IterableDataset

path = sys.argv[1]
with FileWriter(path, progress=False) as writer:
    for i in range(32):
        writer.write({"key": str(i), "x": np.arange(6, dtype=np.float32).reshape(2, 3) + i, "label": i % 3})
dataset = IterableDataset(MsgpackReader(path), batch_size=8, shuffle=True, seed=0)
seen = []
for batch in DataLoader(dataset, batch_size=8, num_workers=2):
    seen += batch["label"].tolist()
    assert batch["x"].shape[1:] == (2, 3)
print("samples", len(seen))
"""


def test_readme_loader_over_array_samples_warns_nothing(tmp_path):
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", textwrap.dedent(SCRIPT), str(tmp_path / "a.msgpack")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["samples", "32"]
    assert "not writable" not in result.stderr and "Warning" not in result.stderr


def _dataset(path):
    with FileWriter(path, progress=False) as writer:
        for i in range(8):
            writer.write({"key": str(i), "x": np.full(3, i, dtype=np.int16)})
    return MsgpackReader(path)


def test_a_dataset_without_the_loaders_batch_size_is_warned_about(tmp_path):
    with _dataset(tmp_path / "d.msgpack") as reader:
        with pytest.warns(UserWarning, match=r"IterableDataset\(batch_size=1\) but DataLoader\(batch_size=4\)"):
            DataLoader(IterableDataset(reader), batch_size=4)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            loader = DataLoader(IterableDataset(reader, batch_size=4), batch_size=4)
            batches = list(loader)
    assert [b["x"].shape for b in batches] == [(4, 3), (4, 3)]
    assert sorted(torch.cat([b["x"][:, 0] for b in batches]).tolist()) == list(range(8))
