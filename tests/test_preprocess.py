import io

import numpy as np
import pytest
from PIL import Image, ImageFilter
from scipy import ndimage

from lib.preprocess import INK_LEVEL, PreprocessError, check_digit, open_image, to_mnist, to_mnist_steps


def digit_photo(test_digits, idx=0, size=(400, 300), at=(20, 30), scale=6, paper=235, ink=30):
    """A real MNIST digit drawn dark on light paper, off-centre, as an 'L' image."""
    digit = test_digits.images[idx].numpy().astype(np.float64) / 255  # (28, 28), 1 = ink
    big = np.asarray(Image.fromarray((digit * 255).astype(np.uint8)).resize((28 * scale, 28 * scale)), float) / 255
    page = np.full(size[::-1], float(paper))
    y, x = at
    region = page[y : y + big.shape[0], x : x + big.shape[1]]
    region[:] = paper - (paper - ink) * big[: region.shape[0], : region.shape[1]]
    return Image.fromarray(page.astype(np.uint8), mode="L")


def centre_of_mass(a):
    return np.array(ndimage.center_of_mass(a))


def test_off_centre_digit_on_light_paper_ends_centred_white_on_black(test_digits):
    steps = to_mnist_steps(digit_photo(test_digits))
    out = steps.final
    assert steps.inverted
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    np.testing.assert_allclose(centre_of_mass(out), [13.5, 13.5], atol=0.75)
    rows, cols = np.nonzero(out > 0.05)
    assert max(np.ptp(rows), np.ptp(cols)) + 1 <= 21  # fits the 20×20 box (antialiasing may bleed one pixel)
    assert out[0].max() == 0 and out[:, 0].max() == 0  # background stays black


def test_result_resembles_the_original_mnist_digit(test_digits):
    original = test_digits.images[3].numpy() / 255
    out = to_mnist(digit_photo(test_digits, idx=3))
    assert np.corrcoef(original.ravel(), out.ravel())[0, 1] > 0.8


def test_dark_background_is_not_inverted(test_digits):
    img = Image.fromarray(test_digits.images[5].numpy())
    steps = to_mnist_steps(img.resize((112, 112)))
    assert not steps.inverted
    assert steps.final.max() == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "RGB", "CMYK", "1"])
def test_any_mode_gives_the_same_digit(test_digits, mode):
    base = digit_photo(test_digits)
    ref = to_mnist(base)
    if mode in ("RGBA", "LA"):
        # ink drawn only through alpha: transparent background composites onto white paper
        alpha = 255 - np.asarray(base)
        rgba = Image.merge("RGBA", [Image.new("L", base.size, 30)] * 3 + [Image.fromarray(alpha)])
        img = rgba if mode == "RGBA" else rgba.convert("LA")
    elif mode == "P":
        img = base.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    elif mode == "1":
        img = base.point(lambda v: 255 if v > 128 else 0).convert("1")  # a bilevel scan, not dithered
    else:
        img = base.convert(mode)
    out = to_mnist(img)
    bound = 0.85 if mode == "1" else 0.9  # bilevel pixels lose the antialiased edge
    assert np.corrcoef(ref.ravel(), out.ravel())[0, 1] > bound


def test_sixteen_bit_images_are_rescaled(test_digits):
    base = np.asarray(digit_photo(test_digits), dtype=np.uint16) * 200  # 0..47000
    img = Image.fromarray(base.astype(np.uint16))
    assert img.mode == "I;16"
    out = to_mnist(img)
    ref = to_mnist(digit_photo(test_digits))
    assert np.corrcoef(ref.ravel(), out.ravel())[0, 1] > 0.95


def test_tiny_and_large_images(test_digits):
    tiny = Image.new("L", (5, 5), 0)
    tiny.putpixel((2, 1), 255)
    tiny.putpixel((2, 2), 255)
    tiny.putpixel((2, 3), 255)
    out = to_mnist(tiny)
    assert out.shape == (28, 28) and out.max() > 0.5
    large = digit_photo(test_digits, size=(3000, 2000), at=(400, 900), scale=40)
    out = to_mnist(large)
    np.testing.assert_allclose(centre_of_mass(out), [13.5, 13.5], atol=0.75)


def test_exif_rotation_is_applied(test_digits):
    base = digit_photo(test_digits, idx=1)
    rotated = base.rotate(-90, expand=True)  # what the sensor stored (clockwise turn)
    exif = Image.Exif()
    exif[0x0112] = 8  # orientation tag: viewers turn it back counter-clockwise
    buf = io.BytesIO()
    rotated.save(buf, format="JPEG", exif=exif.tobytes(), quality=95)
    out = to_mnist(open_image(buf.getvalue()))
    ref = to_mnist(base)
    assert np.corrcoef(ref.ravel(), out.ravel())[0, 1] > 0.85


@pytest.mark.parametrize("colour", [0, 128, 255])
def test_blank_image_raises_a_clear_error(colour):
    with pytest.raises(PreprocessError) as err:
        to_mnist(Image.new("L", (64, 64), colour))
    assert err.value.code == "no_ink"


