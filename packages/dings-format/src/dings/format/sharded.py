"""Writing a dataset as numbered shards, each a complete dataset with its own index and md5."""

from __future__ import annotations

import os
import re
import string
import weakref
from collections.abc import Sequence
from pathlib import Path

from .commit import DatasetFiles, check_committed, clean_temporaries, dataset_files, deferred_interrupts
from .errors import DuplicateKeyError
from .packing import make_packer
from .paths import JOURNAL_SUFFIX, LABEL_NAMES_SUFFIX, index_path
from .progress import Progress
from .writer import CommitOnSuccess, FileWriter, commit_datasets, pack_sample, refuse_object_arrays, remove_files

__all__ = ["ShardedWriter", "shard_pattern"]


def shard_pattern(path: str | os.PathLike) -> str:
    """Return the ``str.format`` pattern of shard file names for ``path``.

    Args:
        path: a pattern with one replacement field for the shard number
            (``"out/train-{:05d}.msgpack"`` or ``"out/train-{index:05d}.msgpack"``); a data file
            path ``out/train.msgpack`` (shards ``out/train-00000.msgpack``, …); or a directory
            ``out/train`` (shards ``out/train/train-00000.msgpack``, …).
    """
    text = os.fspath(path)
    if "{" in text:
        return text
    if text.endswith(".msgpack"):
        return text[: -len(".msgpack")] + "-{index:05d}.msgpack"
    folder = Path(text)
    return str(folder / (folder.name + "-{index:05d}.msgpack"))


def _shard_regex(pattern: str) -> re.Pattern:
    parts = []
    for literal, field_name, _spec, _conv in string.Formatter().parse(pattern):
        parts.append(re.escape(literal))
        if field_name is not None:
            parts.append(r"(\d+)")
    return re.compile("".join(parts) + r"\Z")


