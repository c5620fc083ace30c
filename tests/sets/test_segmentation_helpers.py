"""The shared segmentation helpers: colour lookup both ways, fractions, weights, archives, JSON output."""

from __future__ import annotations

import numpy as np
import pytest

from dings.sets import ADE20k, CAMVID, Cityscapes, Places2017, VOC2012
from dings.sets.colors import colors_to_indices, index_to_color
from dings.sets.segmentation._segmentation import (
    Archive,
    class_fractions,
    median_frequency_weights,
    sum_fractions,
    write_json,
)


def test_colors_to_indices_uses_the_first_match_and_a_default():
    table = [(0, 0, 0), (255, 0, 0), (0, 255, 0), (255, 0, 0)]
    image = np.array([[[255, 0, 0], [0, 255, 0]], [[1, 2, 3], [0, 0, 0]]], dtype=np.uint8)
    assert colors_to_indices(image, table, default=9).tolist() == [[1, 2], [9, 0]]
    assert colors_to_indices(image, np.zeros((300, 3)), default=0).dtype == np.uint16
    with pytest.raises(ValueError, match="H x W x 3"):
        colors_to_indices(np.zeros((2, 2)), table)


def test_colors_to_indices_takes_band_first_rasters_and_colour_mappings():
    rgb = np.array([[[255, 0, 7]], [[0, 0, 9]], [[0, 0, 7]]], np.uint8)  # (3, 1, 3): red, black, (7, 9, 7)
    mapping = {(255, 0, 0): 5, (0, 0, 0): 6}
    assert colors_to_indices(rgb, mapping, channel_axis=0).tolist() == [[5, 6, 0]]
    assert colors_to_indices(rgb, {(255, 0, 0): 5}, default=9, channel_axis=0).tolist() == [[5, 9, 9]]
    assert colors_to_indices(rgb, {(255, 0, 0): 300}, channel_axis=0).dtype == np.uint16
    with pytest.raises(ValueError, match=r"3 x H x W"):
        colors_to_indices(rgb[:2], mapping, channel_axis=0)


def test_index_to_color_draws_unknown_indices_black():
    colors = np.array([[1, 2, 3], [4, 5, 6]], np.uint8)
    assert index_to_color(np.array([1, 0, 2, -1]), colors).tolist() == [[4, 5, 6], [1, 2, 3], [0, 0, 0], [0, 0, 0]]
    with pytest.raises(ValueError, match="integer class indices"):
        index_to_color(np.array([0.5]), colors)


@pytest.mark.parametrize("module", [ADE20k, CAMVID, Cityscapes, Places2017, VOC2012])
def test_every_segmentation_module_colours_label_maps(module):
    colored = module.index_to_color(np.zeros((2, 3), np.uint8))
    assert colored.shape == (2, 3, 3) and colored.dtype == np.uint8
    assert module.INFO.domain == "segmentation" and module.INFO.extra == "segmentation"


def test_fractions_and_weights():
    assert class_fractions(np.array([[3, 3], [1, 3]])) == ([1, 3], [0.25, 0.75])
    assert sum_fractions([([1, 3], [0.25, 0.75]), ([3], [1.0])]) == ([1, 3], [0.25, 1.75])
    assert median_frequency_weights([1, 2, 4]) == pytest.approx([2.0, 1.0, 0.5])
    with pytest.raises(ValueError, match="must be positive"):
        median_frequency_weights([1, 0])
    with pytest.raises(ValueError, match="non-empty"):
        median_frequency_weights([])


def test_archive_refuses_other_files_and_write_json_is_atomic(tmp_path):
    (tmp_path / "x.zip").write_bytes(b"neither zip nor tar")
    with pytest.raises(ValueError, match=r"x.zip: not a readable zip or tar archive"):
        Archive(tmp_path / "x.zip")
    path = write_json(tmp_path / "sub" / "out.json", {"a": [1]})
    assert path.read_text() == '{"a": [1]}' and not (tmp_path / "sub" / "out.json.part").exists()
