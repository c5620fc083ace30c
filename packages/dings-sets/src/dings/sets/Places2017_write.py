"""Convert the Places Challenge 2017 scene parsing data to ``training`` and ``validation`` datasets.

Reads ``images.tar``, ``sceneparsing.tar`` (class maps), ``annotations_instance.tar`` and
``boundaries.tar`` (per-class boundary masks, turned into contour point lists with OpenCV); scene
labels come from the shipped ``Places2017_scenelabels.json.xz``. ``--class-counts``,
``--color-map``, ``--classes`` and ``--scenelabels`` produce metadata instead.
Run ``python -m dings.sets.Places2017_write --help`` or ``dings write Places2017 --help``.
"""

from __future__ import annotations

import argparse
import io
import json
import posixpath
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from dings.tools import loadmat, parallel_map, prepare_indir

from . import ADE20k
from ._segmentation import Archive, Named, label_map_fractions, sum_fractions, write_json
from .converter import Outputs, run_converter, shuffled
from .extras import require_extra
from .Places2017 import INFO, load_scene_map
from .samples import Places2017Data

__all__ = ["boundary_contours", "convert", "main", "read_classes", "read_colors", "sources"]

SPLITS = ("training", "validation")
NUM_CLASSES = 150


def sources(args: argparse.Namespace) -> list[str]:
    """The source files the chosen action reads."""
    if args.class_counts:
        return ["sceneparsing.tar"]
    if args.color_map:
        return ["color150.mat"]
    if args.classes:
        return ["objectInfo150.txt"]
    if args.scenelabels:
        return []  # ADE20K_2016_07_26.zip, prepared in convert with ADE20k's source facts
    return ["images.tar", "sceneparsing.tar", "annotations_instance.tar", "boundaries.tar"]


