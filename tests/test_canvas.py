import numpy as np
import pytest
from scipy import ndimage

from lib.canvas import canvas_to_image
from lib.preprocess import PreprocessError, check_digit, to_mnist


def stroke_canvas(background_alpha: int) -> np.ndarray:
    """A 280×280 RGBA canvas with a thick white vertical stroke off to the left."""
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[..., 3] = background_alpha
    rgba[40:240, 50:75, :3] = 255
    rgba[40:240, 50:75, 3] = 255
    return rgba


@pytest.mark.parametrize("background_alpha", [255, 0])  # black background, or transparent
def test_canvas_stroke_becomes_a_centred_mnist_digit(background_alpha):
    image = canvas_to_image(stroke_canvas(background_alpha))
    assert image.mode == "L" and image.size == (280, 280)
    digit = to_mnist(image)
    assert digit.shape == (28, 28)
    np.testing.assert_allclose(ndimage.center_of_mass(digit), (13.5, 13.5), atol=0.75)
    rows = np.flatnonzero(digit.max(axis=1) > 0.5)
    assert rows[-1] - rows[0] + 1 == 20  # the long side is scaled to 20 pixels
    assert check_digit(digit).looks_like_digit


def test_empty_canvas_is_a_clear_error():
    with pytest.raises(PreprocessError) as err:
        to_mnist(canvas_to_image(np.zeros((280, 280, 4), dtype=np.uint8)))
    assert err.value.code == "no_ink"


def test_scribble_over_the_whole_canvas_is_not_a_digit():
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[20:260, 20:260] = 255
    assert not check_digit(to_mnist(canvas_to_image(rgba))).looks_like_digit


def test_bad_canvas_shape_is_rejected():
    with pytest.raises(ValueError):
        canvas_to_image(np.zeros((10, 10)))
