"""Loader: the same batches as IterableDataset + DataLoader, resumable, clean on errors and interrupts."""

from __future__ import annotations

import gc
import threading
from collections import Counter

import numpy as np
import pytest
import torch

from dings.format import FileWriter
from dings.readers import ListReader, MsgpackReader, ShardedReader
from dings.torch import BatchError, Column, DataLoader, IterableDataset, Loader

ORDERS = [dict(), dict(shuffle=True, seed=3), dict(quasi=True, chunk_size=4, seed=2)]


def reference(reader, batch_size, **options):
    dataset = IterableDataset(reader, batch_size=batch_size, **options)
    return [b["i"].tolist() for b in DataLoader(dataset, batch_size=batch_size)]


def ids(loader):
    return [b["i"].tolist() for b in loader]


@pytest.mark.parametrize("options", ORDERS)
@pytest.mark.parametrize("threads", [1, 3])
def test_same_batches_as_iterable_dataset(make_reader, options, threads):
    reader = make_reader(23)
    loader = Loader(reader, 5, threads=threads, **options)
    assert ids(loader) == reference(reader, 5, **options)
    assert ids(loader) == reference(reader, 5, epoch=1, **options)  # the next epoch follows


@pytest.mark.parametrize("even", [True, "drop", False])
@pytest.mark.parametrize("world", [2, 3])
def test_ranks_share_every_epoch_like_iterable_dataset(make_reader, even, world):
    reader = make_reader(23)
    seen = Counter()
    counts = set()
    for rank in range(world):
        options = dict(shuffle=True, seed=1, even=even, rank=rank, world_size=world, epoch_size=19)
        batches = ids(Loader(reader, 4, **options))
        assert batches == reference(reader, 4, **options)
        seen.update(i for b in batches for i in b)
        counts.add(len(batches))
    if even != "none" and even is not False:
        assert len(counts) == 1
    if even is False:
        assert sum(seen.values()) == 19 and max(seen.values()) == 1


def test_fields_and_types(make_reader):
    batch = next(iter(Loader(make_reader(10), 4)))
    assert set(batch) == {"key", "i", "label", "data"}
    assert isinstance(batch["i"], torch.Tensor) and batch["i"].dtype == torch.int64
    assert isinstance(batch["key"], Column) and list(batch["key"]) == ["s00000", "s00001", "s00002", "s00003"]
    assert batch["data"][1] == bytes([1]) * 8
    numpy_batch = next(iter(Loader(make_reader(10), 4, numpy=True, keys=("label", "i"), tuples=True)))
    assert isinstance(numpy_batch, tuple) and isinstance(numpy_batch[0], np.ndarray)
    assert numpy_batch[1].tolist() == [0, 1, 2, 3]


def test_arrays_stack_and_batches_stay_valid_while_held(tmp_path):
    path = tmp_path / "arrays.msgpack"
    rng = np.random.default_rng(0)
    arrays = [rng.random((4, 5), dtype=np.float32) for _ in range(40)]
    with FileWriter(path, progress=False) as writer:
        for i, a in enumerate(arrays):
            writer.write({"key": f"k{i}", "x": a, "label": i})
    with MsgpackReader(path) as reader:
        batches = list(Loader(reader, 8, shuffle=True, threads=2, prefetch=1))  # all held at once
        for batch in batches:
            assert batch["x"].shape == (8, 4, 5)
            for row, label in zip(batch["x"], batch["label"].tolist()):
                assert np.array_equal(row.numpy(), arrays[label])


def test_set_epoch_and_length(make_reader):
    reader = make_reader(23)
    loader = Loader(reader, 5, shuffle=True)
    assert len(loader) == 5
    loader.set_epoch(4)
    assert ids(loader) == reference(reader, 5, shuffle=True, epoch=4)
    assert loader.epoch == 5
    assert len(Loader(reader, 5, drop_last=True)) == 4
    assert [len(b) for b in ids(Loader(reader, 5, drop_last=True))] == [5, 5, 5, 5]


@pytest.mark.parametrize("options", ORDERS)
def test_resume_the_rest_of_the_epoch_with_other_threads(make_reader, options):
    reader = make_reader(37)
    loader = Loader(reader, 4, threads=2, epoch=2, **options)
    head = []
    for batch in loader:
        head.append(batch["i"].tolist())
        if len(head) == 3:
            break
    state = loader.state_dict()
    assert state["epoch"] == 2 and state["consumed"] == 12
    resumed = Loader(reader, 4, threads=3, **options)
    resumed.load_state_dict(state)
    resumed.set_epoch(2)  # a loop calling set_epoch at the top of every epoch keeps the resume position
    rest = ids(resumed)
    whole = reference(reader, 4, epoch=2, **options)
    assert sorted(i for b in head + rest for i in b) == sorted(i for b in whole for i in b)
    if options.get("quasi"):
        return  # batches are shuffled within; the sets match
    assert head + rest == whole
    assert resumed.state_dict()["epoch"] == 3
    state = IterableDataset(reader, batch_size=4, **options).state_dict()  # states of both are interchangeable
    Loader(reader, 4, **options).load_state_dict(state)


