"""Coutrot database 1: gaze of observers watching 60 videos, as tracked points on video frames.

Catalog entry only; the dataset has no further metadata.
"""

from __future__ import annotations

from .catalog import DatasetInfo, Option, SourceFile, Split

__all__ = ["EVERY", "INFO", "MAX_AGE", "MIN_POINTS"]

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
        "Samples come in video and frame order, NOT SHUFFLED: use `dings shuffle` to make a shuffled copy."
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
        Option(("--every",), "Write a sample at most every N frames (default: %(default)s).",
               {"type": int, "default": EVERY, "metavar": "N"}),
        Option(("--min-points",), "Observers need N tracked points to be an experiment (default: %(default)s).",
               {"type": int, "default": MIN_POINTS, "metavar": "N"}),
        Option(("--max-age",), "Track gaze points for at most N frames (default: %(default)s).",
               {"type": int, "default": MAX_AGE, "metavar": "N"}),
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
