"""The commit protocol: one or several datasets appear whole or not at all.

Writers put every file of a new generation under a temporary name next to its final name, synced.
:class:`Commit` then, holding an exclusive lock on every folder involved:

1. writes a *marker* ``NAME.msgpack.journal`` next to every dataset of the transaction except the
   first (the new ones and the stale ones that will be removed), naming the primary journal;
2. writes the *primary* journal next to the first dataset: the list of renames and removals. Once it
   is in place (renamed, synced) the transaction is committed: it will be rolled forward;
3. renames each dataset's files into place (data file first, md5 file last) and removes stale files;
4. removes the primary journal, then the markers.

Anyone who finds a journal takes the same locks (so a live commit is simply waited for) and then
repairs: a primary journal is rolled forward, a marker without its primary is left over from a
transaction that never committed and is removed. :func:`check_committed` does that for readers and
writers before they open a dataset. Temporary names carry the writer's host and process id, so the
next write of the same output removes files of dead writers (:func:`clean_temporaries`).

A journal found on disk is untrusted (datasets come from strangers): before anything is touched,
:func:`check_plan` confines its plan to the datasets of its transaction, each of which carries
the primary journal or a marker pointing back to it. A plan that names anything else is refused
with :class:`IncompleteCommitError` and nothing is touched (see docs/FORMAT.md, "Security: what a
reader may write").
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import IncompleteCommitError
from .jsonparse import parse_json
from .paths import (
    DATA_SUFFIX,
    DATASET_SUFFIXES,
    JOURNAL_SUFFIX,
    LABEL_NAMES_SUFFIX,
    MANIFEST_SUFFIX,
    index_path,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: commits in one folder are not serialised
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "Commit",
    "DatasetFiles",
    "Generation",
    "check_committed",
    "check_committed_pattern",
    "check_plan",
    "check_generation",
    "belongs_to",
    "clean_temporaries",
    "dataset_files",
    "deferred_interrupts",
    "fsync_path",
    "pin_generation",
    "temp_path",
    "write_synced",
]

_VERSION = 1
#: ``.NAME.HOST.PID-TOKEN.tmp`` plus an optional suffix (e.g. ``.offsets``)
_TEMP = re.compile(
    r"\A\.(?P<name>.+)\.(?P<host>[A-Za-z0-9-]+)\.(?P<pid>\d+)-(?P<token>[0-9a-f]{8})\.tmp(?P<suffix>(?:\.[A-Za-z0-9_]+)?)\Z"
)
#: the files of a dataset ``NAME.msgpack`` that a commit may rename or remove: ``NAME.msgpack`` plus these
_OWN_SUFFIXES = ("",) + DATASET_SUFFIXES + (LABEL_NAMES_SUFFIX,)
#: the staging folders of partitioned writes (``NAME.partial/``, see :mod:`.partitions`)
_STAGING_SUFFIX = ".partial"
#: a journal larger than this is refused (it is read into memory)
MAX_JOURNAL_SIZE = 64 << 20
#: how long a reader waits for a live commit (which only renames files) before giving up
LOCK_TIMEOUT = 60.0


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def temp_path(target: str | os.PathLike, suffix: str = "") -> Path:
    """A hidden temporary path next to ``target`` that names this host and process.

    Args:
        target: the final path.
        suffix: appended after ``.tmp`` (letters, digits, ``_``; e.g. ``".offsets"``).
    """
    target = Path(target)
    return target.with_name(f".{target.name}.{_host()}.{os.getpid()}-{secrets.token_hex(4)}.tmp{suffix}")


def _alive(host: str, pid: int) -> bool:
    """Whether a process may still own files: true unless it is known to be gone."""
    if host != _host() or pid == os.getpid():
        return True  # another machine's process cannot be checked; our own is alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    try:  # a zombie has exited
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def clean_temporaries(folder: str | os.PathLike, belongs: Callable[[str], bool]) -> list[Path]:
    """Remove temporary files of writers that are gone; return the paths removed.

    Args:
        folder: where to look.
        belongs: decides from a final file name (e.g. ``train.msgpack.offsets``) whether its
            temporaries are ours to clean.
    """
    removed: list[Path] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _TEMP.match(name)
        if match is None or not belongs(match["name"]) or _alive(match["host"], int(match["pid"])):
            continue
        path = Path(folder, name)
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError:
            continue  # not ours to remove (permissions): left as it is
        removed.append(path)
    return removed


def fsync_path(path: str | os.PathLike) -> None:
    """Flush a file or folder to disk (folders: so that renames in it survive a power cut)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync folders
    finally:
        os.close(fd)


