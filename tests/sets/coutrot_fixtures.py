"""Build a small Coutrot database 1 source: a 10-frame MJPG video written with OpenCV and a gaze .mat."""

from __future__ import annotations

import zipfile
from pathlib import Path

import cv2
import numpy as np
import scipy.io

WIDTH, HEIGHT, FRAMES = 96, 72, 10
#: the static red square in the top-left corner (RGB), to check the channel order
RED = (220, 20, 20)


def frames(seed: int = 0) -> list[np.ndarray]:
    """BGR frames of a smooth texture moving right by 1 px per frame, with a static red corner."""
    rng = np.random.default_rng(seed)
    big = rng.integers(0, 256, (HEIGHT, WIDTH + FRAMES + 20), dtype=np.uint8)
    big = cv2.GaussianBlur(big, (0, 0), 2.0)
    big = cv2.normalize(big, None, 0, 255, cv2.NORM_MINMAX)
    result = []
    for t in range(FRAMES):
        gray = big[:, 10 - t : 10 - t + WIDTH]
        frame = np.dstack([gray, gray, gray]).copy()
        frame[:12, :12] = RED[::-1]  # BGR
        result.append(frame)
    return result


def write_video(path: Path, seed: int = 0) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise RuntimeError("OpenCV cannot write MJPG .avi files here")
    for frame in frames(seed):
        writer.write(frame)
    writer.release()


def struct(**fields) -> np.ndarray:
    """A 1x1 MATLAB struct with fields in this order."""
    array = np.empty((1, 1), dtype=[(name, object) for name in fields])
    for name, value in fields.items():
        array[0, 0][name] = value
    return array


def gaze() -> np.ndarray:
    """(2, frames, observers) as in the .mat: constant gaze, an all-NaN observer, gaps, one off-frame."""
    data = np.full((2, FRAMES, 4), np.nan)
    data[:, :, 0] = np.array([40.0, 30.0])[:, None]
    data[:, :, 2] = np.array([60.0, 45.0])[:, None]
    data[:, 1:3, 2] = np.nan
    data[:, :, 3] = np.array([200.0, 30.0])[:, None]  # outside the 96x72 frame
    return data


def make_coutrot(indir: Path, video: bytes | None = None) -> np.ndarray:
    """Write ``coutrot_database1.mat`` and ``ERB3_Stimuli.zip``; return the gaze of clip_1 (2, frames, observers)."""
    indir.mkdir(parents=True, exist_ok=True)
    data = gaze()
    info = struct(vidwidth=float(WIDTH), vidheight=float(HEIGHT), nframe=float(FRAMES))
    decoy = np.full((2, FRAMES, 2), 5.0)  # clip_1 also in an earlier condition: the last one wins
    database = struct(
        LandscapesSounds=struct(clip_1=struct(data=decoy, info=info)),
        OriginalSounds=struct(clip_1=struct(data=data, info=info), clip_9=struct(data=decoy, info=info)),
        Header=struct(description="synthetic"),
    )
    scipy.io.savemat(indir / "coutrot_database1.mat", {"Coutrot_Database1": database})
    if video is None:
        write_video(indir / "clip.avi")
        video = (indir / "clip.avi").read_bytes()
        (indir / "clip.avi").unlink()
    with zipfile.ZipFile(indir / "ERB3_Stimuli.zip", "w") as z:
        z.writestr("ERB3_Stimuli/readme.txt", b"not a video")
        z.writestr("ERB3_Stimuli/clip_1.avi", video)
        z.writestr("ERB3_Stimuli/clip_2.avi", video)  # no gaze data: skipped
        z.writestr("__MACOSX/ERB3_Stimuli/._clip_1.avi", b"resource fork")
    return data
