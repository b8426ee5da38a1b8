import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from lib.canvas import canvas_to_image, check_drawing, drawing_for_canvas, picture_from_record, strokes_record
from lib.preprocess import PreprocessError, check_digit, to_mnist, to_mnist_steps


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


def canvas(draw, size: int = 280) -> np.ndarray:
    """A black canvas with white ink drawn by `draw(ImageDraw)`, as the grayscale array canvas_to_image gives."""
    image = Image.new("L", (size, size), 0)
    draw(ImageDraw.Draw(image))
    return np.asarray(image)


def test_mnist_digits_and_bold_strokes_pass_the_drawing_check(test_digits):
    for i in range(300):  # real handwriting, scaled to a canvas as a student would fill it
        drawn = Image.fromarray(test_digits.images[i].numpy()).resize((280, 280), Image.Resampling.BILINEAR)
        assert check_drawing(drawn).looks_like_digit, i
    for width in (6, 20, 40):  # the stroke slider's range
        eight = canvas(lambda d, w=width: (d.ellipse((70, 20, 210, 140), outline=255, width=w),
                                           d.ellipse((60, 130, 220, 270), outline=255, width=w)))  # fmt: skip
        one = canvas(lambda d, w=width: d.line((140, 20, 140, 260), fill=255, width=w))
        assert check_drawing(eight).looks_like_digit and check_drawing(one).looks_like_digit
    small_canvas = canvas(lambda d: d.ellipse((20, 10, 100, 110), outline=255, width=8), size=120)
    assert check_drawing(small_canvas).looks_like_digit  # thresholds are shares of the canvas, not pixels


def test_canvas_filled_white_is_rejected_not_inverted():
    filled = np.full((280, 280), 255, dtype=np.uint8)
    filled[:, :30] = 0  # the strip the brush missed
    # before: auto-inversion turned the unpainted strip into "the digit" and the old check accepted it
    old = to_mnist_steps(Image.fromarray(filled), background="flat")
    assert old.inverted and check_digit(old.final).looks_like_digit
    check = check_drawing(filled)
    assert check.problem == "filled" and check.ink_fraction > 0.85
    assert not to_mnist_steps(Image.fromarray(filled), invert="no").inverted  # the page never inverts a canvas


def test_scribble_dot_and_scattered_marks_are_not_digits():
    rng = np.random.default_rng(0)
    points = [tuple(int(v) for v in rng.integers(10, 270, 2)) for _ in range(40)]
    scribble = canvas(lambda d: d.line(points, fill=255, width=12, joint="curve"))
    assert check_drawing(scribble).problem == "scribble"
    dense = canvas(lambda d: d.line(points[:10], fill=255, width=40, joint="curve"))  # few, but thick, lines
    assert check_drawing(dense).problem == "scribble"
    dot = canvas(lambda d: d.ellipse((130, 130, 150, 150), fill=255))
    assert check_digit(to_mnist(Image.fromarray(dot))).looks_like_digit  # the old check let a dot through
    assert check_drawing(dot).problem == "too_small"
    spots = canvas(lambda d: [d.ellipse((x, y, x + 20, y + 20), fill=255) for x, y in
                              [(20, 20), (200, 20), (20, 200), (200, 200), (120, 120)]])  # fmt: skip
    assert check_drawing(spots).problem == "blobs" and check_drawing(spots).blobs == 5
    assert check_drawing(np.zeros((280, 280))).problem == "empty"


def test_kept_strokes_redraw_at_another_canvas_size():
    path = {"type": "path", "left": 40.0, "top": 20.0, "strokeWidth": 18, "path": [["M", 40, 20], ["L", 200, 220]]}
    record = strokes_record({"version": "x", "objects": [path]}, side=280)
    assert record["side"] == 280 and record["objects"] == [path] and record["picture"] is None
    same = drawing_for_canvas(record, 280)
    assert same == {"objects": [path]}
    half = drawing_for_canvas(record, 140)["objects"][0]
    assert (half["left"], half["top"], half["scaleX"], half["scaleY"]) == (20.0, 10.0, 0.5, 0.5)
    assert half["path"] == path["path"]  # Fabric scales the points (and the stroke) by scaleX/scaleY
    assert drawing_for_canvas({"side": 280, "objects": []}, 280) is None  # an emptied canvas starts empty


def test_kept_strokes_picture_round_trip_and_bad_records():
    rng = np.random.default_rng(0)
    picture = Image.fromarray((rng.random((60, 60)) > 0.8).astype(np.uint8) * 255, mode="L")
    record = strokes_record({"objects": [{"type": "path"}]}, 60, picture)
    np.testing.assert_array_equal(np.asarray(picture_from_record(record)), np.asarray(picture))
    assert strokes_record({"objects": [{"type": "path"}] * 50_000}, 60) is None  # too large to keep
    assert strokes_record({"objects": "not a list"}, 60) is None
    assert strokes_record(None, 60) is None
    for bad in ("not base64!", "aGVsbG8=", 12, None):  # not base64, not a PNG, not text
        assert picture_from_record({"picture": bad}) is None
    assert drawing_for_canvas({"side": 0, "objects": [{"left": 1}]}, 280) == {"objects": [{"left": 1}]}