def write_synced(path: str | os.PathLike, content: bytes) -> None:
    """Create ``path`` (it must not exist), write ``content`` and sync it."""
    with open(path, "xb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold back Ctrl-C (SIGINT) until the block ends, so that a commit is never cut in half.

    A SIGINT received meanwhile is delivered again when the block ends (``KeyboardInterrupt``
    by default). Outside the main thread (where Python cannot change signal handlers) nothing is
    deferred.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    except ValueError:  # not the main interpreter
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            signal.raise_signal(signal.SIGINT)


@contextlib.contextmanager
def _locked(folders: Sequence[Path], timeout: float | None) -> Iterator[None]:
    """Hold an exclusive ``flock`` on every folder (in a fixed order, so two commits never deadlock)."""
    fds: list[int] = []
    try:
        for folder in sorted({os.path.realpath(f) for f in folders}):
            fd = os.open(folder, os.O_RDONLY)
            fds.append(fd)
            if fcntl is None:
                continue
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | (fcntl.LOCK_NB if deadline is not None else 0))
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() > deadline:
                        raise IncompleteCommitError(
                            f"{folder}: another process is committing a dataset here and did not finish within {timeout:.0f} s; try again",
                            path=folder,
                        ) from None
                    time.sleep(0.005)
        yield
    finally:
        for fd in fds:
            os.close(fd)  # releases the lock


@dataclass
class DatasetFiles:
    """The files of one dataset in a transaction.

    Attributes:
        path: the data file ``NAME.msgpack``.
        renames: ``(temporary, final)`` pairs in rename order: data first, md5 last.
        remove: files of the old generation that the new one does not replace.
    """

    path: Path
    renames: list[tuple[Path, Path]] = field(default_factory=list)
    remove: list[Path] = field(default_factory=list)


def _rel(path: Path, base: Path) -> str:
    return os.path.relpath(os.path.abspath(path), os.path.abspath(base))


def _journal(path: str | os.PathLike) -> Path:
    return index_path(path, JOURNAL_SUFFIX)


class Commit:
    """One transaction over several datasets: all their files appear at once, or none.

    Args:
        datasets: the datasets, each with its renames and removals. The first one holds the
            primary journal. A dataset with no renames is removed entirely (stale shards).
    """

    def __init__(self, datasets: Sequence[DatasetFiles]) -> None:
        if not datasets:
            raise ValueError("a commit needs at least one dataset")
        self.datasets = list(datasets)
        self.primary = _journal(self.datasets[0].path)
        #: true once the primary journal is in place: the temporaries then belong to the journal
        self.committed = False

    def _plan(self) -> dict:
        base = self.primary.parent
        return {
            "dings-commit": _VERSION,
            "host": _host(),
            "pid": os.getpid(),
            "renames": [[_rel(t, base), _rel(f, base)] for d in self.datasets for t, f in d.renames],
            "remove": [_rel(p, base) for d in self.datasets for p in d.remove],
            "markers": [_rel(_journal(d.path), base) for d in self.datasets[1:]],
        }

    def run(self) -> None:
        """Commit: markers, primary journal, renames, removals, then the journals go.

        An error before the primary journal is in place leaves the old generation as it was and
        :attr:`committed` false (the caller removes its temporaries); after that point the
        transaction is finished here, or by the next process that opens one of the datasets.
        """
        for dataset in self.datasets:  # an earlier writer's leftovers are repaired first
            check_committed(dataset.path)
        folders = [d.path.parent for d in self.datasets]
        with _locked(folders, None):
            for dataset in self.datasets:  # one that appeared since (a dead writer's, in these folders)
                _repair_locked(_journal(dataset.path))
            plan = self._plan()
            markers = [_journal(d.path) for d in self.datasets[1:]]
            written: list[Path] = []
            try:
                for marker in markers:
                    _place(marker, {"dings-commit": _VERSION, "primary": _rel(self.primary, marker.parent)})
                    written.append(marker)
                for folder in {m.parent for m in markers}:
                    fsync_path(folder)
                check_plan(self.primary, plan)  # a plan a reader would refuse is never committed
                _place(self.primary, plan)  # the commit point
                self.committed = True
            except BaseException:
                if os.path.lexists(self.primary):  # interrupted right after the commit point: ours
                    self.committed = True
                    _roll_forward(self.primary, plan)
                    raise
                for marker in written:
                    marker.unlink(missing_ok=True)
                raise
            try:
                fsync_path(self.primary.parent)
                _roll_forward(self.primary, plan)
            except BaseException:
                # interrupted (Ctrl-C) while renaming: finish first, so nothing is left half-done
                _roll_forward(self.primary, plan)
                raise


