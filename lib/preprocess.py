"""Any picture of a digit → a 28×28 MNIST-style image, with every step kept for display."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage
from skimage.filters import threshold_otsu

from lib.limits import UPLOAD_LIMIT_BYTES

IMAGE_TYPES = ("png", "jpg", "jpeg", "webp", "bmp", "gif")  # what the uploaders accept (open_image reads more)
MAX_UPLOAD_BYTES = UPLOAD_LIMIT_BYTES  # 10 MB = 10,000,000 bytes (lib/limits.py)
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo is fine; decompression bombs are not
MIN_CONTRAST = 24.0  # ink must stand this far above the paper (0..255) to count as ink
INK_LEVEL = 0.2  # after contrast stretch, pixels above this bound the crop box
BACKGROUNDS = ("estimate", "flat")  # paper level estimated per region (uneven light), or one level for the whole
BG_SIDE = 128  # the background is fitted on a copy at most this big: it varies slowly, and photos stay quick
BG_DEGREE = 3  # a cubic surface: a lamp at one side, darker corners, a gentle fold of the paper
BG_ROUNDS = 8  # refits without the ink; it settles in three or four
BOX = 20  # MNIST: the digit fits a 20×20 box …
SIZE = 28  # … placed in 28×28 by its centre of mass
# Pictures are prepared at a working size: a bigger one is reduced first (a 144-megapixel picture in well under a
# second; the digit keeps far more than the 20 pixels it ends with), a smaller one is enlarged smoothly before any
# threshold, so a 12×12 digit's antialiased edges are not cut into blocks.
WORK_SIDE = 1024  # longest side at most this …
MIN_SIDE = 64  # … and at least this (below every picture of the outside set, which stays as shipped)
AVERAGEABLE = {"1": "L", "P": "RGB", "I;16": "I", "I;16L": "I", "I;16B": "I", "I;16N": "I"}  # → modes reduce takes


class PreprocessError(ValueError):
    """A picture that cannot become a digit; `code` selects the translated message."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass
class MnistSteps:
    """Every intermediate picture of to_mnist, in order, for the app to show."""

    gray: np.ndarray  # (H, W) float 0..255 after orientation, compositing on white and grayscale
    inverted: bool  # light paper was detected and flipped to white-on-black
    stretched: np.ndarray  # (H, W) float [0, 1]: paper (background) removed, contrast stretched
    cropped: np.ndarray  # (h, w) float [0, 1]: the ink's bounding box
    fitted: np.ndarray  # (≤20, ≤20) float [0, 1]: longer side scaled to 20
    final: np.ndarray  # (28, 28) float32 [0, 1]: centred by centre of mass
    shift: tuple[int, int] = (0, 0)  # (rows, cols) moved to bring the centre of mass to the middle
    notes: list[str] = field(default_factory=list)


