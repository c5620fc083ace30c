"""``convert_index``: turn a legacy ``.index`` into the new index files and an md5 file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from dings.format import CorruptIndexError, data_path, index_path, legacy_index_len, legacy_load_index
from dings.format.index import pack_filter, pack_key_hashes, pack_keys, pack_offsets

from ._dataset import copy_file, temp_name
from .progress import progress_bar

__all__ = ["convert_index"]

_NEW_INDEX = (".offsets", ".keys", ".key_hashes", ".filter")


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
    progress: bool = True,
) -> Path:
    """Write the new index files (offsets, keys, key hashes, Bloom filter) and the md5 file of a
    dataset that only has a legacy ``NAME.msgpack.index``.

    The legacy index is checked first (a map of unique str keys to increasing offsets inside the
    data file). Everything is written under temporary names and renamed only when complete,
    the md5 file last. In the input's folder the data file and the legacy index stay as they are;
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
    if not legacy.is_file():
        raise FileNotFoundError(f"{legacy}: legacy index not found, so there is nothing to convert")
    folder = source.parent if outdir is None else Path(outdir)
    target = folder / source.name
    in_place = _same_file(source, target)
    outputs = [index_path(target, s) for s in _NEW_INDEX + (".md5",)] + ([] if in_place else [target])
    existing = [p for p in outputs if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{existing[0]}: exists ({len(existing)} output file(s) exist); pass overwrite=True "
            "(-y/--no-confirm on the command line) to replace them"
        )
    keys, offsets = legacy_load_index(source)
    declared = legacy_index_len(source)
    if declared != len(keys):
        raise CorruptIndexError(f"{legacy}: lists {declared} entries but only {len(keys)} distinct keys; keys repeat, so the index cannot be converted")
    folder.mkdir(parents=True, exist_ok=True)
    pairs: list[tuple[Path, Path]] = []
    try:
        size = source.stat().st_size
        with progress_bar(total=size, desc=f"convert {source.name}", unit="B", enabled=progress) as bar:
            if in_place:
                digest = copy_file(source, None, bar)
            else:
                tmp = temp_name(target)
                pairs.append((tmp, target))
                digest = _link_or_copy(source, tmp, link, bar)
        digests = {target.name: digest}
        contents = {
            ".offsets": pack_offsets(offsets),
            ".keys": pack_keys(keys),
            ".key_hashes": pack_key_hashes(keys),
            ".filter": pack_filter(keys, len(keys)),
        }
        for suffix, content in contents.items():
            final = index_path(target, suffix)
            tmp = temp_name(final)
            pairs.append((tmp, final))
            tmp.write_bytes(content)
            digests[final.name] = hashlib.md5(content).hexdigest()
        md5_final = index_path(target, ".md5")
        md5_tmp = temp_name(md5_final)
        pairs.append((md5_tmp, md5_final))
        md5_tmp.write_text("".join(f"{d}  {name}\n" for name, d in digests.items()), encoding="utf-8", newline="\n")
        for tmp, final in pairs:  # the md5 file last: until then the dataset does not verify
            os.replace(tmp, final)
    except BaseException:
        for tmp, _ in pairs:
            tmp.unlink(missing_ok=True)
        raise
    return target


def _link_or_copy(source: Path, tmp: Path, link: bool, bar: object) -> str:
    if link:
        try:
            os.link(source, tmp)
        except OSError:
            pass  # another file system, or links not supported: copy instead
        else:
            return copy_file(source, None, bar)
    return copy_file(source, tmp, bar)
