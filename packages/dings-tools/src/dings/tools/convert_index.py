"""``convert_index``: turn a legacy ``.index`` into the new index files and an md5 file, and add
per-sample checksums (``.crc32``) to datasets written without them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from dings.format import (
    CHECKSUMS_SUFFIX,
    INDEX_SUFFIXES,
    MD5_SUFFIX,
    CorruptIndexError,
    DamagedDataError,
    DatasetFiles,
    check_committed,
    check_output_not_input,
    commit_datasets,
    compute_checksums,
    data_path,
    dataset_paths,
    index_path,
    legacy_index_len,
    legacy_load_index,
    load_md5,
    load_offsets,
    md5_content,
    pack_checksums,
    pack_filter,
    pack_key_hashes,
    pack_keys,
    pack_offsets,
    prepare_output,
    progress_bar,
    temp_path,
    write_synced,
)

from ._dataset import copy_file

__all__ = ["add_checksums", "convert_index"]

_NEW_INDEX = INDEX_SUFFIXES


def _same_file(a: Path, b: Path) -> bool:
    if os.path.abspath(a) == os.path.abspath(b):
        return True
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def convert_index(
    path: str | os.PathLike,
    outdir: str | os.PathLike | None = None,
    *,
    link: bool = False,
    overwrite: bool = False,
    progress: bool | None = True,
) -> Path:
    """Write the new index files (offsets, keys, key hashes, Bloom filter), the per-sample
    checksums and the md5 file of a dataset that only has a legacy ``NAME.msgpack.index``; for a
    dataset that has ``.offsets`` but no checksums, add the checksums (see :func:`add_checksums`).

    The legacy index is checked first (a map of unique str keys to increasing offsets inside the
    data file). Everything is written under temporary names and renamed only when complete,
    the md5 file last, as one commit (:mod:`dings.format.commit`). In the input's folder the data file and the legacy index stay as they are;
    with another ``outdir`` the data file is copied there (or hard-linked with ``link``) and the
    legacy index is not.

    Args:
        path: the data file (``NAME.msgpack``) or its ``.index`` file.
        outdir: folder for the converted dataset; ``None`` (default) is the input's folder.
        link: hard-link the data file into ``outdir`` instead of copying it (falls back to a copy
            when linking is impossible, e.g. across file systems).
        overwrite: replace existing new-style index files or an existing data file in ``outdir``;
            otherwise ``FileExistsError`` (never a prompt).
        progress: show a progress bar while copying and hashing the data file.

    Returns:
        The data file of the converted dataset.

    Raises:
        FileNotFoundError: the data file or the legacy index is missing.
        dings.format.CorruptIndexError: the legacy index is malformed, repeats keys or does not
            fit the data file.
        FileExistsError: outputs exist and ``overwrite`` is false.
    """
    source = data_path(path)
    legacy = index_path(source, ".index")
    if not source.is_file():
        raise FileNotFoundError(f"{source}: data file not found")
    check_committed(source)
    if not legacy.is_file():
        if index_path(source, ".offsets").is_file() and outdir is None:
            return add_checksums(source, overwrite=overwrite, progress=progress)
        raise FileNotFoundError(f"{legacy}: legacy index not found, so there is nothing to convert")
    folder = source.parent if outdir is None else Path(outdir)
    target = folder / source.name
    in_place = _same_file(source, target)
    if not in_place:  # in place only adds files; elsewhere nothing may replace an input
        check_output_not_input([target, *dataset_paths(target)], [source, legacy])
    outputs = [index_path(target, s) for s in _NEW_INDEX + (CHECKSUMS_SUFFIX, MD5_SUFFIX)] + (
        [] if in_place else [target]
    )
    existing = [p for p in outputs if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{existing[0]}: exists ({len(existing)} output file(s) exist); pass overwrite=True "
            "(-y/--no-confirm on the command line) to replace them"
        )
    keys, offsets = legacy_load_index(source)
    declared = legacy_index_len(source)
    if declared != len(keys):
        raise CorruptIndexError(
            f"{legacy}: lists {declared} entries but only {len(keys)} distinct keys; keys repeat, so the index cannot be converted"
        )
    folder.mkdir(parents=True, exist_ok=True)
    prepare_output(target)
    pairs: list[tuple[Path, Path]] = []
    try:
        size = source.stat().st_size
        with progress_bar(total=size, desc=f"convert {source.name}", unit="B", enabled=progress) as bar:
            if in_place:
                digest = copy_file(source, None, bar)
            else:
                tmp = temp_path(target)
                pairs.append((tmp, target))
                digest = _link_or_copy(source, tmp, link, bar)
        checksums, _ = compute_checksums(source, offsets)
        digests = {target.name: digest}
        contents = {
            ".offsets": pack_offsets(offsets),
            ".keys": pack_keys(keys),
            ".key_hashes": pack_key_hashes(keys),
            ".filter": pack_filter(keys, len(keys)),
        }
        for suffix, content in contents.items():
            digests[index_path(target, suffix).name] = hashlib.md5(content).hexdigest()
        contents[CHECKSUMS_SUFFIX] = pack_checksums(checksums)  # not listed in the md5 file
        contents[".md5"] = md5_content(digests)
        pairs += _write_temporaries(target, contents)
    except BaseException:
        for tmp, _ in pairs:
            tmp.unlink(missing_ok=True)
        raise
    commit_datasets([DatasetFiles(target, pairs)])  # the md5 file last: until then the dataset does not verify
    return target


def _write_temporaries(target: Path, contents: dict[str, bytes]) -> list[tuple[Path, Path]]:
    """Write index files under temporary names (synced); return (temporary, final) pairs in order."""
    pairs = []
    for suffix, content in contents.items():
        final = index_path(target, suffix)
        tmp = temp_path(final)
        pairs.append((tmp, final))
        write_synced(tmp, content)
    return pairs


def add_checksums(path: str | os.PathLike, *, overwrite: bool = False, progress: bool | None = True) -> Path:
    """Add per-sample checksums (``NAME.msgpack.crc32``) to a dataset that has ``.offsets``.

    The data file is checked against its md5 file first (when it has one), so damaged data never
    gets checksums that bless it.

    Args:
        path: the data file or any of its index files.
        overwrite: replace an existing ``.crc32`` file; otherwise ``FileExistsError``.
        progress: show a progress bar.

    Returns:
        The data file.

    Raises:
        FileExistsError: the checksums exist and ``overwrite`` is false.
        dings.format.DamagedDataError: the data file does not match its md5 file, or the offsets
            do not fit it.
    """
    source = data_path(path)
    target = index_path(source, CHECKSUMS_SUFFIX)
    if target.exists() and not overwrite:
        raise FileExistsError(
            f"{target}: exists; pass overwrite=True (-y/--no-confirm on the command line) to rebuild it"
        )
    prepare_output(source)
    offsets = load_offsets(source)
    with progress_bar(total=1, desc=f"checksums {source.name}", unit="files", enabled=progress) as bar:
        checksums, digest = compute_checksums(source, offsets)
        bar.update()
    md5_file = index_path(source, ".md5")
    expected = load_md5(md5_file).get(source.name) if md5_file.exists() else None
    if expected is not None and expected != digest:
        raise DamagedDataError(
            f"{source}: does not match its md5 file; restore it before adding checksums", path=source
        )
    pairs = _write_temporaries(source, {CHECKSUMS_SUFFIX: pack_checksums(checksums)})
    commit_datasets([DatasetFiles(source, pairs)])
    return source


def _link_or_copy(source: Path, tmp: Path, link: bool, bar: object) -> str:
    if link:
        try:
            os.link(source, tmp)
        except OSError:
            pass  # another file system, or links not supported: copy instead
        else:
            return copy_file(source, None, bar)
    return copy_file(source, tmp, bar)
