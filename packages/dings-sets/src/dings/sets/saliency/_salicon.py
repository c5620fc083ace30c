"""What SALICON2015 and SALICON2017 share: the catalog entry and the converter (only fixations.zip differs)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..builder import Builder
from ..catalog import DatasetInfo, SourceFile, Split
from ..samples import SaliencyData, SaliencyTimeseriesExperiment
from ._gaze import is_clutter, load_mat_bytes, open_zip, points, read_member

__all__ = ["SPLITS", "SaliconBuilder", "experiments", "make_sample", "salicon_info"]

#: split name -> number of images in the real image.zip
SPLITS = {"train": 10_000, "val": 5_000, "test": 5_000}

_DRIVE = "https://drive.google.com/uc?id={}&export=download"
_IMAGES = SourceFile(
    "image.zip",
    url=_DRIVE.format("1g8j-hTT-51IG1UFwP0xTGhLdgIUCW5e5"),
    md5="eb2a1bb706633d1b31fc2e01422c5757",
)


def salicon_info(name: str, year: int, drive_id: str, md5: str) -> DatasetInfo:
    """The catalog entry of one SALICON edition.

    Args:
        name: ``SALICON2015`` or ``SALICON2017``.
        year: the edition (2015 or 2017).
        drive_id: Google Drive id of its ``fixations.zip``.
        md5: md5 of its ``fixations.zip``.
    """
    return DatasetInfo(
        name=name,
        aliases=(name.lower(), f"SALICON-{year}"),
        domain="saliency",
        tasks=("saliency-prediction", "fixation-prediction"),
        tags=("mouse-tracking", "free-viewing", "ms-coco", "lsun-challenge", f"salicon-{year}"),
        description=(
            f"SALICON ({year} edition of the fixations): 20,000 MS-COCO images (640x480; 10,000 train, "
            "5,000 val, 5,000 test) with 'fixations' recorded by mouse tracking on a blurred image that "
            "is sharp around the cursor (Jiang, Huang, Duan and Zhao, 'SALICON: Saliency in Context', "
            "CVPR 2015; used by the LSUN saliency challenges). One experiment per viewer holds the raw "
            "cursor samples with their timestamps and the detected fixations, in 1-based MATLAB pixel "
            "coordinates. Test fixations are withheld. Both editions use the same file names, so each "
            "needs its own input folder."
        ),
        homepage="http://salicon.net/",
        sources=(
            _IMAGES,
            SourceFile("fixations.zip", url=_DRIVE.format(drive_id), md5=md5),
        ),
        splits=tuple(Split(split, count) for split, count in SPLITS.items()),
        sample_keys={
            "key": "str, <split>/<image stem>, e.g. train/COCO_train2014_000000000009",
            "image": "bytes, the original JPEG",
            "experiments": "list, one per viewer: {locations: float32 (K, 2) raw cursor x, y (1-based); map: "
            "None; timestamps: float32 (K,) ms; fixations: float32 (M, 2) x, y (1-based)}; empty in the test set",
        },
        common_options=("shuffle", "threads"),
        differences=(
            "a test image without <stem>.mat in fixations.zip gets no experiments (datadings fails)",
            "-y/--no-confirm is honoured (datadings does not pass it on for SALICON)",
            "gaze fields are read by name (location, timestamp, fixations), not by position",
            "Google Drive's virus-scan confirmation page for big files is confirmed like a browser would "
            "(datadings saves the page); any other HTML page saved instead of a zip is reported as such, "
            "with the URL to download in a browser",
            "-t/--threads parses the .mat files in parallel with identical output; --seed makes the "
            "shuffled order reproducible",
        ),
        extra="saliency",
        converter=f"dings.sets.{name}_write",
    )


def experiments(mat: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """One experiment per element of the ``gaze`` struct array of a loaded SALICON ``.mat`` file.

    Args:
        mat: the variables of the file; without ``gaze`` there are no experiments.
        name: the file, for error messages.

    Raises:
        ValueError: ``gaze`` is not a struct array with ``location``, ``timestamp``, ``fixations``.
    """
    gaze = mat.get("gaze")
    if gaze is None or (isinstance(gaze, np.ndarray) and gaze.size == 0):
        return []
    observers = [gaze] if isinstance(gaze, dict) else gaze
    if not isinstance(observers, list) or not all(isinstance(o, dict) for o in observers):
        raise ValueError(f"{name}: gaze must be a struct array, got {type(gaze).__name__}")
    result = []
    for index, observer in enumerate(observers):
        missing = {"location", "timestamp", "fixations"} - set(observer)
        if missing:
            raise ValueError(f"{name}: gaze({index + 1}) lacks the field(s) {', '.join(sorted(missing))}")
        timestamps = np.asarray(observer["timestamp"])
        if timestamps.dtype.kind not in "biuf":
            raise ValueError(f"{name}: gaze({index + 1}).timestamp must be numeric, got {timestamps.dtype}")
        result.append(
            SaliencyTimeseriesExperiment(
                points(observer["location"], f"{name}: gaze({index + 1}).location"),
                None,
                np.ascontiguousarray(timestamps.reshape(-1), dtype=np.float32),
                points(observer["fixations"], f"{name}: gaze({index + 1}).fixations"),
            )
        )
    return result


def make_sample(job: tuple[str, bytes, tuple[str, bytes] | None, str]) -> dict[str, Any]:
    """Build one sample from ``(key, image bytes, (mat name, mat bytes) or None, dataset name)``."""
    key, image, mat, dataset = job
    found = experiments(load_mat_bytes(mat[1], mat[0], dataset), mat[0]) if mat is not None else []
    return SaliencyData(key, image, found)


class SaliconBuilder(Builder):
    """The converter of a SALICON edition (subclasses set ``info``).

    Images are the ``images/<split>/*.jpg`` members of ``image.zip``; the experiments of
    ``images/<key>.jpg`` come from ``<key>.mat`` in ``fixations.zip`` (none if it is missing). The
    ``.mat`` files are parsed on the worker threads.
    """

    def open(self) -> None:
        """Open both zips and list the images."""
        self.images = self.stack.enter_context(open_zip(self.files["image.zip"], self.info.source("image.zip").url))
        self.fixations = self.stack.enter_context(
            open_zip(self.files["fixations.zip"], self.info.source("fixations.zip").url)
        )
        self.mats = set(self.fixations.namelist())
        self.members = [
            m for m in self.images.namelist() if m.startswith("images/") and m.endswith(".jpg") and not is_clutter(m)
        ]

    def items(self, split: str) -> list[str]:
        """The image members of ``split`` in archive order."""
        return [m for m in self.members if m.split("/")[1] == split]

    def read(self, member: str) -> tuple[str, bytes, tuple[str, bytes] | None, str]:
        """The input of :func:`make_sample`."""
        key = member[len("images/") : -len(".jpg")]
        mat = f"{key}.mat"
        found = (f"fixations.zip:{mat}", read_member(self.fixations, mat)) if mat in self.mats else None
        return key, read_member(self.images, member), found, self.info.name

    def transform(self) -> Any:
        """:func:`make_sample` runs on the worker threads."""
        return make_sample
