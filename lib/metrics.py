"""Image quality: PSNR and SSIM (both checked against scikit-image), stroke-only PSNR."""

from __future__ import annotations

import numpy as np

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


def _box_mean(x: np.ndarray, w: int) -> np.ndarray:
    """Mean of every w×w window lying inside the image: (N, H, W) → (N, H−w+1, W−w+1), via an integral image."""
    c = np.zeros((x.shape[0], x.shape[1] + 1, x.shape[2] + 1))
    c[:, 1:, 1:] = x.cumsum(axis=1).cumsum(axis=2)  # c[:, i, j] = sum of x[:, :i, :j]
    return (c[:, w:, w:] - c[:, :-w, w:] - c[:, w:, :-w] + c[:, :-w, :-w]) / (w * w)


def ssim(clean: np.ndarray, test: np.ndarray, win: int = 7) -> np.ndarray:
    """Per-image SSIM for (N, H, W) or (H, W) in [0, 1]: scikit-image's (7×7 window, data range 1), batched.

    scikit-image filters the whole image and then averages only the windows that lie inside it (it crops
    (win−1)/2 pixels on each side), so the same number comes from windows inside the image alone; all images
    at once with an integral image, without importing scipy on the noise lab's path (tested against scikit-image).
    """
    clean = np.asarray(clean, dtype=np.float64)
    test = np.asarray(test, dtype=np.float64)
    single = clean.ndim == 2
    x, y = (clean[None], test[None]) if single else (clean, test)  # (N, H, W)
    c1, c2 = 0.01**2, 0.03**2  # (K1·R)², (K2·R)² with data range R = 1
    cov_norm = win * win / (win * win - 1.0)  # sample covariance, as scikit-image
    ux, uy = _box_mean(x, win), _box_mean(y, win)
    vx = cov_norm * (_box_mean(x * x, win) - ux * ux)
    vy = cov_norm * (_box_mean(y * y, win) - uy * uy)
    vxy = cov_norm * (_box_mean(x * y, win) - ux * uy)
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    values = s.mean(axis=(1, 2))  # (N,)
    return np.asarray(values[0]) if single else values


def summary(clean: np.ndarray, test: np.ndarray, with_ssim: bool = True) -> dict[str, float]:
    """Mean PSNR, stroke PSNR and (optionally) SSIM over a batch of images."""
    test = np.clip(np.asarray(test, dtype=np.float64), 0.0, 1.0)
    out = {"psnr": float(psnr(clean, test).mean()), "stroke_psnr": float(stroke_psnr(clean, test).mean())}
    if with_ssim:
        out["ssim"] = float(ssim(clean, test).mean())
    return out