def _place(target: Path, content: dict) -> None:
    """Write a journal atomically: a synced temporary, renamed."""
    tmp = temp_path(target)
    try:
        write_synced(tmp, json.dumps(content).encode("utf-8"))
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _roll_forward(primary: Path, plan: dict) -> None:
    """Finish a committed transaction; safe to repeat at any point. ``plan`` was checked."""
    base = primary.parent
    folders = set()
    for tmp, final in plan["renames"]:
        tmp_path, final_path = base / tmp, base / final
        try:
            os.replace(tmp_path, final_path)
        except FileNotFoundError:
            if not final_path.exists():
                raise IncompleteCommitError(
                    f"{primary}: cannot finish an interrupted commit: neither {tmp_path} nor {final_path} exists",
                    path=final_path,
                ) from None
        folders.add(final_path.parent)
    for name in plan["remove"]:
        (base / name).unlink(missing_ok=True)
        folders.add((base / name).parent)
    for folder in folders:
        fsync_path(folder)
    # the primary goes first: while it exists, every marker exists (check_plan relies on that); a
    # marker left without its primary is discarded by whoever finds it
    primary.unlink(missing_ok=True)  # if a power cut loses this, the roll forward is repeated: harmless
    fsync_path(base)
    for marker in plan["markers"]:
        (base / marker).unlink(missing_ok=True)


