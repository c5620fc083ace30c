"""Rank and world size of the current process (torch.distributed, or given explicitly)."""

from __future__ import annotations

from typing import Any

import torch.distributed as dist

__all__ = ["resolve_rank"]


def resolve_rank(rank: int | None, world_size: int | None, group: Any = None) -> tuple[int, int]:
    """Return ``(rank, world_size)``.

    Explicit values win; otherwise they come from ``torch.distributed`` (for ``group``, or the
    default group) when it is initialised, else ``(0, 1)``.

    Args:
        rank: this process's rank, or ``None``.
        world_size: number of ranks, or ``None``.
        group: a process group of ``torch.distributed`` (``None`` for the default group).

    Raises:
        ValueError: the values do not describe a rank of a world (``0 <= rank < world_size``).
    """
    initialized = dist.is_available() and dist.is_initialized()
    if world_size is None:
        world_size = dist.get_world_size(group) if initialized else 1
    if rank is None:
        rank = dist.get_rank(group) if initialized else 0
    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
        raise ValueError(f"world_size must be a positive int, got {world_size!r}")
    if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < world_size:
        raise ValueError(f"rank must be an int in 0 … {world_size - 1} (world_size={world_size}), got {rank!r}")
    return rank, world_size
