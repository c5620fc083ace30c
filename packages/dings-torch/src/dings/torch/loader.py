"""DataLoader: torch's DataLoader, handing batches from its workers to the main process faster."""

from __future__ import annotations

from collections.abc import Callable
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

import numpy as np

import torch.utils.data
from torch.multiprocessing.reductions import reduce_tensor

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["DataLoader", "collate", "enlarge_pipe"]

#: bytes asked for the workers' result pipe (the system caps it, see ``/proc/sys/fs/pipe-max-size``)
DEFAULT_PIPE_SIZE = 1 << 20
#: tensors of at most this many bytes travel inside the batch's pickle instead of shared memory
DEFAULT_INLINE_TENSORS = 1 << 18
_PIPE_MAX_SIZE = Path("/proc/sys/fs/pipe-max-size")


def enlarge_pipe(connection: Any, size: int) -> int | None:
    """Ask the kernel to let the pipe behind ``connection`` hold ``size`` bytes.

    The size is capped at the system's limit for unprivileged processes. Only Linux can resize
    pipes; elsewhere, and when the kernel refuses, nothing changes.

    Args:
        connection: a ``multiprocessing`` connection (or anything with ``fileno()``) of a pipe.
        size: bytes the pipe should hold.

    Returns:
        The pipe's new size in bytes, or ``None`` when it was left as it was.
    """
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is None or connection is None or size <= 0:
        return None
    try:
        limit = int(_PIPE_MAX_SIZE.read_text())
    except (OSError, ValueError):
        limit = size
    try:
        return fcntl.fcntl(connection.fileno(), set_size, min(size, limit))
    except (OSError, ValueError, AttributeError):  # refused (pipe memory limit), closed, or not a pipe
        return None


def _tensor_from_array(array: np.ndarray) -> torch.Tensor:
    """Rebuild a tensor sent inline (runs in the process that receives the batch)."""
    return torch.from_numpy(array)


def collate(batch: list) -> Any:
    """torch's ``default_collate``, without its warning about read-only numpy arrays.

    Arrays read from a dataset file are read-only views of its bytes. ``default_collate`` wraps
    each in a tensor only to stack them into a new one, so nothing can write to the file's
    bytes, and torch's "The given NumPy array is not writable" warning (once per worker) says
    nothing useful. :class:`DataLoader` uses this when no ``collate_fn`` is given.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable", category=UserWarning)
        return torch.utils.data.default_collate(batch)


class _InlineSmallTensors:
    """Pickle reducer for ``torch.Tensor`` in a DataLoader worker: CPU tensors of at most ``limit``
    bytes are sent as a copy of their values, larger or special ones (no numpy dtype, gradients,
    other devices) the way torch sends them, through shared memory."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __call__(self, tensor: torch.Tensor) -> Any:
        if tensor.layout is torch.strided and tensor.device.type == "cpu" and not tensor.requires_grad:
            try:
                if tensor.nbytes <= self.limit:
                    return _tensor_from_array, (tensor.numpy(),)
            except (TypeError, RuntimeError):  # bfloat16 and other dtypes numpy lacks, conj views, …
                pass
        return reduce_tensor(tensor)


class _WorkerSetup:
    """``worker_init_fn`` of :class:`DataLoader`: installs the small-tensor reducer in the worker,
    then calls the user's ``worker_init_fn``. Picklable, for workers started with spawn."""

    def __init__(self, inline_limit: int | None, user_fn: Callable[[int], Any] | None) -> None:
        self.inline_limit, self.user_fn = inline_limit, user_fn

    def __call__(self, worker_id: int) -> None:
        if self.inline_limit:
            ForkingPickler.register(torch.Tensor, _InlineSmallTensors(self.inline_limit))
        if self.user_fn is not None:
            self.user_fn(worker_id)


def _check_batch_size(dataset: Any, batch_size: int | None) -> None:
    """Warn when a dings IterableDataset was given another batch size than its DataLoader."""
    import warnings

    from .iterable import IterableDataset

    if isinstance(dataset, IterableDataset) and batch_size is not None and dataset.batch_size != batch_size:
        warnings.warn(
            f"IterableDataset(batch_size={dataset.batch_size}) but DataLoader(batch_size={batch_size}): pass "
            f"batch_size={batch_size} to the IterableDataset too, so that every batch comes from one block of the "
            "epoch's order and workers and ranks share the samples evenly",
            UserWarning,
            stacklevel=3,
        )


class DataLoader(torch.utils.data.DataLoader):
    """``torch.utils.data.DataLoader`` whose worker processes hand batches over faster.

    Two things slow torch's hand-over down, whatever the dataset:

    - **The pipe.** Workers send every batch through one pipe, which Linux makes 64 KiB large. A
      larger batch (256 samples of 1 kB are 256 kB) passes in pieces, and worker and main process
      take turns to sleep and wake up for each piece. This loader enlarges the pipe to
      ``pipe_size`` bytes (at most ``/proc/sys/fs/pipe-max-size``, 1 MiB unless configured
      otherwise), so a batch usually passes in one write and one read.
    - **Small tensors.** torch moves every tensor of a batch to shared memory and passes its file
      descriptor over a socket, even a batch of 256 labels; that round trip costs far more than
      copying a few kB. Tensors of at most ``inline_tensors`` bytes are sent as a copy of their
      values instead, inside the batch's pickle. Values, dtype and shape are the same; such a
      tensor is not in shared memory in the main process, and its strides may be those of a
      contiguous copy. Larger tensors (such as batches of images) still go through shared memory.
      This applies to tensors the worker process sends through ``multiprocessing``, which in a
      DataLoader worker are the batches.

    On the 2-core development machine, epochs over 1 kB samples were 1.5–1.75x faster, and
    2.7–3.1x faster with an int label per sample (``hatch run bench-torch``).

    Everything else is torch's DataLoader: same arguments, same batches in the same order, and the
    ``worker_init_fn`` given is called in every worker. Where the pipe cannot be resized (not Linux,
    or the kernel refuses), it stays as it is.

    Args:
        *args: as for ``torch.utils.data.DataLoader``.
        pipe_size: bytes the workers' result pipe should hold; ``None`` leaves the system default.
        inline_tensors: largest tensor, in bytes, sent by copy instead of shared memory; ``0`` or
            ``None`` sends every tensor the way torch does.
        **kwargs: as for ``torch.utils.data.DataLoader``.

    Example::

        from dings.torch import DataLoader, IterableDataset

        loader = DataLoader(IterableDataset(reader, batch_size=256), batch_size=256, num_workers=4)
    """

    def __init__(
        self,
        *args: Any,
        pipe_size: int | None = DEFAULT_PIPE_SIZE,
        inline_tensors: int | None = DEFAULT_INLINE_TENSORS,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if self.collate_fn is torch.utils.data.default_collate:  # batches are stacked copies: see collate
            self.collate_fn = collate
        _check_batch_size(self.dataset, self.batch_size)
        self.inline_tensors = inline_tensors
        if inline_tensors:
            self.worker_init_fn = _WorkerSetup(inline_tensors, self.worker_init_fn)
        self.pipe_size = pipe_size
        self.result_pipe_size: int | None = None

    def _get_iterator(self) -> Any:
        # called for every epoch, or once with persistent workers; only multi-process iterators
        # have the result queue (an internal of torch: if it is ever renamed, nothing changes)
        iterator = super()._get_iterator()
        if self.pipe_size:
            queue = getattr(iterator, "_worker_result_queue", None)
            self.result_pipe_size = enlarge_pipe(getattr(queue, "_reader", None), self.pipe_size)
        return iterator
