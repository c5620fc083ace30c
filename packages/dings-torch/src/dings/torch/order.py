"""The global sample order of each epoch: sequential, shuffled, or quasi-shuffled in chunks.

All ranks and workers compute the same order from ``(seed, pass)`` alone, so no communication is
needed. The dataset is read in *passes*: pass ``p`` is one permutation of all ``N`` indices. The
passes are laid end to end into an endless *stream*; epoch ``e`` of an ``epoch_size=K`` dataset is
the stream's positions ``e*K … (e+1)*K - 1``, so an epoch starts where the previous one stopped.
Without ``epoch_size``, ``K = N`` and epoch ``e`` is exactly pass ``e``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["EpochOrder", "ORDER_MODES"]

#: the ways an epoch can be ordered
ORDER_MODES = ("sequential", "shuffle", "quasi")


class EpochOrder:
    """Maps positions of an epoch to dataset indices.

    Args:
        length: number of samples ``N`` in the dataset.
        mode: ``"sequential"`` (pass ``p`` is ``0 … N-1``), ``"shuffle"`` (a uniform permutation
            per pass, ``numpy.random.default_rng([seed, p]).permutation(N)``) or ``"quasi"``
            (runs of ``chunk`` consecutive indices, the runs in a random order per pass).
        seed: non-negative int; the same seed gives the same orders everywhere.
        epoch_size: samples per epoch ``K``; ``None`` for one pass per epoch.
        chunk: run length of the ``"quasi"`` mode.

    Raises:
        ValueError: unknown mode, negative seed, ``epoch_size < 1`` or ``chunk < 1``.
    """

    def __init__(self, length: int, mode: str = "sequential", seed: int = 0, epoch_size: int | None = None, chunk: int = 16) -> None:
        if mode not in ORDER_MODES:
            raise ValueError(f"order mode must be one of {ORDER_MODES}, got {mode!r}")
        if seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        if epoch_size is not None and epoch_size < 1:
            raise ValueError(f"epoch_size must be at least 1 (or None for one pass per epoch), got {epoch_size!r}")
        if chunk < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk!r}")
        self.length = length
        self.mode = mode
        self.seed = seed
        self.epoch_size = epoch_size
        self.chunk = chunk
        self._passes: dict[int, np.ndarray] = {}

    @property
    def epoch_length(self) -> int:
        """Samples per epoch (``K``); 0 for an empty dataset."""
        if self.length == 0:
            return 0
        return self.length if self.epoch_size is None else self.epoch_size

    def permutation(self, number: int) -> np.ndarray:
        """The dataset indices of pass ``number`` in order (read-only; the last two are cached)."""
        cached = self._passes.get(number)
        if cached is not None:
            return cached
        n = self.length
        if self.mode == "sequential":
            order = np.arange(n, dtype=np.int64)
        elif self.mode == "shuffle":
            order = np.random.default_rng([self.seed, number]).permutation(n).astype(np.int64, copy=False)
        else:
            order = self._chunked(np.random.default_rng([self.seed, number]))
        order.flags.writeable = False
        if len(self._passes) >= 2:
            self._passes.pop(next(iter(self._passes)))
        self._passes[number] = order
        return order

    def _chunked(self, rng: np.random.Generator) -> np.ndarray:
        n, chunk = self.length, self.chunk
        chunks = rng.permutation(-(-n // chunk)).astype(np.int64)
        starts = chunks * chunk
        sizes = np.minimum(chunk, n - starts)
        out_starts = np.cumsum(sizes) - sizes
        # position i of the pass, inside run k, is index starts[k] + (i - out_starts[k])
        return np.repeat(starts - out_starts, sizes) + np.arange(n, dtype=np.int64)

    def indices(self, epoch: int, start: int, stop: int) -> np.ndarray:
        """Dataset indices at positions ``start … stop - 1`` of ``epoch`` (``0 <= start <= stop <= K``)."""
        n = self.length
        if start >= stop:
            return np.empty(0, dtype=np.int64)
        first = epoch * self.epoch_length + start
        last = epoch * self.epoch_length + stop
        if self.mode == "sequential":
            return np.arange(first, last, dtype=np.int64) % n
        pieces = []
        position = first
        while position < last:
            number, offset = divmod(position, n)
            end = min(n, offset + last - position)
            pieces.append(self.permutation(number)[offset:end])
            position += end - offset
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)

    def batch_indices(self, epoch: int, start: int, first: int, stop: int, remaining: int) -> np.ndarray:
        """Dataset indices of the positions ``first … stop - 1`` of an epoch resumed at ``start``.

        Positions are relative to ``start``; those at or past ``remaining`` are padding: they
        repeat the epoch's first samples, the same ones whether or not the epoch was resumed.
        """
        if stop <= remaining:
            return self.indices(epoch, start + first, start + stop)
        length = self.epoch_length
        pads = np.arange(max(first, remaining), stop, dtype=np.int64) - remaining
        head = self.indices(epoch, 0, min(length, int(pads[-1]) + 1))
        repeated = head[pads % length]
        if first >= remaining:
            return repeated
        return np.concatenate([self.indices(epoch, start + first, start + remaining), repeated])

    def batch_permutation(self, epoch: int, position: int, count: int) -> np.ndarray:
        """The seeded order in which the ``quasi`` mode hands out the ``count`` samples of the batch
        that starts at absolute ``position`` of ``epoch``."""
        return np.random.default_rng([self.seed, epoch, position]).permutation(count)