def _load(journal: Path) -> dict | None:
    """Read a journal: a regular file (never a link, device or FIFO) of bounded size, or None if absent."""
    try:
        fd = os.open(journal, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        if os.path.islink(journal):
            raise IncompleteCommitError(
                f"{journal}: a commit journal must be a regular file, not a link; not rolled forward; "
                "delete the journal if you do not trust this dataset",
                path=journal,
            ) from None
        raise IncompleteCommitError(f"{journal}: cannot read the commit journal ({exc})", path=journal) from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_JOURNAL_SIZE:
            raise IncompleteCommitError(
                f"{journal}: not a commit journal (not a regular file of at most {MAX_JOURNAL_SIZE >> 20} MiB); "
                "not rolled forward; delete the journal if you do not trust this dataset",
                path=journal,
            )
        raw = f.read(MAX_JOURNAL_SIZE + 1)
    advice = "the dataset may be half-written, restore it or write it again"
    content = parse_json(
        raw,
        f"{journal}: unreadable commit journal",
        lambda message: IncompleteCommitError(f"{message}; {advice}", path=journal),
    )
    if not isinstance(content, dict) or content.get("dings-commit") != _VERSION:
        raise IncompleteCommitError(f"{journal}: not a dings commit journal of version {_VERSION}", path=journal)
    return content


def _outside(journal: Path, name: object) -> IncompleteCommitError:
    return IncompleteCommitError(
        f"{journal}: names {name!r}, a file outside the datasets of its commit; not rolled forward; "
        "delete the journal if you do not trust this dataset",
        path=journal,
    )


def _relative(journal: Path, name: object) -> Path:
    """The path of a name from a journal: relative, of plain names, ``..`` only in front (the
    folder of another dataset of a transaction that spans folders). Raises for anything else."""
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name or name.startswith("/"):
        raise _outside(journal, name)
    parts = name.split("/")
    up = 0
    while up < len(parts) - 1 and parts[up] == "..":
        up += 1
    if any(part in ("", ".", "..") for part in parts[up:]):
        raise _outside(journal, name)
    return journal.parent / name


def _journal_name(journal: Path, name: object) -> Path:
    """A journal's name for another journal (a marker, a primary): ``NAME.msgpack.journal`` (any
    data file name may carry one: writers accept other names than ``*.msgpack``)."""
    path = _relative(journal, name)
    if not path.name.endswith(JOURNAL_SUFFIX) or path.name == JOURNAL_SUFFIX:
        raise _outside(journal, name)
    return path


def _strings(journal: Path, plan: dict, key: str) -> list:
    value = plan.get(key)
    if not isinstance(value, list):
        raise IncompleteCommitError(
            f"{journal}: malformed commit journal ({key!r} is not a list); restore the dataset or write it again",
            path=journal,
        )
    return value


def check_plan(primary: Path, plan: dict) -> None:
    """Refuse a commit plan that would touch anything but the datasets of its own transaction.

    A journal may come with a dataset from a stranger, so its plan is checked before anything is
    touched. The datasets of the transaction are the primary journal's and those whose marker
    (listed in the plan, present, pointing back to ``primary``) exists. The plan may only

    - rename a writer's temporary (:func:`temp_path`) to its own final name in the same folder, or a
      staged shard (``NAME.partial/FILE``) to the same ``FILE`` one folder up;
    - to a final name that is a file of one of those datasets (data, index, md5, checksum or
      label-names file) or the manifest of their partitioned set;
    - remove only such files, and the markers.

    Names are relative paths of plain names (``..`` only in front, for transactions across folders),
    without ``\\`` or NUL; folders are compared after resolving links.

    Args:
        primary: the primary journal (``NAME.msgpack.journal``).
        plan: its content.

    Raises:
        IncompleteCommitError: the plan names anything else; nothing was touched.
    """
    renames = _strings(primary, plan, "renames")
    remove = _strings(primary, plan, "remove")
    markers = _strings(primary, plan, "markers")
    real: dict[Path, str] = {}

    def folder_of(path: Path) -> str:
        if path.parent not in real:
            real[path.parent] = os.path.realpath(path.parent)
        return real[path.parent]

    home = os.path.realpath(primary)
    datasets = {(folder_of(primary), primary.name[: -len(JOURNAL_SUFFIX)])}
    for name in markers:
        marker = _journal_name(primary, name)
        content = _load(marker)
        target = content.get("primary") if content is not None else None
        if target is None or os.path.realpath(_journal_name(marker, target)) != home:
            raise _outside(primary, name)  # no marker of this transaction: not one of its datasets
        datasets.add((folder_of(marker), marker.name[: -len(JOURNAL_SUFFIX)]))

    def check_final(name: object) -> Path:
        path = _relative(primary, name)
        folder, base = folder_of(path), path.name
        for suffix in _OWN_SUFFIXES:
            if base.endswith(suffix) and (folder, base[: len(base) - len(suffix)]) in datasets:
                return path
        if base.endswith(MANIFEST_SUFFIX):  # the manifest of a partitioned set: NAME-<p>-<s>.msgpack shards
            stem = base[: -len(MANIFEST_SUFFIX)] + "-"
            if any(f == folder and data.startswith(stem) for f, data in datasets):
                return path
        raise _outside(primary, name)

    for pair in renames:
        if not isinstance(pair, list) or len(pair) != 2:
            raise _outside(primary, pair)
        final = check_final(pair[1])
        tmp = _relative(primary, pair[0])
        match = _TEMP.match(tmp.name)
        own_temporary = (
            match is not None and match["name"] + match["suffix"] == final.name and folder_of(tmp) == folder_of(final)
        )
        staged = (
            tmp.name == final.name
            and tmp.parent.name.endswith(_STAGING_SUFFIX)
            and os.path.dirname(folder_of(tmp)) == folder_of(final)
        )
        if not (own_temporary or staged):
            raise _outside(primary, pair[0])
    for name in remove:
        check_final(name)


def _folders_of(journal: Path, content: dict) -> list[Path]:
    """The folders to lock for a journal: its own and those of the other journals it names."""
    if "primary" in content:
        return [journal.parent, _journal_name(journal, content["primary"]).parent]
    return [journal.parent] + [_journal_name(journal, n).parent for n in _strings(journal, content, "markers")]


def _repair_locked(journal: Path) -> bool:
    """Repair what ``journal`` describes; the caller holds the locks. Returns whether it did anything."""
    content = _load(journal)
    if content is None:
        return False
    try:
        if "primary" in content:  # a marker
            primary = _journal_name(journal, content["primary"])
            plan = _load(primary)
            if plan is None:  # its transaction never committed (or was not this marker's)
                journal.unlink(missing_ok=True)
                return True
            check_plan(primary, plan)
            _roll_forward(primary, plan)
            journal.unlink(missing_ok=True)  # in case the plan did not list it
            return True
        check_plan(journal, content)
        _roll_forward(journal, content)
        return True
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, IncompleteCommitError):
            raise
        raise IncompleteCommitError(
            f"{journal}: malformed commit journal ({exc}); restore the dataset or write it again", path=journal
        ) from None
    except PermissionError as exc:
        raise IncompleteCommitError(
            f"{journal}: a commit of this dataset was interrupted and cannot be finished without write access ({exc}); "
            "open it once with write access to finish it",
            path=journal,
        ) from None


