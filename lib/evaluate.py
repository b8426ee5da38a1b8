"""Evaluation on the test set with a fixed noise seed, per noise type, models and baselines alike."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lib import baselines, metrics
from lib.data import Digits, load_split
from lib.inference import cleaned
from lib.noise import NoiseConfig, add_noise, make_generator, to_unit


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


def eval_digits(name: str) -> Digits:
    """The digits of an evaluation set: 'mnist' (the test split), 'outside' or 'outside:WRITER', or a folder."""
    from lib import outside

    if name == "mnist":
        return load_split("test")
    if name == "outside":
        return outside.load().digits()
    if name.startswith("outside:"):
        writer = name.split(":", 1)[1]
        if writer not in outside.KINDS:
            raise ValueError(f"unknown writer {writer!r}; use one of {', '.join(outside.KINDS)}")
        return outside.load().subset(writer).digits()
    from pathlib import Path

    folder = Path(name)
    if not folder.is_dir():
        raise ValueError(f"{name}: not 'mnist', 'outside', 'outside:WRITER' or a folder of pictures")
    return outside.load_folder(folder).digits()


def clean_test_set(digits: Digits, limit: int | None = None) -> NoisyTestSet:
    """The digits with no noise at all: a denoiser should hand them back unchanged."""
    images = digits.images[:limit] if limit else digits.images
    clean = to_unit(images).numpy()
    return NoisyTestSet("none", clean, clean.copy())