class ShardedWriter(CommitOnSuccess):
    """Write samples into numbered shards, starting a new shard when a limit is reached.

    Every shard is an ordinary dataset (data, index, checksum and md5 files). Keys are unique
    across all shards. All shards appear only when the writer closes without error, as one commit
    (see :mod:`dings.format.commit`): until then they live under temporary names, so a failure or a
    kill leaves no partial set. Shards of an older set with the same pattern that the new set does
    not replace are removed in the same commit.

    Args:
        path: shard file pattern, data file path or directory; see :func:`shard_pattern`.
        max_samples: most samples per shard.
        max_bytes: most bytes of packed samples per shard (a single larger sample gets its own shard).
        overwrite: replace existing shards; otherwise ``FileExistsError`` (never a prompt).
        progress: show a progress line; ``None`` shows it when stderr is a terminal.
        allow_unsafe: also write object-dtype arrays (stored with pickle).
        label_names: names of the int labels; every shard's label-names sidecar is committed with it
            (see :class:`dings.format.Writer`).
        drop_label_names: without ``label_names``, remove the sidecars of the shards replaced.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        max_samples: int | None = None,
        max_bytes: int | None = None,
        overwrite: bool = False,
        *,
        progress: bool | None = None,
        allow_unsafe: bool = False,
        label_names: Sequence[str] | None = None,
        drop_label_names: bool = False,
    ) -> None:
        if max_samples is None and max_bytes is None:
            raise ValueError("ShardedWriter needs max_samples or max_bytes (or both)")
        if (max_samples is not None and max_samples < 1) or (max_bytes is not None and max_bytes < 1):
            raise ValueError(f"limits must be positive: max_samples={max_samples}, max_bytes={max_bytes}")
        self.pattern = shard_pattern(path)
        self.max_samples = max_samples
        self.max_bytes = max_bytes
        self._recover()
        existing = self._existing_shards()
        if existing and not overwrite:
            raise FileExistsError(
                f"{existing[0]}: sharded dataset ({len(existing)} shard(s)) exists; "
                "pass overwrite=True (-y/--no-confirm on the command line) to replace it"
            )
        self._pack = make_packer(allow_unsafe=allow_unsafe).pack
        self._allow_unsafe = allow_unsafe
        self._label_names = None if label_names is None else list(label_names)
        self._drop_label_names = drop_label_names
        self._keys: set[str] = set()
        self._finished: list[DatasetFiles] = []
        # removes finished shards' temporary files if the writer is dropped or the interpreter exits unclosed
        self._temporaries: list[Path] = []
        self._cleanup = weakref.finalize(self, remove_files, self._temporaries)
        self._shards: list[Path] = []
        self._current: FileWriter | None = None
        self._closed = False
        self._progress = Progress(Path(self.pattern).name, enabled=progress)

    def _existing_shards(self) -> list[Path]:
        regex = _shard_regex(os.path.basename(self.pattern))
        folder = Path(self.pattern).parent
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if regex.match(p.name))

    def _recover(self) -> None:
        """Finish or discard an interrupted commit of this set; remove dead writers' temporaries."""
        regex = _shard_regex(os.path.basename(self.pattern))
        folder = Path(self.pattern).parent
        if not folder.is_dir():
            return
        for name in sorted(os.listdir(folder)):
            if name.endswith(JOURNAL_SUFFIX) and regex.match(name[: -len(JOURNAL_SUFFIX)]):
                check_committed(folder / name[: -len(JOURNAL_SUFFIX)])
        clean_temporaries(folder, lambda name: regex.match(name.split(".msgpack", 1)[0] + ".msgpack") is not None)

    def shard_path(self, number: int) -> Path:
        """Return the data file path of shard ``number``."""
        return Path(self.pattern.format(number, index=number))

    @property
    def written(self) -> int:
        """Number of samples written to all shards so far."""
        return len(self._keys)

    @property
    def shards(self) -> list[Path]:
        """Data file paths of the shards started so far."""
        return list(self._shards)

    def _roll_if_full(self, size: int) -> FileWriter:
        current = self._current
        if (
            current is not None
            and current.written
            and (
                (self.max_samples is not None and current.written >= self.max_samples)
                or (self.max_bytes is not None and current._position + size > self.max_bytes)
            )
        ):
            self._finish_current()
            current = None
        if current is None:
            path = self.shard_path(len(self._shards))
            current = FileWriter(
                path,
                overwrite=True,
                progress=False,
                label_names=self._label_names,
                drop_label_names=self._drop_label_names,
            )
            self._shards.append(path)
            self._current = current
        return current

    def _finish_current(self) -> None:
        if self._current is None:
            return
        files = self._current._finish()
        self._finished.append(files)
        self._temporaries.extend(tmp for tmp, _ in files.renames)
        self._current = None

    def write(self, sample: dict) -> int:
        """Pack and write one sample to the current shard, starting a new shard when it is full.

        Args:
            sample: a dict with a str ``"key"`` unique across all shards.

        Returns:
            The number of samples written so far.
        """
        if self._closed:
            raise ValueError(f"{self.pattern}: writer is closed")
        key, packed = pack_sample(self._pack, sample)
        if not self._allow_unsafe:  # one regex scan of the bytes; samples that match are decoded
            refuse_object_arrays(packed, key, self.pattern)
        if key in self._keys:
            raise DuplicateKeyError(
                f"{self.pattern}: key {key!r} was already written; keys must be unique across shards"
            )
        writer = self._roll_if_full(len(packed))
        writer._append(key, packed)
        self._keys.add(key)
        self._progress.update(1, len(packed))
        return len(self._keys)

    def close(self) -> None:
        """Finish the last shard, move all shards into place and remove stale shards of an older set."""
        if self._closed:
            return
        try:
            with deferred_interrupts():  # Ctrl-C waits until the set is committed
                if self._current is None:  # no sample written: one empty shard, so the dataset exists
                    self._roll_if_full(0)
                self._finish_current()
                self._closed = True
                self._recover()
                new = {files.path for files in self._finished}
                # a stale shard goes with its label names (a sidecar the dataset files do not list)
                stale = [
                    DatasetFiles(p, [], dataset_files(p) + [index_path(p, LABEL_NAMES_SUFFIX)])
                    for p in self._existing_shards()
                    if p not in new
                ]
                self._cleanup.detach()  # the commit removes the temporaries if it fails before committing
                commit_datasets(self._finished + stale)
        except BaseException:
            self.abort()
            raise
        self._progress.close()

    def abort(self) -> None:
        """Discard every shard written so far; existing shards stay untouched."""
        self._closed = True
        if self._current is not None:
            self._current.abort()
        self._cleanup()
        self._finished = []
        self._progress.enabled = False
