"""Coutrot1_write tracks gaze points through the video frames and writes every few frames a sample."""

from __future__ import annotations

import os

import numpy as np
import pytest
import scipy.io

from dings.readers import MsgpackReader
from dings.sets import Coutrot1_write, get
from dings.sets.Coutrot1 import INFO
from dings.sets.Coutrot1_write import clip_gaze
from dings.sets.converter import converter_parser
from dings.tools.image import decode_image

pytest.importorskip(
    "cv2",
    reason='OpenCV is not installed: pip install "dings-sets[saliency]" (hatch.toml should list opencv-python-headless)',
)

from .coutrot_fixtures import FRAMES, HEIGHT, RED, WIDTH, frames, make_coutrot, struct

SMALL = ("--every", "3", "--min-points", "3")


def convert(indir, outdir, *extra):
    return Coutrot1_write.main([str(indir), "-o", str(outdir), "-s", "-q", *extra])


def read(path):
    with MsgpackReader(path) as reader:
        return list(reader)


def expected_points(data, observer, t, max_age=60):
    """The texture moves right 1 px per frame: gaze recorded on frame k is at x + (t - k) on frame t."""
    points = [
        data[:, k, observer] + (t - k, 0)
        for k in range(t + 1)
        if t - k <= max_age and not np.isnan(data[:, k, observer]).any()
    ]
    return np.array(points, np.float32)


def test_samples_hold_rgb_frames_and_the_tracked_points_of_each_observer(tmp_path):
    data = make_coutrot(tmp_path / "in")
    outputs = convert(tmp_path / "in", tmp_path / "out", *SMALL)
    assert [p.name for p in outputs.written] == ["Coutrot1.msgpack"]
    samples = read(tmp_path / "out" / "Coutrot1.msgpack")
    # every 3rd frame from frame 0 on; clip_2 has no gaze data, readme.txt and __MACOSX are no videos
    assert [s["key"] for s in samples] == [f"ERB3_Stimuli/ERB3_Stimuli/clip_1.avi_{t:06d}" for t in (3, 6, 9)]
    source = frames()
    for sample, t in zip(samples, (3, 6, 9)):
        assert set(sample) == {"key", "image", "experiments"}
        image = decode_image(sample["image"], as_array=True)
        assert image.shape == (HEIGHT, WIDTH, 3)
        assert np.abs(image[2:10, 2:10].astype(int) - RED).max() < 12  # RGB, not BGR
        assert np.abs(image[20:, 20:].astype(int) - source[t][20:, 20:, ::-1]).mean() < 3
        # observer 0 always, observer 2 (gaze missing on frames 1-2) from frame 6 on with >= 3 points;
        # observer 1 has no gaze, observer 3 looks outside the frame
        observers = [0] if t == 3 else [0, 2]
        assert len(sample["experiments"]) == len(observers)
        for experiment, observer in zip(sample["experiments"], observers):
            assert set(experiment) == {"locations", "map"} and experiment["map"] is None
            assert experiment["locations"].dtype == np.float32
            expected = expected_points(data, observer, t)
            assert experiment["locations"].shape == expected.shape
            np.testing.assert_allclose(experiment["locations"], expected, atol=0.25)


def test_points_older_than_max_age_are_dropped_and_the_defaults_need_30_points(tmp_path):
    data = make_coutrot(tmp_path / "in")
    convert(tmp_path / "in", tmp_path / "aged", *SMALL, "--max-age", "4")
    samples = read(tmp_path / "aged" / "Coutrot1.msgpack")
    assert [s["key"][-6:] for s in samples] == ["000003", "000006", "000009"]
    last = samples[-1]["experiments"]
    np.testing.assert_allclose(last[0]["locations"], expected_points(data, 0, 9, max_age=4), atol=0.25)
    assert len(last[0]["locations"]) == 5
    convert(tmp_path / "in", tmp_path / "default")
    assert read(tmp_path / "default" / "Coutrot1.msgpack") == []  # 10 frames never give 30 points


def test_help_says_samples_are_not_shuffled_and_lists_the_differences():
    assert get("coutrot") is INFO
    text = converter_parser(INFO).format_help()
    assert "NOT SHUFFLED" in text and "dings shuffle" in text and "--shuffle" not in text
    assert "RGB order" in text and "ERB3_Stimuli.zip: open http://antoinecoutrot.magix.net" in text
    assert [s.manual for s in INFO.sources] == [False, True]


def test_an_unreadable_video_is_a_clear_error_and_leaves_no_output(tmp_path):
    make_coutrot(tmp_path / "in", video=b"RIFF....AVI garbage")
    with pytest.raises(ValueError, match=r"ERB3_Stimuli.zip: ERB3_Stimuli/clip_1.avi: .*OpenCV cannot open this video"):
        convert(tmp_path / "in", tmp_path / "out", *SMALL)
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_a_mat_file_of_another_dataset_is_refused(tmp_path):
    make_coutrot(tmp_path / "in")
    scipy.io.savemat(tmp_path / "in" / "coutrot_database1.mat", {"other": np.zeros(3)})
    with pytest.raises(ValueError, match=r"coutrot_database1.mat: no struct variable 'Coutrot_Database1'"):
        convert(tmp_path / "in", tmp_path / "out")


def test_a_clip_with_one_observer_keeps_its_shape(tmp_path):
    data = np.arange(2 * FRAMES, dtype=float).reshape(2, FRAMES, 1)  # scipy squeezes it to (2, FRAMES)
    scipy.io.savemat(tmp_path / "c.mat", {"Coutrot_Database1": struct(OriginalSounds=struct(clip_3=struct(data=data)))})
    gaze = clip_gaze(tmp_path / "c.mat")
    assert list(gaze) == ["clip_3"] and gaze["clip_3"].shape == (1, FRAMES, 2)
    assert np.array_equal(gaze["clip_3"][0], data[:, :, 0].T)