def test_state_of_another_order_is_refused(make_reader):
    reader = make_reader(10)
    with pytest.raises(ValueError, match="seed"):
        Loader(reader, 2, shuffle=True, seed=1).load_state_dict(Loader(reader, 2, shuffle=True, seed=2).state_dict())


def test_transforms_per_field_per_sample_and_per_batch(make_reader):
    reader = make_reader(10)
    loader = Loader(
        reader,
        4,
        keys=("i", "data"),
        transforms={"data": lambda b: np.frombuffer(b, dtype=np.uint8).astype(np.int16) * 2},
        batch_transform=lambda batch: {**batch, "n": len(batch["i"])},
    )
    batch = next(iter(loader))
    assert batch["data"].shape == (4, 8) and batch["data"].dtype == torch.int16
    assert batch["data"][3].tolist() == [6] * 8 and batch["n"] == 4
    whole = Loader(reader, 4, transforms=lambda s: {"twice": s["i"] * 2, "key": s["key"]})
    assert [b["twice"].tolist() for b in whole] == [[0, 2, 4, 6], [8, 10, 12, 14], [16, 18]]


def test_other_readers_through_read_spans(tmp_path, memory):
    assert ids(Loader(memory(11), 4, shuffle=True)) == reference(memory(11), 4, shuffle=True)
    for part in range(2):
        with FileWriter(tmp_path / f"part-{part:05d}.msgpack", progress=False) as writer:
            for i in range(7):
                writer.write({"key": f"p{part}-{i}", "i": part * 7 + i})
    with ShardedReader(tmp_path / "part-*.msgpack") as reader:
        assert ids(Loader(reader, 5, shuffle=True, seed=4)) == reference(reader, 5, shuffle=True, seed=4)


def live_threads():
    return {t for t in threading.enumerate() if t.name.startswith("dings-loader")}


def test_a_bad_sample_names_key_and_field_and_stops_cleanly(tmp_path):
    path = tmp_path / "bad.msgpack"
    with FileWriter(path, progress=False) as writer:
        for i in range(20):
            writer.write({"key": f"k{i}", "x": np.zeros(3 if i != 13 else 4), "label": i})
    with MsgpackReader(path) as reader:
        with pytest.raises(BatchError, match=r"field 'x' of sample 'k13'"):
            for _ in Loader(reader, 4, threads=2):
                pass
        gc.collect()
        assert not live_threads()
        with pytest.raises(BatchError, match=r"sample 'k0' has no field 'y'"):
            list(Loader(reader, 4, keys=("x", "y")))


def test_a_failing_transform_names_key_and_field(make_reader):
    def fail_on_seven(value):
        if value == 7:
            raise RuntimeError("boom")
        return value

    with pytest.raises(BatchError, match=r"transform of field 'i' failed on sample 's00007': RuntimeError: boom"):
        list(Loader(make_reader(12), 4, transforms={"i": fail_on_seven}))
    gc.collect()
    assert not live_threads()


def test_interrupt_in_the_training_loop_leaves_no_threads(make_reader):
    reader = make_reader(200)
    with pytest.raises(KeyboardInterrupt):
        for count, _ in enumerate(Loader(reader, 3, threads=3, prefetch=4)):
            if count == 2:
                raise KeyboardInterrupt
    gc.collect()
    assert not live_threads()
    iterator = iter(Loader(reader, 3, threads=2))
    next(iterator)
    iterator.close()
    assert not live_threads()


def test_bad_arguments_are_named(make_reader):
    reader = make_reader(3)
    with pytest.raises(ValueError, match="batch_size"):
        Loader(reader, 0)
    with pytest.raises(ValueError, match="threads"):
        Loader(reader, 2, threads=0)
    with pytest.raises(ValueError, match="tuples"):
        Loader(reader, 2, tuples=True)
    with pytest.raises(TypeError, match="keys"):
        Loader(reader, 2, keys="label")
    with pytest.raises(TypeError, match="reader"):
        Loader([1, 2], 2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="pinned memory needs a CUDA device")
def test_pin_memory(make_reader):
    batch = next(iter(Loader(make_reader(8), 4, pin_memory=True)))
    assert batch["i"].is_pinned()


class SplitSpans(ListReader):
    """A reader answering read_spans with two buffers, the positions interleaved (as shards do)."""

    def read_spans(self, indices):
        whole = super().read_spans(indices)[0]
        odd = np.arange(len(indices)) % 2 == 1
        return [whole._replace(starts=whole.starts[m], stops=whole.stops[m], where=whole.where[m]) for m in (odd, ~odd)]