def test_upload_checks_reject_broken_empty_big_and_bomb_files():
    with pytest.raises(PreprocessError) as err:
        open_image(b"")
    assert err.value.code == "empty_file"
    with pytest.raises(PreprocessError) as err:
        open_image(b"GIF89a but then garbage")
    assert err.value.code == "not_image"
    with pytest.raises(PreprocessError) as err:
        open_image(b"x" * 100, max_bytes=50)
    assert err.value.code == "too_big"
    buf = io.BytesIO()
    Image.new("L", (4000, 4000)).save(buf, format="PNG")  # compresses to a few KB
    with pytest.raises(PreprocessError) as err:
        open_image(buf.getvalue(), max_pixels=1_000_000)
    assert err.value.code == "too_many_pixels"
    png = buf.getvalue()
    with pytest.raises(PreprocessError) as err:
        open_image(png[: len(png) // 2])
    assert err.value.code == "not_image"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "GIF"])
def test_common_formats_decode(test_digits, fmt):
    buf = io.BytesIO()
    digit_photo(test_digits).convert("RGB").save(buf, format=fmt)
    assert to_mnist(open_image(buf.getvalue())).max() > 0.5


def test_digit_check_flags_scribbles_and_blobs(test_digits):
    good = check_digit(test_digits.images[0].numpy() / 255)
    assert good.looks_like_digit
    full = check_digit(np.ones((28, 28)))
    assert not full.looks_like_digit and full.ink_fraction == 1.0
    dots = np.zeros((28, 28))
    for y, x in [(3, 3), (3, 20), (20, 3), (20, 20)]:
        dots[y : y + 3, x : x + 3] = 1
    assert check_digit(dots).blobs == 4 and not check_digit(dots).looks_like_digit


def shaded_photo(test_digits, idx, strength=170.0, ink=0.55, seed=0, size=(640, 480), scale=12, at=(80, 300)):
    """A phone photo of a digit in grey ink on paper lit from the left: 245 there, ≈ 65 at the right edge; JPEG.

    Returns the picture and the digit's true bounding box (top, bottom, left, right) in it.
    """
    rng = np.random.default_rng(seed)
    big = Image.fromarray(test_digits.images[idx].numpy()).resize((28 * scale, 28 * scale), Image.Resampling.BILINEAR)
    coverage = np.zeros(size[::-1])
    y, x = at
    coverage[y : y + 28 * scale, x : x + 28 * scale] = np.asarray(big, dtype=np.float64) / 255
    h, w = coverage.shape
    yy, xx = np.mgrid[0:h, 0:w]
    light = 245.0 - strength * (xx / w) ** 1.5 - 30.0 * (2 * yy / h - 1) ** 2  # a lamp at the left, dim corners
    picture = (light + rng.normal(0, 3, (h, w))) * (1 - (1 - ink) * coverage)  # grey ink: 55 % of the light
    image = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1))
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=60)
    rows, cols = np.nonzero(coverage > 0.5)
    return Image.open(io.BytesIO(buf.getvalue())), (rows.min(), rows.max(), cols.min(), cols.max())


def ink_box(stretched):
    rows = np.flatnonzero((stretched > INK_LEVEL).any(axis=1))
    cols = np.flatnonzero((stretched > INK_LEVEL).any(axis=0))
    return rows[0], rows[-1], cols[0], cols[-1]


@pytest.mark.parametrize("idx", range(4))
def test_unevenly_lit_photo_with_grey_ink_works_at_the_default_settings(test_digits, idx):
    photo, truth = shaded_photo(test_digits, idx, seed=idx)
    edge = np.asarray(photo, dtype=float)[:, [0, -1]].mean(axis=0)
    assert edge[0] > 220 and edge[1] < 80  # strongly shaded: the right edge is darker than the ink on the left
    scan = to_mnist(Image.fromarray(255 - test_digits.images[idx].numpy()).resize((336, 336)))  # a clean scan
    new = to_mnist_steps(photo)  # the page's defaults: threshold 0, contrast 1
    assert np.abs(np.subtract(ink_box(new.stretched), truth)).max() <= 10  # the crop finds the digit
    assert np.corrcoef(new.final.ravel(), scan.ravel())[0, 1] > 0.95
    # before: one paper level for the whole photo turned the shaded side into "ink"
    old = to_mnist_steps(photo, background="flat")
    top, bottom, left, right = ink_box(old.stretched)
    assert bottom - top > 400 and right == photo.size[0] - 1
    assert np.corrcoef(old.final.ravel(), scan.ravel())[0, 1] < 0.6


def test_background_estimate_leaves_clean_pictures_as_they_were(test_digits):
    for idx in range(10):
        canvas = Image.fromarray(test_digits.images[idx].numpy()).resize((280, 280), Image.Resampling.BILINEAR)
        scan = Image.fromarray(255 - test_digits.images[idx].numpy()).resize((140, 140))
        for picture in (canvas, scan):
            np.testing.assert_allclose(to_mnist(picture), to_mnist_steps(picture, background="flat").final, atol=0.02)
    with pytest.raises(ValueError):
        to_mnist_steps(scan, background="guess")
