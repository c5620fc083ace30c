"""Build a tiny ISPRS Vaihingen folder with the real layout: top/, gts_for_participants/, dsm/ TIFFs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

tifffile = pytest.importorskip("tifffile", reason="tifffile (extra remote-sensing) is needed to write TIFF fixtures")

ALL_AREAS = (1, 3, 5, 7, 11, 13, 15, 17, 21, 23, 26, 28, 30, 32, 34, 37)
PALETTE = np.array(
    [(255, 255, 255), (0, 0, 255), (0, 255, 255), (0, 255, 0), (255, 255, 0), (255, 0, 0), (0, 0, 0)], np.uint8
)
OFF_PALETTE = (12, 34, 56)


def make_area(
    root: Path, area: int, rng: np.random.Generator, shape: tuple[int, int], dsm_name: str
) -> dict[str, np.ndarray]:
    """Write the three TIFFs of one area; return the expected image, class ids and float DSM."""
    image = rng.integers(0, 256, size=(*shape, 3), dtype=np.uint8)
    classes = rng.integers(0, 7, size=shape)
    colours = PALETTE[classes]
    colours[0, 0] = OFF_PALETTE  # any other colour becomes class 0
    classes[0, 0] = 0
    dsm = rng.uniform(-3.0, 300.0, size=shape).astype(np.float32)
    dsm[1, 1:3] = (-0.5, 2.75)  # truncated towards zero: 0 and 2
    tifffile.imwrite(root / "top" / f"top_mosaic_09cm_area{area}.tif", image, photometric="rgb")
    tifffile.imwrite(
        root / "gts_for_participants" / f"top_mosaic_09cm_area{area}.tif",
        colours,
        photometric="rgb",
        compression="zlib",
    )
    tifffile.imwrite(root / "dsm" / dsm_name.format(area=area), dsm)
    return {"image": image.transpose(2, 0, 1), "classes": classes, "dsm": dsm}


def make_vaihingen(
    indir: Path,
    shape: tuple[int, int] = (20, 30),
    areas=ALL_AREAS,
    seed: int = 0,
    dsm_name: str = "dsm_09cm_matching_area{area}.tif",
) -> dict[int, dict[str, np.ndarray]]:
    """Write ``indir/ISPRS_semantic_labeling_Vaihingen``; return area -> expected arrays."""
    root = indir / "ISPRS_semantic_labeling_Vaihingen"
    for sub in ("top", "gts_for_participants", "dsm"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    return {area: make_area(root, area, rng, shape, dsm_name) for area in areas}