def test_batches_from_several_spans_are_merged_by_position():
    samples = [{"key": f"s{i}", "i": i, "x": np.full(3, i, dtype=np.float32)} for i in range(13)]
    loader = Loader(SplitSpans(samples), 4, shuffle=True, seed=5)
    batches = list(loader)
    assert [b["i"].tolist() for b in batches] == reference(ListReader(samples), 4, shuffle=True, seed=5)
    for batch in batches:
        assert batch["x"][:, 0].tolist() == batch["i"].tolist() and batch["x"].dtype == torch.float32
        assert list(batch["key"]) == [f"s{i}" for i in batch["i"].tolist()]


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_small_batches_decoded_in_groups_keep_order(make_reader, threads):
    reader = make_reader(500)
    options = dict(shuffle=True, seed=9, even=False, rank=1, world_size=2)
    loader = Loader(reader, 7, threads=threads, **options)
    assert (
        ids(loader)
        == reference(reader, 7, **options)
        == ids(loader.__class__(reader, 7, threads=1, prefetch=1, **options))
    )
    assert loader._sample_bytes < 100  # known after the first epoch: later tasks decode groups
    assert ids(loader) == reference(reader, 7, epoch=1, **options)


def shm_segments():
    import os

    return (
        {name for name in os.listdir("/dev/shm") if name.startswith("dings-loader-")}
        if os.path.isdir("/dev/shm")
        else set()
    )


def live_processes():
    import multiprocessing

    return [p for p in multiprocessing.active_children() if p.name.startswith("dings-loader")]


@pytest.mark.parametrize("options", ORDERS)
def test_processes_give_the_same_batches_through_shared_memory(tmp_path, options):
    path = tmp_path / "arrays.msgpack"
    arrays = [np.full((3, 4), i, dtype=np.float32) for i in range(61)]
    with FileWriter(path, progress=False) as writer:
        for i, a in enumerate(arrays):
            writer.write({"key": f"k{i}", "x": a, "i": i, "name": f"n{i}"})
    with MsgpackReader(path) as reader:
        loader = Loader(reader, 6, processes=2, transforms={"name": str.upper}, **options)
        held = list(loader)  # all held: slots are not reused while their batches live
        assert [b["i"].tolist() for b in held] == reference(reader, 6, **options)
        for batch in held:
            assert batch["x"].shape[1:] == (3, 4) and batch["x"][:, 0, 0].tolist() == batch["i"].tolist()
            assert list(batch["name"]) == [f"N{i}" for i in batch["i"].tolist()]
        again = [b["i"].tolist() for b in loader]  # the next epoch, slots reused as batches are dropped
        assert again == reference(reader, 6, epoch=1, **options)
        state_loader = Loader(reader, 6, processes=3, **options)
        for count, _ in enumerate(state_loader, 1):
            if count == 4:
                break
        resumed = Loader(reader, 6, threads=1, **options)
        resumed.load_state_dict(state_loader.state_dict())
        assert sorted(i for b in ids(resumed) for i in b) == sorted(i for b in held[4:] for i in b["i"].tolist())
        del held, batch
    gc.collect()
    assert not live_processes() and not shm_segments()


def test_processes_stop_cleanly_on_errors_and_interrupts(make_reader):
    reader = make_reader(300)

    def fail_on_seven(value):
        if value == 207:
            raise RuntimeError("boom")
        return value

    with pytest.raises(BatchError, match=r"transform of field 'i' failed on sample 's00207': RuntimeError: boom"):
        list(Loader(reader, 4, processes=2, transforms={"i": fail_on_seven}))
    with pytest.raises(KeyboardInterrupt):
        for count, _ in enumerate(Loader(reader, 4, processes=2)):
            if count == 3:
                raise KeyboardInterrupt
    gc.collect()
    assert not live_processes() and not shm_segments()


def test_a_transform_whose_result_changes_shape_names_key_and_field(make_reader):
    def grow(value):
        return np.zeros(2 if value < 5 else 3)

    with pytest.raises(BatchError, match=r"field 'i' returned a float64 array of shape \(3,\) for sample 's00005'"):
        list(Loader(make_reader(8), 8, transforms={"i": grow}))


def test_one_batch_of_chosen_indices_and_pin_memory_without_cuda(make_reader):
    loader = Loader(make_reader(10), 4)
    assert loader.batch([7, 2, 2])["i"].tolist() == [7, 2, 2]
    if not torch.cuda.is_available():
        with pytest.warns(UserWarning, match="no CUDA device"):
            pinned = Loader(make_reader(10), 4, pin_memory=True)
        assert next(iter(pinned))["i"].tolist() == [0, 1, 2, 3]
