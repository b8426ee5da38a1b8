"""Image quality: PSNR (checked against scikit-image), SSIM (scikit-image), stroke-only PSNR."""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

# Pixels of the clean digit brighter than this (in [0, 1]) count as stroke.
STROKE_THRESHOLD = 0.1
# A perfect reconstruction has infinite PSNR; cap it so averages stay finite.
PSNR_CAP = 100.0


def psnr(clean: np.ndarray, test: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Per-image PSNR in dB for (N, H, W) or (H, W) arrays in [0, 1] (data range 1)."""
    clean = np.asarray(clean, dtype=np.float64)
    test = np.asarray(test, dtype=np.float64)
    sq = (clean - test) ** 2
    axes = tuple(range(clean.ndim - 2, clean.ndim))
    if mask is None:
        mse = sq.mean(axis=axes)
    else:
        weight = np.asarray(mask, dtype=np.float64)
        mse = (sq * weight).sum(axis=axes) / np.maximum(weight.sum(axis=axes), 1.0)
    with np.errstate(divide="ignore"):
        value = 10.0 * np.log10(1.0 / mse)
    return np.minimum(value, PSNR_CAP)


def stroke_psnr(clean: np.ndarray, test: np.ndarray) -> np.ndarray:
    """PSNR over the digit's stroke pixels only (the black background inflates whole-image PSNR)."""
    return psnr(clean, test, mask=np.asarray(clean) > STROKE_THRESHOLD)


def ssim(clean: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Per-image SSIM (scikit-image, 7×7 window, data range 1) for (N, H, W) or (H, W)."""
    clean = np.asarray(clean, dtype=np.float64)
    test = np.asarray(test, dtype=np.float64)
    if clean.ndim == 2:
        return np.asarray(structural_similarity(clean, test, data_range=1.0))
    return np.array([structural_similarity(c, t, data_range=1.0) for c, t in zip(clean, test)])


def summary(clean: np.ndarray, test: np.ndarray, with_ssim: bool = True) -> dict[str, float]:
    """Mean PSNR, stroke PSNR and (optionally) SSIM over a batch of images."""
    test = np.clip(np.asarray(test, dtype=np.float64), 0.0, 1.0)
    out = {"psnr": float(psnr(clean, test).mean()), "stroke_psnr": float(stroke_psnr(clean, test).mean())}
    if with_ssim:
        out["ssim"] = float(ssim(clean, test).mean())
    return out
