"""Classical denoisers on the same noisy images: median, Gaussian blur, non-local means, BM3D."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage
from skimage.restoration import denoise_nl_means, estimate_sigma


def median3(noisy: np.ndarray) -> np.ndarray:
    """3×3 median filter of one (28, 28) image in [0, 1]."""
    return ndimage.median_filter(noisy, size=3, mode="nearest")


def gaussian_blur(noisy: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Gaussian blur, σ = 1 pixel."""
    return ndimage.gaussian_filter(noisy, sigma=sigma, mode="nearest")


def nl_means(noisy: np.ndarray) -> np.ndarray:
    """Non-local means (scikit-image) with the noise level estimated from the image."""
    sigma = float(estimate_sigma(noisy))
    return denoise_nl_means(noisy, h=0.8 * sigma, sigma=sigma, patch_size=3, patch_distance=5, fast_mode=True)


def bm3d_filter(noisy: np.ndarray) -> np.ndarray:
    """BM3D (the `bm3d` package) with the noise level estimated from the image; slow."""
    import bm3d  # imported lazily: it loads a native library

    sigma = max(float(estimate_sigma(noisy)), 1e-3)
    return np.asarray(bm3d.bm3d(noisy, sigma_psd=sigma), dtype=np.float64)


BASELINES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "median3": median3,
    "gaussian_blur": gaussian_blur,
    "nl_means": nl_means,
    "bm3d": bm3d_filter,
}

# BM3D takes ~0.1 s per 28×28 image on a laptop CPU; evaluate it on a subset.
SLOW_BASELINES = {"bm3d"}


def apply(name: str, noisy: np.ndarray) -> np.ndarray:
    """Run one baseline on (N, 28, 28) or (28, 28) images in [0, 1]; output clipped to [0, 1]."""
    fn = BASELINES[name]
    arr = np.clip(np.asarray(noisy, dtype=np.float64), 0.0, 1.0)
    out = fn(arr) if arr.ndim == 2 else np.stack([fn(img) for img in arr])
    return np.clip(out, 0.0, 1.0)
