"""Reading the Places365 tars: JPEG members in archive order, and the validation label list."""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["iter_jpegs", "read_label_list", "training_class"]

#: tar read buffer: large sequential reads for archives of many gigabytes
READ_SIZE = 1 << 20


def iter_jpegs(archive: Path) -> Iterator[tuple[str, bytes]]:
    """Yield ``(member path, bytes)`` of every regular ``.jpg`` member of ``archive``, in archive order.

    The tar is read as a stream, and member headers are dropped as soon as they were used, so memory
    stays flat for archives with millions of members.

    Raises:
        ValueError: ``archive`` is not a readable tar (damaged or truncated).
    """
    try:
        with tarfile.open(archive, "r|*", bufsize=READ_SIZE) as tar:
            while True:
                member = tar.next()
                if member is None:
                    return
                if member.isfile() and member.name.endswith(".jpg"):
                    handle = tar.extractfile(member)
                    if handle is None:  # pragma: no cover - regular files always have content
                        raise ValueError(f"{archive}: member {member.name} has no content")
                    yield member.name, handle.read()
                tar.members.clear()  # type: ignore[attr-defined]  # tarfile keeps every header it read; nothing here needs them
    except (tarfile.TarError, EOFError) as exc:
        raise ValueError(f"{archive}: not a readable tar archive ({exc}); download it again") from None


def training_class(member: str) -> str:
    """Return the class path of a training member: ``data_large/a/apartment_building/outdoor/x.jpg``
    → ``apartment_building/outdoor`` (the folders between the letter folder and the file)."""
    return "/".join(member.split("/")[2:-1])


def read_label_list(archive: Path, member: str, classes: int) -> dict[str, int]:
    """Read a list of ``<file name> <label>`` lines (``places365_val.txt``) from the file-list tar.

    Args:
        archive: ``filelist_places365-standard.tar``.
        member: the list's member name.
        classes: number of classes; labels must be in ``0 .. classes - 1``.

    Returns:
        file name → label.

    Raises:
        ValueError: the member is missing, or a line is not ``<file name> <label>``.
    """
    try:
        with tarfile.open(archive, "r:*") as tar:
            try:
                handle = tar.extractfile(member)
            except KeyError:
                handle = None
            if handle is None:
                raise ValueError(f"{archive}: member {member} is missing; download the archive again")
            data = handle.read()
    except tarfile.TarError as exc:
        raise ValueError(f"{archive}: not a readable tar archive ({exc}); download it again") from None
    labels: dict[str, int] = {}
    for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        try:
            name, label = fields[0], int(fields[1])
            if len(fields) != 2 or not 0 <= label < classes:
                raise ValueError
        except (IndexError, ValueError):
            raise ValueError(
                f"{archive}:{member} line {number}: expected '<file name> <label 0..{classes - 1}>', "
                f"got {line.strip()!r}; download the archive again"
            ) from None
        labels[name] = label
    return labels
