"""Any picture of a digit → a 28×28 MNIST-style image, with every step kept for display."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo is fine; decompression bombs are not
MIN_CONTRAST = 24.0  # ink must stand this far above the paper (0..255) to count as ink
INK_LEVEL = 0.2  # after contrast stretch, pixels above this bound the crop box
BOX = 20  # MNIST: the digit fits a 20×20 box …
SIZE = 28  # … placed in 28×28 by its centre of mass


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
    stretched: np.ndarray  # (H, W) float [0, 1]: paper level removed, contrast stretched
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
        image = Image.open(io.BytesIO(data))  # reads the header only
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise PreprocessError("not_image", f"not a readable image ({exc})") from exc
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
        raise PreprocessError("not_image", f"image data is damaged ({exc})") from exc
    return image


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


def to_mnist_steps(
    image: Image.Image, invert: str = "auto", threshold: float = 0.0, contrast: float = 1.0
) -> MnistSteps:
    """MNIST's own procedure, step by step: grayscale, white-on-black, crop, 20×20, centre of mass."""
    gray = to_gray(image)  # (H, W) 0..255
    if gray.size == 0:
        raise PreprocessError("no_ink", "empty image")
    inverted = bool(np.median(_border(gray)) > 127) if invert == "auto" else invert == "yes"
    gray_ink = 255.0 - gray if inverted else gray
    # The border is usually paper; the global median also is unless ink covers over half the picture.
    paper = min(float(np.median(gray_ink)), float(np.median(_border(gray_ink))))
    peak = float(gray_ink.max())
    if peak - paper < MIN_CONTRAST:
        raise PreprocessError("no_ink", "no ink found: the picture is (almost) uniform")
    stretched = np.clip((gray_ink - paper) / (peak - paper), 0.0, 1.0)
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


def to_mnist(image: Image.Image) -> np.ndarray:
    """A PIL image of a digit → float32 (28, 28) in [0, 1], white digit on black, MNIST-centred."""
    return to_mnist_steps(image).final


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
