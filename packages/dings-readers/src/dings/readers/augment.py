"""Augments: readers that wrap another reader and change the order or the extent of its samples.

Every augment is itself a :class:`~dings.readers.Reader`, so ``get``, slices, ``iter``, ``next``,
``seek``, ``in``, :meth:`~dings.readers.Reader.find_index` and :meth:`~dings.readers.Reader.find_key`
all work on it, and augments nest (``Range(Shuffler(reader), 0, 1000)``). Closing an augment, or
leaving its ``with`` block, closes the wrapped reader. ``copy.copy`` copies the wrapped reader too,
so the copy has its own read position all the way down. Augments are not thread safe.

As in datadings, an augment's ``iter`` takes ``yield_key, raw, copy, chunk_size`` in that order;
``start`` and ``stop`` are keyword-only (``Range(r, 1, 4).iter(True)`` yields ``(key, sample)``
pairs). An int given where ``yield_key`` goes raises ``TypeError`` rather than being taken as a flag.

Random order, seeds and epochs
    :class:`Shuffler` and :class:`QuasiShuffler` compute their order from ``(seed, epoch)`` only,
    with ``numpy.random.default_rng([seed, epoch])``. The same seed therefore gives the same orders
    on every machine and in every run. ``seed=None`` means a fixed default derived from the dataset
    length (as in datadings), so even unseeded runs repeat; pass e.g. ``secrets.randbits(64)`` for
    a different order per run.

    A *pass* is one read of all samples in order. A pass is complete once its last sample has been
    handed out by ``iter`` or ``next``. When iteration then starts again (``iter()``, another
    ``for`` loop, ``iter(start=0)``), the next pass starts with ``epoch + 1`` and a new order, like
    datadings, PyTorch's shuffling sampler and ``tf.data``'s default shuffle. A pass that stopped
    early keeps its epoch, so ``iter()`` continues it. ``seek(index)`` addresses passes as
    datadings does: position ``index % len`` of epoch ``index // len`` (so ``seek(i)`` with ``i <
    len`` is epoch 0); ``set_epoch(e)`` chooses an epoch and keeps the position.

    Random access (``get``, slices, ``find_index``, ``find_key``) uses the current epoch's
    order: ``shuffler[i]`` is the ``i``-th sample the current pass yields. Random access never
    starts a new pass.

How augments drive the reader they wrap
    :class:`Repeater` and :class:`Cycler` read the wrapped reader's passes one after another
    through its ``iter``. If it is a shuffler, each repetition therefore gets a new order (like
    ``tf.data``'s ``shuffle().repeat()``). Their random access maps index ``i`` to the wrapped
    reader's index ``i % len(reader)`` in its current order. :class:`Range`, :class:`Shuffler`
    and :class:`QuasiShuffler` read the reader they wrap by index (single samples or contiguous
    ranges), never through its ``iter``. They never start a new pass of it. A ``Range`` over a
    ``Shuffler`` is therefore a fixed random subset, safe for train/validation splits.

The augments live in modules by job: :mod:`.wrapping` (the :class:`Augment` base),
:mod:`.shuffling`, :mod:`.repeating`, :mod:`.ranges` and :mod:`.subsets`; their orders come from
:mod:`.order`. This module keeps datadings' import path (``datadings.reader.augment``).
"""

from .ranges import Range
from .repeating import Cycler, Repeater
from .shuffling import QuasiShuffler, Shuffler
from .wrapping import Augment

__all__ = ["Augment", "Cycler", "QuasiShuffler", "Range", "Repeater", "Shuffler"]
