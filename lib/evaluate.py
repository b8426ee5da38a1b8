"""Evaluation on the test set with a fixed noise seed, per noise type, models and baselines alike."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lib import baselines, metrics
from lib.data import Digits
from lib.noise import NoiseConfig, add_noise, make_generator, to_unit
from lib.train import cleaned


@dataclass(frozen=True)
class NoisyTestSet:
    """Clean and noisy copies of test digits in [0, 1] (noisy unclipped if the noise is)."""

    kind: str
    clean: np.ndarray  # (N, 28, 28)
    noisy: np.ndarray  # (N, 28, 28)


def noisy_test_set(
    digits: Digits, noise: NoiseConfig, kind: str, seed: int = 1234, limit: int | None = None
) -> NoisyTestSet:
    """One noise type (gaussian or speckle) on the first `limit` test digits, seeded."""
    images = digits.images[:limit] if limit else digits.images
    g = make_generator(seed)
    noisy = add_noise(images.float(), noise.with_kind(kind), g)
    return NoisyTestSet(kind, to_unit(images).numpy(), to_unit(noisy).numpy())


def evaluate_model(model: nn.Module, data: NoisyTestSet, device: torch.device | str = "cpu") -> dict[str, float]:
    """PSNR, stroke PSNR and SSIM of the model's output."""
    return metrics.summary(data.clean, cleaned(model, data.noisy, device))


def evaluate_baseline(name: str, data: NoisyTestSet, limit: int | None = None) -> dict[str, float]:
    """Same metrics for a classical filter (optionally on the first `limit` images)."""
    clean, noisy = (data.clean[:limit], data.noisy[:limit]) if limit else (data.clean, data.noisy)
    return metrics.summary(clean, baselines.apply(name, noisy)) | {"n": float(len(clean))}


def evaluate_noisy(data: NoisyTestSet) -> dict[str, float]:
    """The noisy input itself, as the floor every method must beat."""
    return metrics.summary(data.clean, data.noisy)
