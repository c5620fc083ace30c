"""Sample wrappers: SelectKeys, LabelSmoothing, Mixup, CutMix, MixupCutMix over map-style and
iterable datasets, with recorded parameters and clear errors."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from dings.readers import ListReader
from dings.torch import (
    CutMix,
    Dataset,
    IterableDataset,
    LabelSmoothing,
    Mixup,
    MixupCutMix,
    SelectKeys,
    soft_label,
)

N = 12


def images(count=N, shape=(3, 6, 8), dtype=torch.float32):
    """Samples whose image is filled with the sample number and whose label is that number."""
    samples = [{"key": f"k{i}", "image": torch.full(shape, float(i), dtype=dtype), "label": i} for i in range(count)]
    return ListReader(samples, numeric_labels=False)


@pytest.fixture(params=["map", "iterable"])
def kind(request):
    return request.param


def dataset(kind, reader=None, **options):
    reader = images() if reader is None else reader
    if kind == "map":
        return Dataset(reader, **options)
    return IterableDataset(reader, batch_size=4, **options)


def samples_of(ds):
    if isinstance(ds, torch.utils.data.IterableDataset):
        return list(ds)
    return [ds[i] for i in range(len(ds))]


def test_wrapper_has_the_kind_of_the_dataset_it_wraps(kind):
    wrapped = SelectKeys(dataset(kind))
    assert isinstance(wrapped, SelectKeys)
    assert isinstance(wrapped, torch.utils.data.IterableDataset) == (kind == "iterable")
    assert len(wrapped) == N
    again = pickle.loads(pickle.dumps(LabelSmoothing(wrapped.dataset, 0.1, N)))
    assert type(again) is type(LabelSmoothing(wrapped.dataset, 0.1, N)) and again.smoothing == 0.1
    with pytest.raises(TypeError, match="map-style dataset or a torch IterableDataset"):
        SelectKeys(5)


def test_select_keys_returns_tuples_and_parameters(kind):
    rng = lambda sample: {"flip": sample["label"] % 2 == 1}  # noqa: E731
    ds = dataset(kind, transforms={"image": lambda image, params: image.flip(-1) if params["flip"] else image}, rng=rng)
    pairs = samples_of(SelectKeys(ds, ("label", "key")))
    assert pairs == [(i, f"k{i}") for i in range(N)]
    with_params = samples_of(SelectKeys(ds, with_params=True))
    assert [params for _, params in with_params] == [{"flip": i % 2 == 1} for i in range(N)]
    image, label = with_params[3][0]
    assert label == 3 and image.shape == (3, 6, 8)
    assert samples_of(SelectKeys(dataset(kind), ("label",), with_params=True))[0] == ((0,), {})
    with pytest.raises(KeyError, match="has no key 'nope'"):
        samples_of(SelectKeys(ds, ("nope",)))
    with pytest.raises(TypeError, match="not the string"):
        SelectKeys(ds, "label")


def test_label_smoothing(kind):
    out = samples_of(LabelSmoothing(dataset(kind), smoothing=0.2, num_classes=N))
    expected = torch.full((N,), 0.2 / N)
    expected[5] += 0.8
    assert torch.allclose(out[5]["label"], expected) and torch.isclose(out[5]["label"].sum(), torch.tensor(1.0))
    soft = torch.tensor([0.5, 0.5, 0.0])
    assert torch.allclose(soft_label(soft, 3), soft)
    for bad in (
        dict(smoothing=1.0, num_classes=3),
        dict(smoothing=-0.1, num_classes=3),
        dict(smoothing=0.1, num_classes=0),
    ):
        with pytest.raises(ValueError):
            LabelSmoothing(dataset(kind), **bad)
    with pytest.raises(ValueError, match="num_classes"):
        soft_label(3, None)
    with pytest.raises(ValueError, match="out of range"):
        soft_label(3, 3)
    with pytest.raises(ValueError, match="vector of 3"):
        soft_label([0.5, 0.5], 3)


def test_mixup_blends_images_and_labels_consistently(kind):
    random.seed(0)
    out = samples_of(Mixup(dataset(kind), alpha=0.4, num_classes=N, record_params=True))
    assert [s["key"] for s in out] == [f"k{i}" for i in range(N)]  # every sample once, in order
    mixed = 0
    for i, sample in enumerate(out):
        params = sample["__params__"]
        lam = params["mix_lam"]
        partner = int(params["mix_partner"][1:])
        assert params["mix_kind"] == 1 and 0 <= lam <= 1
        assert torch.allclose(sample["image"], torch.full((3, 6, 8), lam * i + (1 - lam) * partner), atol=1e-5)
        expected = torch.zeros(N)
        expected[i] += lam
        expected[partner] += 1 - lam
        assert torch.allclose(sample["label"], expected, atol=1e-6)
        mixed += partner != i
    assert mixed >= N - 2


def test_cutmix_pastes_a_box_whose_area_sets_the_label(kind):
    random.seed(1)
    out = samples_of(CutMix(dataset(kind), alpha=1.0, num_classes=N, record_params=True))
    boxes = 0
    for i, sample in enumerate(out):
        params = sample["__params__"]
        partner = int(params["mix_partner"][1:])
        y0, x0, y1, x1 = params["mix_box"]
        expected = torch.full((3, 6, 8), float(i))
        expected[:, y0:y1, x0:x1] = float(partner)
        assert params["mix_kind"] == 2 and torch.equal(sample["image"], expected)
        assert params["mix_lam"] == pytest.approx(1 - (y1 - y0) * (x1 - x0) / 48)
        assert sample["label"][partner if partner != i else i].item() > 0
        assert sample["label"].sum().item() == pytest.approx(1.0)
        boxes += (y1 - y0) * (x1 - x0) > 0
    assert boxes > 0


def test_either_or_mixing_and_probability(kind):
    random.seed(2)
    kinds = [
        s["__params__"]["mix_kind"]
        for _ in range(4)
        for s in samples_of(MixupCutMix(dataset(kind), num_classes=N, record_params=True))
    ]
    assert set(kinds) == {1, 2}
    only_cut = {
        s["__params__"]["mix_kind"]
        for s in samples_of(MixupCutMix(dataset(kind), cutmix_p=1.0, num_classes=N, record_params=True))
    }
    assert only_cut == {2}
    untouched = samples_of(Mixup(dataset(kind), p=0.0, num_classes=N, record_params=True))
    assert all(s["__params__"]["mix_kind"] == 0 and s["__params__"]["mix_lam"] == 1.0 for s in untouched)
    assert torch.equal(untouched[4]["label"], soft_label(4, N)) and torch.equal(
        untouched[4]["image"], torch.full((3, 6, 8), 4.0)
    )


def test_mixing_keeps_integer_images_and_channels_last():
    random.seed(3)
    reader = images(shape=(6, 8, 3), dtype=torch.uint8)
    out = [Mixup(Dataset(reader), num_classes=N, channels_last=True)[i] for i in range(N)]
    assert all(s["image"].dtype == torch.uint8 for s in out)
    cut = CutMix(Dataset(reader), num_classes=N, channels_last=True, record_params=True)[5]
    y0, x0, y1, x1 = cut["__params__"]["mix_box"]
    assert y1 <= 6 and x1 <= 8  # the box is taken in (H, W), not in (W, C)
    arrays = ListReader(
        [{"key": f"a{i}", "image": np.full((2, 4, 4), i, dtype=np.uint8), "label": i} for i in range(3)],
        numeric_labels=False,
    )
    mixed = Mixup(Dataset(arrays), num_classes=3)[1]
    assert isinstance(mixed["image"], np.ndarray) and mixed["image"].dtype == np.uint8


def test_mixing_errors_are_clear():
    reader = ListReader(
        [
            {"key": "a", "image": torch.zeros(3, 4, 4), "label": 0},
            {"key": "b", "image": torch.zeros(3, 5, 5), "label": 1},
        ],
        numeric_labels=False,
    )
    with pytest.raises(ValueError, match=r"cannot mix images of shapes \(3, 4, 4\)"):
        for _ in range(20):
            Mixup(Dataset(reader), num_classes=2)[0]
    pil = ListReader([{"key": "a", "image": Image.new("RGB", (4, 4)), "label": 0}] * 1, numeric_labels=False)
    with pytest.raises(TypeError, match="into tensors or arrays"):
        Mixup(Dataset(pil), num_classes=1)[0]
    with pytest.raises(ValueError, match="num_classes"):
        Mixup(Dataset(images()))[0]
    for bad in (dict(alpha=0.0), dict(p=1.5), dict(pool=0), dict(num_classes=-1)):
        with pytest.raises(ValueError):
            Mixup(Dataset(images()), **bad)


def test_iterable_wrappers_keep_epochs_resuming_and_workers():
    base = IterableDataset(images(), batch_size=4, shuffle=True)
    wrapped = SelectKeys(Mixup(base, num_classes=N, record_params=True), ("image", "label", "key"))
    loader = DataLoader(wrapped, batch_size=4, num_workers=2)
    keys = [k for _, _, batch_keys in loader for k in batch_keys]
    assert sorted(keys) == sorted(f"k{i}" for i in range(N))
    wrapped.set_epoch(3)  # looked up on the wrapped dataset
    assert base.epoch == 3 and wrapped.state_dict(batches=0)["epoch"] == 3
