"""Coutrot database 1: gaze of observers watching 60 videos, as tracked points on video frames.

Catalog entry only; the dataset has no further metadata.
"""

from __future__ import annotations

import argparse
import math
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from dings.tools import encode_image, loadmat

from ..builder import Builder
from ..catalog import DatasetInfo, Option, SourceFile, Split
from ..converter import ConversionError
from ..extras import require_extra
from ..samples import SaliencyData, SaliencyExperiment

__all__ = [
    "EVERY",
    "INFO",
    "MAX_AGE",
    "MIN_POINTS",
    "Coutrot1",
    "PointTracker",
    "clip_gaze",
    "iter_frames",
    "video_samples",
]

#: a sample is written at most every EVERY frames
EVERY = 10
#: an observer needs this many tracked points on a frame to become an experiment
MIN_POINTS = 30
#: gaze points are tracked for at most this many frames after they were recorded
MAX_AGE = 60

INFO = DatasetInfo(
    name="Coutrot1",
    aliases=("Coutrot", "coutrot-database-1", "ERB3"),
    domain="saliency",
    tasks=("saliency-prediction", "video-saliency"),
    tags=("eye-tracking", "video", "audio-visual", "gaze"),
    description=(
        "Coutrot database 1 (Coutrot and Guyader): eye movements of observers watching 60 short videos "
        "(clip_1 … clip_60) under different auditory conditions. The converter decodes the videos, "
        "starts a point at every observer's gaze on every frame, follows the points through the "
        "following frames with pyramidal Lucas-Kanade optical flow (forward-backward checked, at most "
        f"{MAX_AGE} frames), and every {EVERY} frames or more writes the frame as a sample when at least one "
        f"observer has {MIN_POINTS} or more tracked points; each such observer is one experiment. "
        "Samples come in video and frame order, NOT SHUFFLED: use `dings shuffle` (or dings.tools.shuffle) "
        "to make a shuffled copy."
    ),
    homepage="http://antoinecoutrot.magix.net/public/databases.html",
    sources=(
        SourceFile(
            "coutrot_database1.mat",
            url="http://antoinecoutrot.magix.net/public/assets/coutrot_database1.mat",
            md5="e32e408d4970e74607234df4133a4ae2",
        ),
        SourceFile(
            "ERB3_Stimuli.zip",
            md5="e0007237c8e4cdae81f31e84ad9fb241",
            instructions=(
                "open http://antoinecoutrot.magix.net/public/databases.html, follow the 'Database 1' stimuli "
                "link (a mega.nz folder, which needs a browser), download ERB3_Stimuli.zip (the 60 clip_<n>.avi "
                "videos) and put it into INDIR unchanged"
            ),
        ),
    ),
    splits=(Split("Coutrot1", None),),
    sample_keys={
        "key": "str, 'ERB3_Stimuli/<zip member>_<frame index as 6 digits>', e.g. "
        "'ERB3_Stimuli/ERB3_Stimuli/clip_1.avi_000029' (datadings' form, kept so keys match)",
        "image": "bytes, the video frame as RGB JPEG (quality 95)",
        "experiments": "list of {locations: float32 (N, 2) array of tracked (x, y) gaze points, map: None}; "
        "one per observer with enough points",
    },
    options=(
        Option(
            ("--every",),
            "Write a sample at most every N frames (default: %(default)s).",
            {"type": int, "default": EVERY, "metavar": "N"},
        ),
        Option(
            ("--min-points",),
            "Observers need N tracked points to be an experiment (default: %(default)s).",
            {"type": int, "default": MIN_POINTS, "metavar": "N"},
        ),
        Option(
            ("--max-age",),
            "Track gaze points for at most N frames (default: %(default)s).",
            {"type": int, "default": MAX_AGE, "metavar": "N"},
        ),
    ),
    common_options=(),
    differences=(
        "frames are stored in RGB order; the reference stores them with red and blue swapped (BGR)",
        "a gaze point recorded on frame t starts tracking on frame t; the reference first moves it by the "
        "flow from frame t-1 to t, one frame too many",
        "gaze points outside the frame are not tracked, and points OpenCV reports lost or that leave the "
        "frame are dropped; the reference filters by the forward-backward error only",
        "--every, --min-points and --max-age expose the reference's fixed 10, 30 and 60",
    ),
    extra="saliency",
    converter="dings.sets.Coutrot1_write",
)


VARIABLE = "Coutrot_Database1"

WINDOW = 21

JPEG_QUALITY = 95


def _cv2() -> Any:
    return require_extra("cv2", "saliency", INFO.name)


