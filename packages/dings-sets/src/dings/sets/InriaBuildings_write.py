"""Convert Inria Aerial Image Labeling to ``train.msgpack`` (whole images), ``val`` and ``test`` (tiles).

INDIR contains the unpacked ``AerialImageDataset/``: ``train/images/<location><n>.tif`` (RGB),
``train/gt/<location><n>.tif`` (0 = background, 255 = building) and ``test/images/<location><n>.tif``.
TIFFs are read with tifffile; images are stored as JPEG (quality 95, no chroma subsampling), labels as 1-bit PNG. Each image
is read and encoded by one worker (``-t``); results keep the input order, so the output is the same
for any thread count.

Run ``python -m dings.sets.InriaBuildings_write --help`` or ``dings write InriaBuildings --help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from dings.tools import encode_image, parallel_map, resolve_workers

from ._tiles import grid_tiles, read_tiff
from .converter import Outputs, run_converter
from .extras import require_extra
from .InriaBuildings import FOLDER, INFO
from .samples import ImageData, ImageSegmentationData

__all__ = ["Scene", "convert", "encode_scene", "main", "scenes"]


class Scene(NamedTuple):
    """One source image to convert (a picklable job for a worker).

    Args:
        name: file name, e.g. ``vienna6.tif`` (the key, or the key prefix of its tiles).
        image: path of the RGB TIFF.
        gt: path of the ground-truth TIFF, or ``None`` (test).
        tile_size: tile height and width, or ``None`` to write the whole image.
        keep_edges: also write the smaller edge tiles.
    """

    name: str
    image: Path
    gt: Path | None
    tile_size: int | None
    keep_edges: bool = False


def _read_rgb(path: Path) -> np.ndarray:
    image = read_tiff(path, "InriaBuildings")
    if image.shape[0] != 3 or image.dtype != np.uint8:
        raise ValueError(f"{path}: expected a 3-band uint8 RGB image, got {image.dtype} with {image.shape[0]} bands")
    return image


def _read_gt(path: Path, size: tuple[int, ...], image: Path) -> np.ndarray:
    gt = read_tiff(path, "InriaBuildings")
    if gt.shape[0] != 1:
        raise ValueError(f"{path}: expected a single-band ground truth, got {gt.shape[0]} bands")
    if gt.shape[1:] != size:
        raise ValueError(f"{path}: size {gt.shape[1:]} differs from the image's {size} ({image.name})")
    return gt[0] == 255


def _jpeg(image: np.ndarray) -> bytes:
    return encode_image(np.ascontiguousarray(image.transpose(1, 2, 0)), "JPEG", quality=95, subsampling="4:4:4")


def _png1(mask: np.ndarray) -> bytes:
    return encode_image(np.ascontiguousarray(mask, dtype=bool), "PNG", optimize=True)


def encode_scene(scene: Scene) -> list[tuple[str, bytes, bytes | None]]:
    """Read one scene and encode it whole or in tiles: ``[(key, jpeg, 1-bit png or None)]`` in grid order.

    Raises:
        FileNotFoundError: a TIFF is missing.
        ValueError: a TIFF is unreadable or has the wrong bands, type or size.
    """
    require_extra("PIL.Image", "remote-sensing", "InriaBuildings")
    image = _read_rgb(scene.image)
    gt = None if scene.gt is None else _read_gt(scene.gt, image.shape[1:], scene.image)
    if scene.tile_size is None:
        return [(scene.name, _jpeg(image), None if gt is None else _png1(gt))]
    arrays = [image] if gt is None else [image, gt]
    return [
        (f"{scene.name}_{idx}", _jpeg(tiles[0]), None if gt is None else _png1(tiles[1]))
        for idx, tiles in grid_tiles(arrays, scene.tile_size, keep_edges=scene.keep_edges)
    ]


def scenes(args: argparse.Namespace, root: Path, split: str) -> list[Scene]:
    """The scenes of ``split`` in the order they are written (locations as given, then image numbers)."""
    keep = args.edge_tiles == "keep"
    if split == "test":
        return [Scene(f"{loc}{n}.tif", root / "test" / "images" / f"{loc}{n}.tif", None, args.tile_size, keep)
                for loc in args.test_locations for n in args.test_ids]
    val_ids = set(args.val_ids)
    ids = [n for n in args.ids if (n in val_ids) == (split == "val")]
    tile_size = None if split == "train" else args.tile_size
    return [
        Scene(f"{loc}{n}.tif", root / "train" / "images" / f"{loc}{n}.tif", root / "train" / "gt" / f"{loc}{n}.tif",
              tile_size, keep)
        for loc in args.locations for n in ids
    ]


def samples(encoded: Iterator[list[tuple[str, bytes, bytes | None]]]) -> Iterator[dict[str, Any]]:
    """Turn the workers' results into samples (with ``label_image`` where there is ground truth)."""
    for items in encoded:
        for key, image, label in items:
            yield ImageData(key, image) if label is None else ImageSegmentationData(key, image, label)


def convert(args: argparse.Namespace, files: dict[str, Path], outputs: Outputs) -> None:
    """Write the train, val and test splits of Inria Aerial Image Labeling (see the module docstring)."""
    root = files[FOLDER]
    for split in ("train", "val", "test"):
        if not outputs.wanted(split):
            continue
        jobs = scenes(args, root, split)
        # a whole 5000x5000 scene is 75 MB: keep few of them in flight
        encoded = parallel_map(encode_scene, jobs, workers=args.threads, max_pending=2 * resolve_workers(args.threads))
        outputs.write(split, samples(encoded), total=len(jobs) if split == "train" else None)


def main(argv: Sequence[str] | None = None) -> Outputs:
    """Command-line entry point."""
    return run_converter(INFO, convert, argv)


if __name__ == "__main__":
    main()
