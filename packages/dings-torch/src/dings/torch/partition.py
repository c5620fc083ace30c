"""How the positions of an epoch are split among ranks and DataLoader workers.

The remaining positions ``0 … R-1`` of an epoch (relative to where it resumes) are cut into
*rounds* of ``world_size * batch_size`` positions. In round ``j``, rank ``r`` takes the ``r``-th
block of ``batch_size`` positions as its local batch ``j``. The last, incomplete round (the *tail*)
is shared so that every rank gets as many positions as possible, as one final local batch:

- ``even="repeat"`` (``even=True``): the tail is padded to a multiple of ``world_size`` with the
  first positions of the remaining order (at most ``world_size - 1`` samples are repeated; the epoch's first ones), and
  every rank takes an equal contiguous slice. Every rank yields the same number of batches.
- ``even="drop"``: the last ``tail % world_size`` positions are left out (at most
  ``world_size - 1`` samples are skipped), and every rank takes an equal slice.
- ``even=False``: the tail is split as evenly as possible; every sample comes exactly once, but
  ranks may differ by one batch (``world_size > 1`` only).

Within a rank, DataLoader worker ``w`` of ``num_workers`` yields local batches ``w``,
``w + num_workers``, … . A DataLoader collects one batch from each worker in turn, so a rank's
DataLoader delivers its local batches ``0, 1, 2, …`` in order. After every rank has delivered ``b``
batches (before the tail), exactly the first ``b * world_size * batch_size`` positions are used:
this is what makes resuming exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["EVEN_MODES", "Split", "even_mode"]

EVEN_MODES = ("repeat", "drop", "none")


def even_mode(even: bool | str) -> str:
    """Normalise the ``even`` option: ``True``/``"repeat"``, ``"drop"``, ``False``/``"none"``.

    Raises:
        ValueError: any other value.
    """
    if even is True:
        return "repeat"
    if even is False:
        return "none"
    if even in EVEN_MODES:
        return str(even)
    raise ValueError(f"even must be True (same as 'repeat'), 'drop' or False, got {even!r}")


@dataclass(frozen=True)
class Split:
    """The split of ``remaining`` positions among ``world_size`` ranks in batches of ``batch_size``.

    Args:
        remaining: positions left in the epoch (``R``).
        world_size: number of ranks.
        batch_size: samples per batch, the same as the DataLoader's ``batch_size``.
        even: ``"repeat"``, ``"drop"`` or ``"none"`` (see the module documentation).
    """

    remaining: int
    world_size: int
    batch_size: int
    even: str = "repeat"

    @property
    def round_size(self) -> int:
        """Positions per complete round (``world_size * batch_size``)."""
        return self.world_size * self.batch_size

    @property
    def full_rounds(self) -> int:
        """Number of complete rounds."""
        return self.remaining // self.round_size

    @property
    def tail(self) -> int:
        """Positions after the complete rounds (fewer than one round)."""
        return self.remaining - self.full_rounds * self.round_size

    def tail_slice(self, rank: int) -> tuple[int, int]:
        """Positions ``(start, stop)`` of ``rank``'s share of the tail, relative to the tail; ``stop``
        may exceed the tail for padded (repeated) positions."""
        tail, world = self.tail, self.world_size
        if self.even == "none":
            return rank * tail // world, (rank + 1) * tail // world
        share = -(-tail // world) if self.even == "repeat" else tail // world
        return rank * share, (rank + 1) * share

    def rank_samples(self, rank: int) -> int:
        """Samples ``rank`` yields (padding included)."""
        start, stop = self.tail_slice(rank)
        return self.full_rounds * self.batch_size + stop - start

    def rank_batches(self, rank: int) -> int:
        """Batches ``rank``'s DataLoader delivers."""
        start, stop = self.tail_slice(rank)
        return self.full_rounds + (stop > start)

    def batches(self, rank: int, worker: int = 0, num_workers: int = 1) -> Iterator[tuple[int, int]]:
        """Yield the ``(start, stop)`` positions of each local batch that ``worker`` of ``rank`` reads.

        Positions at or after :attr:`remaining` are padding: they stand for position
        ``p - remaining`` (the order repeats from its start).
        """
        batch, world = self.batch_size, self.world_size
        for j in range(worker, self.full_rounds, num_workers):
            start = (j * world + rank) * batch
            yield start, start + batch
        if self.full_rounds % num_workers == worker:
            start, stop = self.tail_slice(rank)
            if stop > start:
                base = self.full_rounds * self.round_size
                yield base + start, base + stop

    def consumed(self, batches: int) -> tuple[int, bool]:
        """Positions used once every rank has delivered ``batches`` batches, and whether that is all.

        Raises:
            ValueError: ``batches`` is negative or more than any rank delivers.
        """
        most = max(self.rank_batches(r) for r in range(self.world_size)) if self.world_size else 0
        if batches < 0 or batches > most:
            raise ValueError(
                f"batches={batches} is not a number of batches delivered in this epoch "
                f"(each rank delivers at most {most}); pass the count of batches since the iteration began"
            )
        if batches > self.full_rounds:
            return self.remaining, True
        used = batches * self.round_size
        return used, used >= self.remaining or batches == most
