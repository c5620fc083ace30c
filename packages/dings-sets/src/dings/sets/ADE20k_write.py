"""Convert ADE20K (``ADE20K_2016_07_26.zip``) to ``training`` and ``validation`` datasets.

Each ``.jpg`` gets its scene label from ``index_ade20k.mat``, its ``_seg.png`` converted to a 16-bit
PNG of class ids (R / 10 * 256 + G) and its ``_parts_<k>.png`` files converted the same way.
Run ``python -m dings.sets.ADE20k_write --help`` or ``dings write ADE20k --help``.
"""

from __future__ import annotations

import argparse
import io
import posixpath
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dings.tools import decode_image, encode_label_map, loadmat, parallel_map

from ._segmentation import Archive, Named, class_fractions, sum_fractions, write_json
from .ADE20k import INFO
from .converter import Outputs, run_converter, shuffled
from .extras import require_extra
from .samples import ADE20kData

__all__ = ["convert", "convert_label", "decode_classes", "main", "read_index", "scene_labels"]

ROOT = "ADE20K_2016_07_26"
SPLITS = ("training", "validation")


def decode_classes(png: bytes) -> np.ndarray:
    """Class ids of an ADE ``_seg``/``_parts`` PNG: ``R // 10 * 256 + G`` as uint16."""
    require_extra("PIL.Image", "segmentation", "ADE20k")
    rgb = decode_image(png, mode="RGB", as_array=True).astype(np.uint16)
    return (rgb[..., 0] // 10) * 256 + rgb[..., 1]


def convert_label(png: bytes) -> bytes:
    """An ADE ``_seg``/``_parts`` PNG as a 16-bit grayscale PNG of class ids."""
    return encode_label_map(decode_classes(png).astype(np.uint16), compress_level=9)


def _convert_item(item: tuple[bytes, list[bytes]]) -> tuple[bytes, list[bytes]]:
    seg, parts = item
    return convert_label(seg), [convert_label(p) for p in parts]


def _fractions(png: bytes) -> tuple[list[int], list[float]]:
    return class_fractions(decode_classes(png))


def _cells(value: Any, what: str) -> list[str]:
    if isinstance(value, str):  # a single-entry cell is squeezed to its string
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ValueError(f"index_ade20k.mat: index.{what} must be a cell of strings")


def read_index(archive: Archive) -> tuple[list[str], list[str]]:
    """``(filenames, scenes)`` of ``index_ade20k.mat`` (``index.filename`` and ``index.scene``).

    Raises:
        ValueError: the file is missing or has not this layout.
    """
    name = f"{ROOT}/index_ade20k.mat"
    data = loadmat(io.BytesIO(archive.read(name)), variable_names=["index"]).get("index")
    if not isinstance(data, dict) or "filename" not in data or "scene" not in data:
        raise ValueError(f"{archive.path}:{name}: expected a struct 'index' with fields filename and scene")
    filenames, scenes = _cells(data["filename"], "filename"), _cells(data["scene"], "scene")
    if len(filenames) != len(scenes):
        raise ValueError(f"{archive.path}:{name}: index.filename and index.scene differ in length")
    return filenames, scenes


def scene_labels(scenes: Sequence[str]) -> list[str]:
    """The sorted distinct scene names; a scene's position is its ``label``."""
    return sorted(set(scenes))


def _samples_of(archive: Archive, split: str) -> list[tuple[str, str, list[str]]]:
    """``(image member, _seg member, [part members])`` of every image of ``split``, archive order."""
    names = archive.names()
    found = []
    for name in names:
        if split in name and name.endswith(".jpg"):
            prefix = name[: -len(".jpg")]
            parts = []
            while f"{prefix}_parts_{len(parts) + 1}.png" in archive:
                parts.append(f"{prefix}_parts_{len(parts) + 1}.png")
            found.append((name, f"{prefix}_seg.png", parts))
    return found


def _read(archive: Archive, items: Sequence[tuple[str, str, list[str]]]) -> Iterator[tuple[str, tuple[bytes, list[bytes]]]]:
    for _, seg, parts in items:
        yield f"{archive.path}:{seg}", (archive.read(seg), [archive.read(p) for p in parts])


def convert(args: argparse.Namespace, files: dict[str, Path], outputs: Outputs) -> None:
    """Write every split of ADE20k, or the statistics/scene list the options ask for."""
    outdir = outputs.outdir
    with Archive(files["ADE20K_2016_07_26.zip"]) as archive:
        if args.scenelabels:
            path = write_json(outdir / "ADE20k_scenelabels.json", scene_labels(read_index(archive)[1]))
            print(f"wrote {path}")
            return
        if args.calculate_weights:
            segs = ((f"{archive.path}:{seg}", archive.read(seg)) for _, seg, _ in _samples_of(archive, "training"))
            indexes, counts = sum_fractions(parallel_map(Named(_fractions), segs, workers=args.threads, chunksize=4))
            path = write_json(outdir / "ADE20k_counts.json", {"INDEXES": indexes, "COUNTS": counts})
            print(f"wrote {path}")
            return
        filenames, scenes = read_index(archive)
        position = {scene: i for i, scene in enumerate(scene_labels(scenes))}
        scene_of = {filename: position[scene] for filename, scene in zip(filenames, scenes)}
        for split in SPLITS:
            if not outputs.wanted(split):
                continue
            items = _samples_of(archive, split)
            if args.shuffle:
                items = shuffled(items, args.seed)
            keys = [posixpath.basename(image) for image, _, _ in items]
            for key in keys:
                if key not in scene_of:
                    raise ValueError(f"{archive.path}: {key} has no entry in {ROOT}/index_ade20k.mat; download the archive again")
            converted = parallel_map(Named(_convert_item), _read(archive, items), workers=args.threads, chunksize=4)
            samples = (ADE20kData(key, archive.read(image), scene_of[key], label, parts)
                       for key, (image, _, _), (label, parts) in zip(keys, items, converted))
            outputs.write(split, samples, total=len(items))


def main(argv: Sequence[str] | None = None) -> Outputs:
    """Command-line entry point."""
    return run_converter(INFO, convert, argv)


if __name__ == "__main__":
    main()
