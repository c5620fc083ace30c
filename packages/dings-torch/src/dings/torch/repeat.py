"""``Repeat``: :class:`dings.readers.Repeater` with the length of everything it yields."""

from __future__ import annotations

from dings.readers import Repeater

__all__ = ["Repeat"]


class Repeat(Repeater):
    """A reader repeated ``times`` times, or as often as needed to hold at least ``min_size`` samples.

    The same as :class:`dings.readers.Repeater` (same arguments, same samples), except that
    ``len`` counts every repetition (``Repeater`` keeps datadings' ``len`` of one repetition): a
    torch dataset's length must be what it yields.
    """

    def __len__(self) -> int:
        return self.total