def open_image(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode uploaded bytes safely: size and pixel count are checked before pixels are decoded."""
    if len(data) == 0:
        raise PreprocessError("empty_file", "the file is empty")
    if len(data) > max_bytes:
        raise PreprocessError(
            "too_big", f"file is {len(data)} bytes, limit {max_bytes}", size=len(data), limit=max_bytes
        )
    try:
        with warnings.catch_warnings():  # the pixel count is checked below, with the app's own message
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
    except Image.DecompressionBombError:  # over twice Pillow's own bound: refused before the size is known
        raise PreprocessError("far_too_many_pixels", f"far more than {max_pixels} pixels", limit=max_pixels) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        # the decoder's own text names its internal objects (<_io.BytesIO object at 0x…>): not for a reader
        raise PreprocessError("not_image", "not a readable image (PNG, JPEG, WebP, BMP or GIF)") from exc
    width, height = image.size
    if width * height > max_pixels:
        raise PreprocessError(
            "too_many_pixels",
            f"{width}×{height} pixels exceeds {max_pixels}",
            width=width,
            height=height,
            limit=max_pixels,
        )
    try:
        image.seek(0)  # animated GIF/WebP: the first frame
        image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise PreprocessError("not_image", "the image data is damaged") from exc
    return image


def reduce_to_work_size(image: Image.Image, side: int | None = None) -> Image.Image:
    """The picture with its longest side at most `side` pixels, in well under a second at any allowed size.

    Nearest-neighbour sampling first brings it to at most 4 × `side` (it reads only the pixels it keeps; a
    stroke a few pixels wide in a picture this big is far below what the digit needs), then box averaging of
    whole blocks (Image.reduce) smooths it. The EXIF orientation travels with it (both keep the image's info).
    """
    side = WORK_SIDE if side is None else side
    factor = -(-max(image.size) // side)  # ⌈longest / side⌉
    if factor <= 1:
        return image
    coarse = factor // 4
    if coarse > 1:
        size = (max(1, image.width // coarse), max(1, image.height // coarse))
        image = image.resize(size, Image.Resampling.NEAREST)
        factor = -(-max(image.size) // side)
    if factor <= 1:
        return image
    if image.mode in AVERAGEABLE:  # palette, 1-bit and 16-bit pictures are averaged in a mode that can be
        exif = image.getexif()
        image = image.convert(AVERAGEABLE[image.mode] if image.mode != "P" or "transparency" not in image.info
                              else "RGBA")  # fmt: skip
        image.info["exif"] = exif.tobytes()  # convert drops the orientation; to_gray still needs it
    return image.reduce(factor)  # box average of factor × factor blocks


def enlarge_to_min_side(gray: np.ndarray, side: int | None = None) -> np.ndarray:
    """A small grey picture (H, W) enlarged smoothly (bicubic) so its longest side is at least `side` (MIN_SIDE)."""
    side = MIN_SIDE if side is None else side
    h, w = gray.shape
    factor = -(-side // max(h, w, 1))
    if factor <= 1 or gray.size == 0:
        return gray
    img = Image.fromarray(gray.astype(np.float32), mode="F")
    big = img.resize((w * factor, h * factor), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(big, dtype=np.float64), 0.0, 255.0)


def to_gray(image: Image.Image) -> np.ndarray:
    """Orientation from EXIF, transparency composited on white, any mode → float (H, W) 0..255."""
    image = ImageOps.exif_transpose(image) or image
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(image, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        return (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
    if mode == "P" or mode == "PA":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return np.asarray(image.convert("L"), dtype=np.float64)


def _border(gray: np.ndarray) -> np.ndarray:
    return np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])


def _fit_box(cropped: np.ndarray, box: int) -> np.ndarray:
    """Scale so the longer side is `box` pixels, keeping the aspect ratio (antialiased)."""
    h, w = cropped.shape
    scale = box / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    img = Image.fromarray(cropped.astype(np.float32), mode="F")
    return np.clip(np.asarray(img.resize((new_w, new_h), Image.Resampling.LANCZOS), dtype=np.float64), 0.0, 1.0)


def _place_by_mass(fitted: np.ndarray, size: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Put the fitted digit in a size×size frame with its centre of mass at the centre."""
    h, w = fitted.shape
    cy, cx = ndimage.center_of_mass(fitted)
    centre = (size - 1) / 2
    top = int(np.clip(round(centre - cy), 0, size - h))
    left = int(np.clip(round(centre - cx), 0, size - w))
    out = np.zeros((size, size), dtype=np.float32)
    out[top : top + h, left : left + w] = fitted
    return out, (top - (size - h) // 2, left - (size - w) // 2)


def _sample(values: np.ndarray, limit: int = 250_000) -> np.ndarray:
    """A regular subsample of a big picture for its statistics (medians, Otsu): the same answer, much sooner."""
    step = max(1, int(np.ceil(np.sqrt(values.size / limit))))
    return values[::step, ::step]


def _poly_terms(yy: np.ndarray, xx: np.ndarray, degree: int) -> np.ndarray:
    """Monomials x^i·y^j with i + j ≤ degree, one column each: (P, terms)."""
    return np.stack([xx**i * yy**j for i in range(degree + 1) for j in range(degree + 1 - i)], axis=-1)


def estimate_background(gray_ink: np.ndarray) -> np.ndarray:
    """The slowly varying background under bright ink (H, W): a smooth surface fitted to the paper alone.

    Light from a lamp at one side and darker corners vary smoothly, so a cubic surface in x and y
    describes them. It is fitted by least squares and refitted without the pixels that stand out
    above it (the ink, a few robust standard deviations up) until those stop changing. The fit runs on
    a copy at most BG_SIDE pixels wide, and the surface is scaled back up.
    """
    h, w = gray_ink.shape
    scale = min(1.0, BG_SIDE / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(Image.fromarray(gray_ink.astype(np.float32), mode="F").resize(size, Image.Resampling.BOX))
    sh, sw = small.shape
    yy, xx = np.mgrid[0:sh, 0:sw]
    yy, xx = yy / max(sh - 1, 1) * 2 - 1, xx / max(sw - 1, 1) * 2 - 1  # [-1, 1]: a well-conditioned fit
    degree = BG_DEGREE if small.size >= 20 * BG_DEGREE**2 else 0  # a tiny picture: one level
    terms = _poly_terms(yy.ravel(), xx.ravel(), degree)  # (P, T)
    values = small.ravel().astype(np.float64)
    # Start from the pixels at or below their neighbourhood's median: ink (bright here) rarely covers half of a
    # quarter of the picture, and a neighbourhood follows the light across the page where one median would not.
    local = ndimage.median_filter(small, size=max(3, max(sh, sw) // 4), mode="nearest")
    paper = (small <= local + 1.0).ravel()
    for _ in range(BG_ROUNDS):
        coef, *_ = np.linalg.lstsq(terms[paper], values[paper], rcond=None)
        residual = values - terms @ coef
        spread = 1.4826 * float(np.median(np.abs(residual[paper] - np.median(residual[paper]))))
        keep = residual <= 2.5 * spread + 1.0  # ink stands out above the paper; +1: a perfectly flat background
        if np.array_equal(keep, paper) or keep.sum() < terms.shape[1] * 3:
            break
        paper = keep
    surface = (terms @ coef).reshape(sh, sw)
    back = Image.fromarray(surface.astype(np.float32), mode="F").resize((w, h), Image.Resampling.BILINEAR)
    return np.asarray(back, dtype=np.float64)


def ink_relief(gray: np.ndarray, inverted: bool, background: str = "estimate") -> tuple[np.ndarray, np.ndarray | float]:
    """How much each pixel stands out from the paper, in 0..255 units (H, W), ink bright, and the paper's noise σ.

    "estimate": light paper is divided by its own estimated brightness (a shaded corner then counts
    like a lit one: the ink's contrast scales with the light too); a dark background has its estimate
    subtracted. "flat": one paper level for the whole picture (the median of the picture or its border).
    """
    gray_ink = 255.0 - gray if inverted else gray
    if background == "flat":
        # The border is usually paper; the global median also is unless ink covers over half the picture.
        paper = min(float(np.median(gray_ink)), float(np.median(_border(gray_ink))))
        return gray_ink - paper, 0.0
    if background != "estimate":
        raise ValueError(f"background must be one of {BACKGROUNDS}, got {background!r}")
    level = estimate_background(gray_ink)
    residual = gray_ink - level  # (H, W): paper ≈ 0 ± its grain, ink well above
    sample = _sample(residual)
    spread = 1.4826 * float(np.median(np.abs(sample - np.median(sample))))  # robust σ: ink is the minority
    if not inverted:
        return residual, spread
    paper = np.maximum(255.0 - level, 8.0)  # the paper's own brightness in the original picture
    # dividing by the paper's brightness scales its grain too: a shaded corner is noisier in relief units
    return 255.0 * residual / paper, 255.0 * spread / paper


def to_mnist_steps(
    image: Image.Image, invert: str = "auto", threshold: float = 0.0, contrast: float = 1.0,
    background: str = "estimate",
) -> MnistSteps:  # fmt: skip
    """MNIST's own procedure, step by step: grayscale, white-on-black, background removed, crop, 20×20, centre of mass.

    With background="estimate" (the default) the paper level is estimated region by region and Otsu's
    threshold separates ink from what is left of the paper, so an unevenly lit phone photo needs no
    manual threshold; "flat" uses one paper level for the whole picture.
    """
    gray = enlarge_to_min_side(to_gray(reduce_to_work_size(image)))  # (H, W) 0..255, MIN_SIDE ≤ longest ≤ WORK_SIDE
    if gray.size == 0:
        raise PreprocessError("no_ink", "empty image")
    inverted = bool(np.median(_border(gray)) > 127) if invert == "auto" else invert == "yes"
    relief, noise = ink_relief(gray, inverted, background)  # (H, W) 0..255 units, paper ≈ 0; σ of the paper
    if float(relief.max()) < MIN_CONTRAST:
        raise PreprocessError("no_ink", "no ink found: the picture is (almost) uniform")
    floor: np.ndarray | float = 0.0
    if background == "estimate" and float(relief.min()) < float(relief.max()):
        # What is left of the paper (grain, JPEG blocks) is cut at three of its standard deviations, so a clean
        # picture keeps every antialiased edge; never above half of Otsu's split between paper and ink.
        floor = np.minimum(3.0 * np.asarray(noise), 0.5 * float(threshold_otsu(_sample(relief))))
    excess = relief - floor
    peak = float(excess.max())
    if peak <= 0:
        raise PreprocessError("no_ink", "no ink stands out of the paper's grain")
    stretched = np.clip(excess / peak, 0.0, 1.0)
    if contrast != 1.0:
        stretched = np.clip(stretched * contrast, 0.0, 1.0)
    if threshold > 0:
        stretched = np.where(stretched >= threshold, stretched, 0.0)
    rows = np.flatnonzero((stretched > INK_LEVEL).any(axis=1))
    cols = np.flatnonzero((stretched > INK_LEVEL).any(axis=0))
    if rows.size == 0:
        raise PreprocessError("no_ink", "no ink found above the threshold")
    cropped = stretched[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    fitted = _fit_box(cropped, BOX)
    if fitted.sum() <= 0:
        raise PreprocessError("no_ink", "the ink vanished when scaled to 20×20")
    final, shift = _place_by_mass(fitted, SIZE)
    return MnistSteps(gray, inverted, stretched, cropped, fitted, final.astype(np.float32), shift)


def to_mnist(image: Image.Image, background: str = "estimate") -> np.ndarray:
    """A PIL image of a digit → float32 (28, 28) in [0, 1], white digit on black, MNIST-centred."""
    return to_mnist_steps(image, background=background).final


@dataclass(frozen=True)
class DigitCheck:
    """How much a 28×28 picture looks like an MNIST digit."""

    ink_fraction: float  # share of the 28×28 frame with ink
    blobs: int  # separate connected ink regions of noticeable size

    @property
    def looks_like_digit(self) -> bool:
        """MNIST digits cover well under half of the frame and are one or two strokes."""
        return 0.0 < self.ink_fraction <= 0.45 and self.blobs <= 2


def check_digit(final: np.ndarray, min_blob: int = 4) -> DigitCheck:
    """Ink coverage and number of blobs of a to_mnist result."""
    ink = np.asarray(final) > 0.3
    labels, count = ndimage.label(ink)
    sizes = np.bincount(labels.ravel())[1:] if count else np.array([])
    return DigitCheck(float(ink.mean()), int((sizes >= min_blob).sum()))
