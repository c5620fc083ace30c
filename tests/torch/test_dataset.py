"""The map-style Dataset: transforms in dict and callable form, rng parameters, parity with datadings."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from dings.readers import MsgpackReader
from dings.torch import Compose, Dataset, SharedMemoryReader


def add(v, number):
    return v + number


def test_dict_transforms_use_the_rng_parameters_and_keep_them(make_reader):
    reader = make_reader(10)
    seen = []

    def rng(sample):
        seen.append(sample["key"])
        return {"number": sample["i"] * 10}

    ds = Dataset(reader, transforms={"i": Compose(add)}, rng=rng)
    assert len(ds) == 10
    sample = ds[3]
    assert sample["i"] == 33 and sample["__params__"] == {"number": 30} and seen == ["s00003"]
    assert sample["label"] == 3 and sample["key"] == "s00003"  # untouched keys stay


def test_callable_transform_gets_the_whole_sample(make_reader):
    ds = Dataset(make_reader(4), transforms=lambda s: {"both": s["i"] + s["label"]})
    assert [ds[i]["both"] for i in range(4)] == [0, 2, 4, 6]
    assert Dataset(make_reader(3))[2]["i"] == 2


def test_matches_datadings_dataset_on_the_same_file(make_file):
    from datadings.reader import MsgpackReader as TheirReader
    from datadings.torch import Dataset as TheirDataset

    path = make_file(12)

    def rng(sample):
        return {"number": sample["i"] * 2}

    transforms = {"i": Compose(add)}
    ours = Dataset(MsgpackReader(path), transforms=transforms, rng=rng)
    theirs = TheirDataset(TheirReader(path), transforms=transforms, rng=rng)
    assert len(ours) == len(theirs)
    for i in range(len(ours)):
        assert ours[i] == theirs[i]


def test_works_with_a_dataloader_and_workers(make_reader):
    ds = Dataset(make_reader(20), transforms={"i": Compose(add)}, rng=lambda s: {"number": 1})
    loader = DataLoader(ds, batch_size=8, num_workers=2, shuffle=True, generator=torch.Generator().manual_seed(0))
    values = sorted(torch.cat([batch["i"] for batch in loader]).tolist())
    assert values == list(range(1, 21))


def test_bad_arguments_are_named(make_reader):
    reader = make_reader(2)
    with pytest.raises(TypeError, match="dings reader"):
        Dataset([1, 2, 3])
    with pytest.raises(TypeError, match="rng must be a callable"):
        Dataset(reader, rng=5)
    with pytest.raises(TypeError, match=r"transforms\['i'\]"):
        Dataset(reader, transforms={"i": 5})
    with pytest.raises(TypeError, match="transforms must be"):
        Dataset(reader, transforms=5)
    with pytest.raises(KeyError, match="transforms has key 'nope'"):
        Dataset(reader, transforms={"nope": Compose(add)}, rng=lambda s: {"number": 1})[0]


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="needs a /dev/shm tmpfs")
def test_shared_memory_option(make_reader, memory):
    reader = make_reader(6)
    ds = Dataset(reader, shared_memory=True)
    try:
        assert isinstance(ds.reader, SharedMemoryReader) and ds.reader.path.parent == ds.reader.folder
        assert str(ds.reader.path).startswith("/dev/shm/") and [ds[i]["i"] for i in range(6)] == list(range(6))
        assert Dataset(ds.reader, shared_memory=True).reader is ds.reader  # already shared
    finally:
        ds.reader.close()
    assert not ds.reader.folder.exists()
    with pytest.raises(ValueError, match="shared_memory=True needs a MsgpackReader"):
        Dataset(memory(3), shared_memory=True)
