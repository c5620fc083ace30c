"""iter_tiles: tiles with positions, partial edge tiles kept, dropped or padded."""

from __future__ import annotations

import numpy as np
import pytest

from dings.tools import iter_tiles


def image(h=5, w=7, c=None):
    shape = (h, w) if c is None else (h, w, c)
    return np.arange(np.prod(shape), dtype=np.int32).reshape(shape)


def reassemble(tiles, shape):
    out = np.full(shape, -1, dtype=np.int32)
    for (y, x), tile in tiles:
        out[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
    return out


def test_keep_covers_the_array_exactly_with_smaller_edge_tiles():
    arr = image(5, 7, 3)
    tiles = list(iter_tiles(arr, (2, 3)))
    assert [pos for pos, _ in tiles] == [(y, x) for y in (0, 2, 4) for x in (0, 3, 6)]
    assert [t.shape for _, t in tiles][:3] == [(2, 3, 3), (2, 3, 3), (2, 1, 3)]
    assert tiles[-1][1].shape == (1, 1, 3)
    np.testing.assert_array_equal(reassemble(tiles, arr.shape), arr)
    assert all(np.shares_memory(t, arr) for _, t in tiles)  # views, no copies


def test_drop_yields_only_whole_tiles():
    arr = image(5, 7)
    tiles = list(iter_tiles(arr, 2, partial="drop"))
    assert [pos for pos, _ in tiles] == [(y, x) for y in (0, 2) for x in (0, 2, 4)]
    assert all(t.shape == (2, 2) for _, t in tiles)
    np.testing.assert_array_equal(tiles[4][1], arr[2:4, 2:4])


def test_pad_fills_edge_tiles_to_full_size():
    arr = image(5, 7).astype(np.uint8)
    tiles = dict(iter_tiles(arr, (4, 4), partial="pad", pad_value=255))
    assert set(tiles) == {(0, 0), (0, 4), (4, 0), (4, 4)}
    assert all(t.shape == (4, 4) and t.dtype == np.uint8 for t in tiles.values())
    corner = tiles[(4, 4)]
    np.testing.assert_array_equal(corner[:1, :3], arr[4:, 4:])
    assert (corner[1:, :] == 255).all() and (corner[:, 3:] == 255).all()
    np.testing.assert_array_equal(tiles[(0, 0)], arr[:4, :4])


def test_exact_multiple_has_no_partial_tiles():
    arr = image(4, 6)
    for partial in ("keep", "drop", "pad"):
        tiles = list(iter_tiles(arr, (2, 3), partial=partial))
        assert len(tiles) == 4 and all(t.shape == (2, 3) for _, t in tiles)


def test_channels_first_with_axes():
    arr = image(6, 4, 2).transpose(2, 0, 1)  # C x H x W
    tiles = list(iter_tiles(arr, (3, 2), axes=(1, 2)))
    assert len(tiles) == 4 and all(t.shape == (2, 3, 2) for _, t in tiles)
    (y, x), tile = tiles[3]
    assert (y, x) == (3, 2)
    np.testing.assert_array_equal(tile, arr[:, 3:6, 2:4])


def test_tile_larger_than_the_array():
    arr = image(2, 2)
    assert [t.shape for _, t in iter_tiles(arr, 5)] == [(2, 2)]
    assert list(iter_tiles(arr, 5, partial="drop")) == []
    assert [t.shape for _, t in iter_tiles(arr, 5, partial="pad")] == [(5, 5)]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"tile_size": 0}, "tile_size must be a positive int"),
        ({"tile_size": (2, 0)}, "tile_size must be a positive int"),
        ({"tile_size": (1, 2, 3)}, "tile_size must be a positive int"),
        ({"tile_size": 2, "partial": "crop"}, "partial must be one of keep, drop, pad"),
        ({"tile_size": 2, "axes": (0, 0)}, "two different axes"),
        ({"tile_size": 2, "axes": (0, 5)}, "bad axes"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        iter_tiles(image(), **kwargs)


def test_one_dimensional_input_is_refused():
    with pytest.raises(ValueError, match="at least 2 axes"):
        iter_tiles(np.arange(5), 2)
