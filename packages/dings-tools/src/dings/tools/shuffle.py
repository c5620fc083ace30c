"""``shuffle``: write a dataset's samples in a new random order."""

from __future__ import annotations

import os
from pathlib import Path

from dings.readers import QuasiShuffler, Shuffler

from ._dataset import DatasetSpec, check_outputs, input_label_names, input_name, input_paths, open_reader, write_raw

__all__ = ["shuffle"]


def shuffle(
    infile: DatasetSpec,
    outfile: str | os.PathLike,
    true_shuffle: bool = False,
    buf_size: float = 0.01,
    chunk_size: int = 16,
    seed: int | None = None,
    *,
    overwrite: bool = False,
    progress: bool | None = True,
) -> Path:
    """Write the samples of ``infile`` to ``outfile`` in a random order, without decoding them.

    By default the fast chunked shuffle of :class:`dings.readers.QuasiShuffler` is used: chunks
    of ``chunk_size`` consecutive samples are read in random order through a buffer of
    ``buf_size`` samples, so reading stays mostly sequential and memory stays bounded (the
    order itself needs 16 bytes per sample). ``true_shuffle`` uses
    :class:`dings.readers.Shuffler` instead: a uniformly random permutation, read by random
    access (slower on disks that seek).

    The same ``seed`` (and the same other arguments) gives the same output. ``None`` is the
    readers' fixed default seed (derived from the length), so unseeded runs repeat too.

    Args:
        infile: the dataset to shuffle: a data file (``NAME.msgpack`` or any of its index files), a
            shard pattern, a folder, a manifest or a list of them.
        outfile: the data file to write; written atomically with index and md5 files.
        true_shuffle: uniformly random order instead of the chunked one.
        buf_size: buffer size in samples; a value below 1 is a fraction of the dataset length.
        chunk_size: consecutive samples read together by the chunked shuffle.
        seed: non-negative int; ``None`` for the default.
        overwrite: replace an existing ``outfile``; otherwise ``FileExistsError`` (never a prompt).
        progress: show a progress bar.

    Returns:
        The path written.

    Raises:
        FileNotFoundError: ``infile`` or its index is missing.
        FileExistsError: ``outfile`` exists and ``overwrite`` is false.
        ValueError: ``outfile`` is ``infile``, or ``buf_size``/``chunk_size``/``seed`` is invalid.
    """
    target = Path(outfile)
    check_outputs([target], input_paths(infile), overwrite)
    reader, _ = open_reader(infile)
    with reader:
        order = Shuffler(reader, seed) if true_shuffle else QuasiShuffler(reader, buf_size, chunk_size, seed)
        items = order.iter(start=0, yield_key=True, raw=True, copy=False)
        names = input_label_names(infile)
        write_raw(items, target, len(order), f"shuffle {input_name(infile).name}", progress, names)
    return target