def check_committed(path: str | os.PathLike, *, timeout: float = LOCK_TIMEOUT) -> bool:
    """Make sure a dataset is not half-committed before it is read or written.

    Nothing to do (one ``stat``) when no journal exists. Otherwise waits for a live commit to end
    and finishes (rolls forward) or discards (a transaction that never committed) what a dead
    writer left.

    Args:
        path: the data file ``NAME.msgpack`` (or any of its index files).
        timeout: seconds to wait for another process's commit.

    Returns:
        Whether a commit was found (the dataset, or the shard set it belongs to, may have changed).

    Raises:
        IncompleteCommitError: the commit cannot be finished (a journal is unreadable or its files
            are gone, no write access) or another process kept committing for ``timeout``
            seconds. A :class:`DamagedDataError`.
    """
    journal = _journal(path)
    if not os.path.lexists(journal):
        return False
    for _ in range(3):  # a marker may point to another folder; lock that one too and look again
        content = _load(journal)
        if content is None:
            return True
        folders = _folders_of(journal, content)
        if "primary" in content:
            primary = _journal_name(journal, content["primary"])
            plan = _load(primary)
            if plan is not None:
                folders += _folders_of(primary, plan)
        with _locked([f for f in folders if f.is_dir()], timeout):
            again = _load(journal)
            if again is None:
                return True
            if sorted(map(str, _folders_of(journal, again))) == sorted(map(str, _folders_of(journal, content))):
                _repair_locked(journal)
                return True
    raise IncompleteCommitError(f"{journal}: a commit of this dataset keeps changing; try again", path=journal)


def check_committed_pattern(pattern: str, *, timeout: float = LOCK_TIMEOUT) -> bool:
    """:func:`check_committed` for every dataset matching a glob pattern (a shard set), including
    shards that only exist in an interrupted commit. Call it before globbing the data files.

    Returns:
        Whether a commit was found (glob again: the set may have changed).
    """
    import glob

    found = False
    for journal in sorted(glob.glob(pattern + JOURNAL_SUFFIX)):
        found |= check_committed(journal[: -len(JOURNAL_SUFFIX)], timeout=timeout)
    return found


@dataclass(frozen=True)
class Generation:
    """Which generation of a dataset a reader has open: the data file's device and inode."""

    device: int
    inode: int


def pin_generation(fd: int) -> Generation:
    """Return the generation of the data file open as ``fd`` (call right after opening it)."""
    st = os.fstat(fd)
    return Generation(st.st_dev, st.st_ino)


def check_generation(path: str | os.PathLike, pinned: Generation) -> None:
    """Raise if the dataset at ``path`` is no longer the generation a reader opened.

    Call after loading an index file lazily: a commit renames the data file first, so if the
    data file is still the pinned one and no commit is in progress, the index file just read
    belongs to the same generation.

    Raises:
        IncompleteCommitError: the dataset was replaced (or is being replaced) since it was
            opened; reopen it.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    if st is None or (st.st_dev, st.st_ino) != (pinned.device, pinned.inode) or os.path.lexists(_journal(path)):
        raise IncompleteCommitError(f"{path}: the dataset was replaced while it was open; open it again", path=path)


def dataset_files(path: Path) -> list[Path]:
    """Every file a dataset may have: data, index files, md5, checksums, legacy index."""
    return [path] + [index_path(path, s) for s in DATASET_SUFFIXES]


def belongs_to(data_name: str) -> Callable[[str], bool]:
    """A :func:`clean_temporaries` filter for the files of the dataset ``data_name``."""
    return lambda name: name == data_name or name.startswith(data_name + ".")


def is_dataset_name(name: str) -> bool:
    """Whether ``name`` is a data file name (``*.msgpack``)."""
    return name.endswith(DATA_SUFFIX)