def _gaze_array(data: Any, where: str) -> np.ndarray:
    """``data`` (2, frames, observers), squeezed by the .mat reader -> (observers, frames, 2) float32."""
    array = np.asarray(data, dtype=np.float64)
    if array.ndim == 2:  # one observer: MATLAB's trailing singleton dimension was squeezed away
        array = array[:, :, None]
    elif array.ndim == 1 and array.size == 2:
        array = array[:, None, None]
    if array.ndim != 3 or array.shape[0] != 2:
        raise ValueError(f"{where}: 'data' must be a (2, frames, observers) array of x and y, got shape {array.shape}")
    return np.ascontiguousarray(array.transpose(2, 1, 0), dtype=np.float32)


def clip_gaze(mat: Path) -> dict[str, np.ndarray]:
    """Read the gaze of every clip: clip name (``clip_<n>``) -> (observers, frames, 2) array, NaN = missing.

    Conditions are visited in the file's field order, ``Header`` is skipped; when a clip appears in
    several conditions the last one wins.

    Raises:
        ValueError: not a Coutrot database 1 ``.mat`` file (names the file and what is missing).
    """
    content = loadmat(mat, variable_names=[VARIABLE])
    database = content.get(VARIABLE)
    if not isinstance(database, dict):
        raise ValueError(f"{mat}: no struct variable {VARIABLE!r}; is this coutrot_database1.mat?")
    gaze: dict[str, np.ndarray] = {}
    for condition, clips in database.items():
        if condition == "Header":
            continue
        if not isinstance(clips, dict):
            raise ValueError(f"{mat}: {VARIABLE}.{condition} must be a struct of clips")
        for clip, value in clips.items():
            where = f"{mat}: {VARIABLE}.{condition}.{clip}"
            if not isinstance(value, dict) or "data" not in value:
                raise ValueError(f"{where}: a clip must be a struct with a 'data' field")
            gaze[clip] = _gaze_array(value["data"], where)
    return gaze


class PointTracker:
    """Gaze points followed from frame to frame with forward-backward checked Lucas-Kanade flow.

    Args:
        max_age: points recorded more than this many frames ago are dropped.
        max_error: largest forward-backward error (pixels, per coordinate) of a kept point.
    """

    def __init__(self, max_age: int = MAX_AGE, max_error: float = 1.0) -> None:
        self.cv2 = _cv2()
        self.max_age = max_age
        self.max_error = max_error
        self.observers = np.zeros(0, np.int64)
        self.starts = np.zeros(0, np.int64)
        self.points = np.zeros((0, 2), np.float32)
        self.previous: np.ndarray | None = None

    def _keep(self, mask: np.ndarray) -> None:
        self.observers, self.starts, self.points = self.observers[mask], self.starts[mask], self.points[mask]

    def _flow(
        self, source: np.ndarray, target: np.ndarray, points: np.ndarray, levels: int
    ) -> tuple[np.ndarray, np.ndarray]:
        criteria = (self.cv2.TERM_CRITERIA_EPS | self.cv2.TERM_CRITERIA_COUNT, 10, 0.03)
        moved, status, _ = self.cv2.calcOpticalFlowPyrLK(
            source,
            target,
            points.reshape(-1, 1, 2),
            None,
            winSize=(WINDOW, WINDOW),
            maxLevel=levels,
            criteria=criteria,
        )
        return moved.reshape(-1, 2), status.reshape(-1).astype(bool)

    def update(self, frame: np.ndarray, t: int, gaze: np.ndarray) -> None:
        """Move the points onto ``frame`` (index ``t``, BGR), then add the gaze recorded for it.

        Args:
            frame: the decoded BGR frame.
            t: its index in the video.
            gaze: (observers, 2) positions on this frame; rows with NaN are skipped.
        """
        gray = self.cv2.cvtColor(frame, self.cv2.COLOR_BGR2GRAY)
        height, width = gray.shape
        self._keep(t - self.starts <= self.max_age)
        if self.previous is not None and len(self.points):
            levels = max(1, math.floor(math.log2(max(min(height, width), 1) / WINDOW)))
            forward, ok_forward = self._flow(self.previous, gray, self.points, levels)
            back, ok_back = self._flow(gray, self.previous, forward, levels)
            error = np.abs(back - self.points).max(axis=1)
            inside = (forward[:, 0] >= 0) & (forward[:, 0] < width) & (forward[:, 1] >= 0) & (forward[:, 1] < height)
            keep = ok_forward & ok_back & (error < self.max_error) & inside
            self.points = forward
            self._keep(keep)
        self.previous = gray
        new = np.flatnonzero(
            ~np.isnan(gaze).any(axis=1)
            & (gaze[:, 0] >= 0)
            & (gaze[:, 0] < width)
            & (gaze[:, 1] >= 0)
            & (gaze[:, 1] < height)
        )
        self.observers = np.concatenate([self.observers, new])
        self.starts = np.concatenate([self.starts, np.full(len(new), t, np.int64)])
        self.points = np.concatenate([self.points, gaze[new].astype(np.float32)])

    def groups(self, min_points: int) -> list[tuple[int, np.ndarray]]:
        """Observers with at least ``min_points`` points, ascending, with their (N, 2) positions."""
        found = []
        for observer in np.unique(self.observers):
            points = self.points[self.observers == observer]
            if len(points) >= min_points:
                found.append((int(observer), np.ascontiguousarray(points, dtype=np.float32)))
        return found


