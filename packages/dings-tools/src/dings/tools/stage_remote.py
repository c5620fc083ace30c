"""What :func:`dings.tools.stage` needs for URL sources: find the datasets, read their md5 files, copy verified."""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any

from dings.format import (
    MANIFEST_SUFFIX,
    MAX_JSON_BYTES,
    MD5_SUFFIX,
    CorruptIndexError,
    index_size_limit,
    parse_manifest,
    parse_md5,
)
from dings.readers import RemoteFiles, RetryPolicy, data_url, join_url, natural_sort_key, resolve_dataset, url_name

from ._dataset import copy_blocks
from .stage_plan import SIDECAR_SUFFIXES, StagePlan, check_listed_name, check_sizes

__all__ = ["BLOCK_SIZE", "find_remote_datasets", "remote_manifest", "remote_plans"]

#: bytes per ranged request while copying
BLOCK_SIZE = 8 << 20


def find_remote_datasets(files: RemoteFiles, source: str) -> list[str]:
    """Data file URLs that ``source`` names, in natural order.

    Args:
        files: the remote filesystem.
        source: a dataset URL (data or index file), a glob pattern, or a folder URL ending in ``/``
            (every ``*.msgpack`` directly in it).

    Raises:
        FileNotFoundError: a pattern or folder matches no dataset.
    """
    pattern = source + "*.msgpack" if source.endswith("/") else source
    path_part = pattern.split("?", 1)[0] if pattern.lower().startswith(("http://", "https://")) else pattern
    if not glob.has_magic(path_part):
        return [data_url(source)]
    found = {data_url(url) for url in files.glob(pattern)}
    urls = [url for url in found if url_name(url).endswith(".msgpack")]
    if not urls:
        raise FileNotFoundError(f"{source}: no .msgpack dataset matches this pattern")
    return sorted(urls, key=natural_sort_key)


def _parse_md5(content: bytes, md5_url: str, data: str) -> dict[str, str]:
    expected = parse_md5(content, md5_url)
    for name in expected:
        if "/" in name or os.sep in name or (os.altsep and os.altsep in name) or name in ("", ".", ".."):
            raise CorruptIndexError(f"{md5_url}: refers to {name!r}, which is not a file next to the dataset")
        check_listed_name(data, name, md5_url)
    return expected


def _remote_plan(files: RemoteFiles, url: str) -> StagePlan:
    name = url_name(url)
    md5_url = join_url(url, name + ".md5")
    try:
        # the md5 file's limit is the same for every data size; a larger one is never downloaded
        content = files.cat(md5_url, f"the md5 file of {url}", index_size_limit(MD5_SUFFIX, 0))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{md5_url}: md5 file missing, so a copy cannot be verified; "
            "for a legacy dataset run convert_index first, otherwise rewrite the dataset"
        ) from None
    expected = _parse_md5(content, md5_url, name)
    if name not in expected:
        raise CorruptIndexError(f"{md5_url}: has no checksum for the data file {name}")
    sizes: dict[str, int] = {}

    def size(file: str) -> int:
        if file not in sizes:
            try:
                sizes[file] = files.size(join_url(url, file), f"{file} of {url}")
            except FileNotFoundError:
                raise FileNotFoundError(
                    f"{join_url(url, file)}: listed in {name}.md5 but missing in the source"
                ) from None
        return sizes[file]

    def copy(file: str, target: Path | None, bar: Any) -> str:
        blocks = files.iter_blocks(join_url(url, file), size(file), BLOCK_SIZE, f"{file} of {url}")
        return copy_blocks(blocks, target, bar)

    for file in expected:
        size(file)  # every listed file must exist before anything is copied
    sidecars = []
    for suffix in SIDECAR_SUFFIXES:
        try:
            sizes[name + suffix] = files.size(join_url(url, name + suffix), f"{name + suffix} of {url}")
            sidecars.append(name + suffix)
        except FileNotFoundError:
            pass  # optional
    plan = StagePlan(name, lambda file: join_url(url, file), name + ".md5", content, expected, size, copy, sidecars)
    check_sizes(plan)  # from the sizes the server told: nothing too large is fetched
    return plan


def _names_a_set(source: str) -> bool:
    """Whether a URL names a partitioned set: its manifest, or its folder (without a trailing ``/``)."""
    path_part = source.split("?", 1)[0]
    name = url_name(source)
    if name.endswith(MANIFEST_SUFFIX):
        return True
    return not (
        path_part.endswith("/") or glob.has_magic(path_part) or name.endswith(".msgpack") or data_url(source) != source
    )


def remote_plans(source: str, storage_options: dict[str, Any] | None, retries: int, backoff: float) -> list[StagePlan]:
    """The datasets a URL ``source`` names, with their md5 files read and their files' sizes known."""
    files = RemoteFiles(source, storage_options, RetryPolicy(retries, backoff))
    if _names_a_set(source):
        urls = list(resolve_dataset(source, storage_options=storage_options).shards)
    else:
        urls = find_remote_datasets(files, source)
    return [_remote_plan(files, url) for url in urls]


def remote_manifest(
    source: str, storage_options: dict[str, Any] | None, retries: int, backoff: float
) -> tuple[str, bytes] | None:
    """The name and content of the manifest of the partitioned set a URL names, or ``None``."""
    if not _names_a_set(source):
        return None
    manifest = resolve_dataset(source, storage_options=storage_options).manifest
    if manifest is None:
        return None
    files = RemoteFiles(manifest, storage_options, RetryPolicy(retries, backoff))
    content = files.cat(manifest, "the manifest", max_size=MAX_JSON_BYTES)
    name = url_name(manifest)
    parse_manifest(content, manifest, name=name[: -len(MANIFEST_SUFFIX)])  # what is copied is checked
    return name, content