def boundary_contours(mat: bytes) -> list[list[np.ndarray]]:
    """Contours of each of the 150 class boundary masks of an ``annotations_boundary`` ``.mat`` file.

    Args:
        mat: bytes of a ``.mat`` file with ``gt.bdry``, a 150x1 cell of sparse H x W masks.

    Returns:
        150 lists of int32 ``(n, 2)`` arrays of (x, y) points (OpenCV ``findContours``, list
        retrieval, TC89-L1 approximation).

    Raises:
        ValueError: not a readable ``.mat`` file, or not this layout.
    """
    cv2 = require_extra("cv2", "segmentation", "Places2017")
    gt = loadmat(io.BytesIO(mat), variable_names=["gt"]).get("gt")
    masks = gt.get("bdry") if isinstance(gt, dict) else None
    if not isinstance(masks, list) or len(masks) != NUM_CLASSES:
        raise ValueError(f"expected a struct 'gt' with a {NUM_CLASSES}x1 cell 'bdry' of boundary masks")
    result = []
    for number, mask in enumerate(masks, 1):
        dense = mask.toarray() if hasattr(mask, "toarray") else np.asarray(mask)
        if dense.ndim != 2:
            raise ValueError(f"gt.bdry{{{number}}} is not a 2-D mask (shape {dense.shape})")
        found = cv2.findContours(np.ascontiguousarray(dense != 0, dtype=np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_TC89_L1)
        contours = found[-2]  # OpenCV 3 returned (image, contours, hierarchy), 4+ (contours, hierarchy)
        result.append([np.ascontiguousarray(c.reshape(-1, 2), dtype=np.int32) for c in contours])
    return result


def read_classes(text: str) -> list[str]:
    """Class names of ``objectInfo150.txt``: ``background``, then the first synonym of each ``Name``.

    Raises:
        ValueError: the header has no ``Name`` column.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    header = [h.strip() for h in lines[0].split("\t")] if lines else []
    if "Name" not in header:
        raise ValueError("objectInfo150.txt: expected a tab-separated table with a Name column")
    column = header.index("Name")
    names = ["background"]
    for number, line in enumerate(lines[1:], 2):
        cells = line.split("\t")
        if len(cells) <= column:
            raise ValueError(f"objectInfo150.txt line {number}: no Name column")
        names.append(cells[column].split(",")[0].split(";")[0].strip())
    return names


def read_colors(path: Path) -> list[list[int]]:
    """``[[0, 0, 0]]`` followed by the rows of ``colors`` in ``color150.mat`` (RGB order)."""
    colors = loadmat(path, variable_names=["colors"]).get("colors")
    if not isinstance(colors, np.ndarray) or colors.ndim != 2 or colors.shape[1] != 3:
        raise ValueError(f"{path}: expected a variable 'colors' of shape N x 3")
    return [[0, 0, 0]] + [[int(v) for v in row] for row in colors]


def _images(archive: Archive) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {split: [] for split in SPLITS}
    for name in archive.names():
        parts = name.split("/")
        if len(parts) == 3 and parts[1] in groups:
            groups[parts[1]].append(name)
    return groups


def _scenelabels(args: argparse.Namespace, outputs: Outputs) -> None:
    from .ADE20k_write import read_index, scene_labels

    source = ADE20k.INFO.source("ADE20K_2016_07_26.zip")
    spec = {source.name: {"path": source.name, "url": source.url, "md5": source.md5}}
    located = prepare_indir(spec, Path(args.indir), skip_verification=args.skip_verification, progress=not args.quiet)
    with Archive(located[source.name]["path"]) as archive:
        filenames, scenes = read_index(archive)
    position = {scene: i for i, scene in enumerate(scene_labels(scenes))}
    path = write_json(outputs.outdir / "Places2017_scenelabels.json", {f: position[s] for f, s in zip(filenames, scenes)})
    print(f"wrote {path}")


def _boundaries(archive: Archive, names: Sequence[str]) -> Iterator[tuple[str, bytes]]:
    for name in names:
        yield f"{archive.path}:{name}", archive.read(name)


def convert(args: argparse.Namespace, files: dict[str, Path], outputs: Outputs) -> None:
    """Write every split of Places2017, or the metadata an option asks for."""
    if args.scenelabels:
        return _scenelabels(args, outputs)
    if args.classes:
        print(json.dumps(read_classes(files["objectInfo150.txt"].read_text(encoding="utf-8"))))
        return None
    if args.color_map:
        path = write_json(outputs.outdir / "Places2017_colors.json", read_colors(files["color150.mat"]))
        print(f"wrote {path}")
        return None
    if args.class_counts:
        with Archive(files["sceneparsing.tar"]) as maps:
            names = [n for n in maps.names() if n.startswith("annotations_sceneparsing/training/") and n.endswith(".png")]
            per_image = parallel_map(Named(label_map_fractions), ((f"{maps.path}:{n}", maps.read(n)) for n in names),
                                     workers=args.threads, chunksize=8)
            indexes, counts = sum_fractions(per_image)
        path = write_json(outputs.outdir / "Places2017_counts.json", {"INDEXES": indexes, "COUNTS": counts})
        print(f"wrote {path}")
        return None
    scene_of = load_scene_map()
    with Archive(files["images.tar"]) as images, Archive(files["sceneparsing.tar"]) as maps, \
            Archive(files["annotations_instance.tar"]) as instances, Archive(files["boundaries.tar"]) as boundaries:
        for split, members in _images(images).items():
            if not outputs.wanted(split):
                continue
            if args.shuffle:
                members = shuffled(members, args.seed)
            keys = [posixpath.basename(m) for m in members]
            stems = [posixpath.splitext(k)[0] for k in keys]
            for member, key in zip(members, keys):
                if key not in scene_of:
                    raise ValueError(f"{images.path}: {member} has no scene label in Places2017_scenelabels.json.xz")
            contours = parallel_map(Named(boundary_contours),
                                    _boundaries(boundaries, [f"annotations_boundary/{split}/{s}.mat" for s in stems]),
                                    workers=args.threads, chunksize=2)
            samples = (
                Places2017Data(
                    key,
                    images.read(member),
                    scene_of[key],
                    maps.read(f"annotations_sceneparsing/{split}/{stem}.png"),
                    instances.read(f"annotations_instance/{split}/{stem}.png"),
                    boundary,
                )
                for member, key, stem, boundary in zip(members, keys, stems, contours)
            )
            outputs.write(split, samples, total=len(members))
    return None


def main(argv: Sequence[str] | None = None) -> Outputs:
    """Command-line entry point."""
    return run_converter(INFO, convert, argv, sources=sources)


if __name__ == "__main__":
    main()
