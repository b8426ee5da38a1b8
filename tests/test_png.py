"""lib.png writes greyscale PNGs that a standard decoder (PIL) reads back pixel for pixel."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from lib.png import grey_png


@pytest.mark.parametrize("shape", [(1, 1), (28, 28), (104, 104), (3, 200), (200, 3)])
@pytest.mark.parametrize("level", [0, 1, 9])
def test_a_grey_png_decodes_to_the_same_pixels(shape, level):
    pixels = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    image = Image.open(io.BytesIO(grey_png(pixels, level)))
    image.load()  # reads every chunk and checks their CRCs
    assert image.mode == "L" and image.size == (shape[1], shape[0])
    np.testing.assert_array_equal(np.asarray(image), pixels)


def test_a_tile_of_repeated_rows_is_small():
    digit = np.repeat(np.repeat(np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8), 4, 0), 4, 1)
    assert len(grey_png(digit)) < digit.size / 3  # (112, 112) enlarged digit: the repeats compress


@pytest.mark.parametrize(
    "bad", [np.zeros((4, 4), np.float32), np.zeros((4, 4, 3), np.uint8), np.zeros((0, 4), np.uint8)]
)
def test_anything_but_a_2d_uint8_array_is_refused(bad):
    with pytest.raises(ValueError):
        grey_png(bad)


def test_the_app_s_digit_tiles_are_crisp_enlargements():
    from lib.ui.cache import png_tile

    image = np.random.default_rng(1).random((28, 28))
    tile = np.asarray(Image.open(io.BytesIO(png_tile(image, 112))))  # 4 screen pixels per digit pixel
    expected = np.repeat(np.repeat((image * 255).round().astype(np.uint8), 4, 0), 4, 1)
    np.testing.assert_array_equal(tile, expected)
