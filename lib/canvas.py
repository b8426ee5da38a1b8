"""Drawing-canvas pixels → a PIL image that to_mnist understands (white ink on black)."""

from __future__ import annotations

import numpy as np
from PIL import Image


def canvas_to_image(rgba: np.ndarray) -> Image.Image:
    """RGBA canvas data (H, W, 4) → grayscale ink image; works for black or transparent backgrounds."""
    arr = np.asarray(rgba, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"expected (H, W, 4) RGBA canvas data, got shape {arr.shape}")
    brightness = arr[..., :3].max(axis=2)  # (H, W) 0..255
    alpha = arr[..., 3] / 255.0 if arr.shape[2] == 4 else 1.0
    return Image.fromarray(np.clip(brightness * alpha, 0, 255).astype(np.uint8), mode="L")
