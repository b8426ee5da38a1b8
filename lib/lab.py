"""The noise lab's computation: pick digits, add noise, clean them, score every triple."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from lib import metrics
from lib.noise import NoiseConfig, add_noise, make_generator, mix_mask
from lib.train import cleaned


@dataclass(frozen=True)
class Triples:
    """Original | noisy | cleaned images in [0, 1] with per-image scores."""

    clean: np.ndarray  # (N, 28, 28)
    noisy_raw: np.ndarray  # (N, 28, 28) pixel units before clipping
    noisy: np.ndarray  # (N, 28, 28) what the model sees, [0, 1] when clipped
    cleaned: np.ndarray  # (N, 28, 28)
    psnr_noisy: np.ndarray  # (N,)
    psnr_cleaned: np.ndarray  # (N,)
    ssim_noisy: np.ndarray  # (N,)
    ssim_cleaned: np.ndarray  # (N,)
    gaussian: np.ndarray  # (N,) bool: which images got Gaussian (the rest speckle)

    def averages(self) -> dict[str, float]:
        """Mean of each score over the examples."""
        return {
            "psnr_noisy": float(self.psnr_noisy.mean()),
            "psnr_cleaned": float(self.psnr_cleaned.mean()),
            "ssim_noisy": float(self.ssim_noisy.mean()),
            "ssim_cleaned": float(self.ssim_cleaned.mean()),
        }

    def clipped_share(self) -> float:
        """Share of noisy pixel values that fell outside 0..255 (clipping changes them)."""
        raw = self.noisy_raw
        return float(((raw < 0) | (raw > 255)).mean())


def example_indices(count: int, seed: int, total: int) -> np.ndarray:
    """`count` distinct random test-set indices from a seeded numpy Generator."""
    rng = np.random.default_rng(seed)
    return rng.choice(total, size=min(count, total), replace=False)


def make_triples(
    model: nn.Module, images: torch.Tensor, noise: NoiseConfig, seed: int, device: torch.device | str = "cpu"
) -> Triples:
    """Noise the uint8 images (N, 28, 28) with a seeded generator, clean them, score both."""
    g = make_generator(seed)
    n = images.shape[0]
    gaussian = mix_mask(n, g) if noise.kind == "mix" else torch.full((n,), noise.kind == "gaussian")
    raw = add_noise(images.float(), replace(noise, clip=False), g, gaussian_mask=gaussian)
    model_input = raw.clamp(0, 255) if noise.clip else raw
    clean = images.float().numpy() / 255.0
    noisy = model_input.numpy() / 255.0
    out = cleaned(model, noisy, device)
    shown = np.clip(noisy, 0.0, 1.0)
    return Triples(
        clean=clean,
        noisy_raw=raw.numpy(),
        noisy=noisy,
        cleaned=out,
        psnr_noisy=metrics.psnr(clean, shown),
        psnr_cleaned=metrics.psnr(clean, out),
        ssim_noisy=metrics.ssim(clean, shown),
        ssim_cleaned=metrics.ssim(clean, out),
        gaussian=gaussian.numpy(),
    )


def error_map(reference: np.ndarray, image: np.ndarray) -> np.ndarray:
    """|image − reference| in [0, 1]."""
    return np.abs(np.clip(image, 0, 1) - reference)


@dataclass(frozen=True)
class CleanedDigit:
    """One user digit: its clean 28×28 version, the noisy input and every model's output with scores."""

    clean: np.ndarray  # (28, 28)
    noisy: np.ndarray  # (28, 28) model input
    outputs: dict[str, np.ndarray]  # model name → (28, 28)
    scores: dict[str, dict[str, float]]  # "noisy" and model names → {"psnr", "ssim"}


def clean_digit(
    models: dict[str, nn.Module], digit: np.ndarray, noise: NoiseConfig | None, seed: int,
    device: torch.device | str = "cpu",
) -> CleanedDigit:  # fmt: skip
    """Optionally noise a preprocessed digit (seeded), clean it with every model, score against the digit."""
    clean = np.asarray(digit, dtype=np.float32)
    if noise is None:
        noisy = clean.copy()
    else:
        raw = add_noise(torch.from_numpy(clean * 255.0)[None], noise, make_generator(seed))[0]  # (28, 28)
        noisy = (raw / 255.0).numpy()
    shown = np.clip(noisy, 0, 1)
    scores = {"noisy": {"psnr": float(metrics.psnr(clean, shown)), "ssim": float(metrics.ssim(clean, shown))}}
    outputs = {}
    for name, model in models.items():
        out = cleaned(model, noisy, device)
        outputs[name] = out
        scores[name] = {"psnr": float(metrics.psnr(clean, out)), "ssim": float(metrics.ssim(clean, out))}
    return CleanedDigit(clean, noisy, outputs, scores)
