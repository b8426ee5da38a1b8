"""Turning pictures and arrays into bytes for the store and back (no pickles: untrusted bytes never run code)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

ORIGINAL_MAX_SIDE = 512  # px: an upload's original is kept at most this big (enough to redo the preparation)


def array_to_bytes(array: np.ndarray) -> bytes:
    """One array as .npy bytes (dtype and shape kept)."""
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def bytes_to_array(data: bytes) -> np.ndarray:
    """An array back from `array_to_bytes`."""
    return np.load(io.BytesIO(data), allow_pickle=False)


def arrays_to_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """Named arrays as compressed .npz bytes."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **{name: np.ascontiguousarray(a) for name, a in arrays.items()})
    return buf.getvalue()


def bytes_to_arrays(data: bytes) -> dict[str, np.ndarray]:
    """Named arrays back from `arrays_to_bytes`."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def bounded_png(image: Image.Image | np.ndarray, max_side: int = ORIGINAL_MAX_SIDE) -> bytes:
    """The picture as PNG with its longest side at most `max_side` px (aspect kept; uint8 or [0, 1] arrays)."""
    if isinstance(image, np.ndarray):
        arr = image
        if arr.dtype != np.uint8:
            arr = (np.clip(arr.astype(np.float64), 0, 1) * 255).round().astype(np.uint8)
        image = Image.fromarray(arr)
    if image.mode not in ("L", "RGB", "RGBA"):
        image = image.convert("RGB")
    if max(image.size) > max_side:
        image = image.copy()
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def png_to_array(data: bytes) -> np.ndarray:
    """PNG bytes as a uint8 array (H, W) or (H, W, C)."""
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB") if img.mode not in ("L", "RGB", "RGBA") else img).copy()