def iter_frames(path: Path) -> Iterator[np.ndarray]:
    """Decode the video at ``path`` with OpenCV; yield its frames as BGR arrays, in decode order.

    Raises:
        ValueError: OpenCV cannot open the video.
    """
    cv2 = _cv2()
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise ValueError(f"{path}: OpenCV cannot open this video; is it a complete .avi file?")
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield frame
    finally:
        capture.release()


def video_samples(
    name: str,
    frames: Iterator[np.ndarray],
    gaze: np.ndarray,
    every: int = EVERY,
    min_points: int = MIN_POINTS,
    max_age: int = MAX_AGE,
) -> Iterator[dict[str, Any]]:
    """Yield the samples of one video.

    Args:
        name: key prefix; a sample's key is ``<name>_<frame index as 6 digits>``.
        frames: the BGR frames in order.
        gaze: (observers, frames, 2) gaze positions, NaN when missing.
        every: frames between written samples at least (counted from frame 0).
        min_points: tracked points an observer needs to be an experiment.
        max_age: frames a gaze point is tracked.
    """
    cv2 = _cv2()
    tracker = PointTracker(max_age)
    missing = np.full((gaze.shape[0], 2), np.nan, np.float32)
    last = 0
    for t, frame in enumerate(frames):
        tracker.update(frame, t, gaze[:, t] if t < gaze.shape[1] else missing)
        if t - last < every:
            continue
        groups = tracker.groups(min_points)
        if not groups:
            continue
        image = encode_image(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), "JPEG", quality=JPEG_QUALITY)
        yield SaliencyData(f"{name}_{t:06d}", image, [SaliencyExperiment(points, None) for _, points in groups])
        last = t


def _samples(
    archive: Path, members: Iterable[str], gaze: dict[str, np.ndarray], args: argparse.Namespace
) -> Iterator[dict[str, Any]]:
    with zipfile.ZipFile(archive) as z, tempfile.TemporaryDirectory(prefix="dings-coutrot1-") as tmp:
        for member in members:
            path = Path(tmp) / "video.avi"
            with z.open(member) as source, open(path, "wb") as target:
                shutil.copyfileobj(source, target, 1 << 20)
            try:
                yield from video_samples(
                    f"ERB3_Stimuli/{member}",
                    iter_frames(path),
                    gaze[PurePosixPath(member).stem],
                    every=args.every,
                    min_points=args.min_points,
                    max_age=args.max_age,
                )
            except ValueError as exc:
                raise ValueError(f"{archive}: {member}: {exc}") from exc
            finally:
                path.unlink()


class Coutrot1(Builder):
    """Coutrot1's converter: one split; every video with gaze data, frame samples in archive order."""

    info = INFO

    def open(self) -> None:
        """Check the extras and the options before anything is read."""
        _cv2()
        require_extra("scipy.io", "saliency", INFO.name)
        options = self.options
        for flag, value in (
            ("--every", options.every),
            ("--min-points", options.min_points),
            ("--max-age", options.max_age),
        ):
            if value < 1:
                raise ConversionError(f"{flag} must be at least 1, got {value}")

    def items(self, split: str) -> list[str]:
        """The videos of ``ERB3_Stimuli.zip`` that have gaze data, in archive order."""
        self.gaze = clip_gaze(self.files["coutrot_database1.mat"])
        archive = self.files["ERB3_Stimuli.zip"]
        try:
            with zipfile.ZipFile(archive) as z:
                videos = [
                    n for n in z.namelist() if n.lower().endswith(".avi") and not PurePosixPath(n).name.startswith(".")
                ]
        except zipfile.BadZipFile as exc:
            raise ConversionError(f"{archive}: not a readable zip file ({exc}); download it again") from exc
        members = [n for n in videos if PurePosixPath(n).stem in self.gaze]
        if not members:
            raise ConversionError(f"{archive}: none of its {len(videos)} videos has gaze data in coutrot_database1.mat")
        return members

    def total(self, split: str, items: Any) -> int | None:
        """Unknown: the number of frame samples depends on the videos."""
        return None

    def samples(self, split: str, results: Iterator[str]) -> Iterator[dict[str, Any]]:
        """The frame samples of every video."""
        return _samples(self.files["ERB3_Stimuli.zip"], results, self.gaze, self.options)
