"""The textbook's noise (section 4, add_noise), vectorised on torch tensors in 0..255 units."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

NOISE_KINDS = ("gaussian", "speckle", "mix")


@dataclass(frozen=True)
class NoiseConfig:
    """Which noise, its parameters (pixel units 0..255) and whether to clip to [0, 255]."""

    kind: str = "mix"  # "gaussian" | "speckle" | "mix" (the textbook's half/half training set)
    mean: float = -20.0  # Gaussian mean μ
    var: float = 600.0  # Gaussian variance D
    speckle: float = 1.0  # speckle standard deviation s
    clip: bool = True

    def __post_init__(self) -> None:
        if self.kind not in NOISE_KINDS:
            raise ValueError(f"unknown noise kind {self.kind!r}; use one of {NOISE_KINDS}")
        if not math.isfinite(self.mean) or not math.isfinite(self.var) or self.var < 0:
            raise ValueError(f"Gaussian needs a finite mean and variance ≥ 0, got {self.mean}, {self.var}")
        if not math.isfinite(self.speckle) or self.speckle < 0:
            raise ValueError(f"speckle strength must be ≥ 0, got {self.speckle}")

    def with_kind(self, kind: str) -> NoiseConfig:
        """The same parameters with another noise kind."""
        return replace(self, kind=kind)


# Section 5: Group A trained with μ = −5.9, D = 35; Group B (Appendix 1) with μ = −20, D = 600.
PRESETS: dict[str, NoiseConfig] = {
    "A": NoiseConfig(kind="mix", mean=-5.9, var=35.0, speckle=1.0),
    "B": NoiseConfig(kind="mix", mean=-20.0, var=600.0, speckle=1.0),
}


def preset(name: str) -> NoiseConfig:
    """Group A or Group B noise (case-insensitive)."""
    key = name.upper()
    if key not in PRESETS:
        raise ValueError(f"unknown noise preset {name!r}; use A or B")
    return PRESETS[key]


def gaussian(x: torch.Tensor, mean: float, var: float, generator: torch.Generator) -> torch.Tensor:
    """x + N(mean, var): additive Gaussian noise (the textbook's 'gaussian' branch)."""
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=torch.float32)
    return x.float() + mean + math.sqrt(var) * noise


def speckle(x: torch.Tensor, s: float, generator: torch.Generator) -> torch.Tensor:
    """x + x·N(0, s²): multiplicative speckle; zero pixels stay zero."""
    x = x.float()
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=torch.float32)
    return x + x * (s * noise)


def mix_mask(n: int, generator: torch.Generator, device: torch.device | str = "cpu") -> torch.Tensor:
    """Boolean (n,) mask, True for exactly half (rounded up) of the images: those get Gaussian."""
    order = torch.randperm(n, generator=generator, device=device)
    mask = torch.zeros(n, dtype=torch.bool, device=device)
    mask[order[: (n + 1) // 2]] = True
    return mask


def add_noise(
    x: torch.Tensor, config: NoiseConfig, generator: torch.Generator, gaussian_mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Noisy copy of images x (…, 28, 28) in 0..255; 'mix' draws Gaussian for half of the batch."""
    x = x.float()
    if config.kind == "gaussian":
        noisy = gaussian(x, config.mean, config.var, generator)
    elif config.kind == "speckle":
        noisy = speckle(x, config.speckle, generator)
    else:
        if gaussian_mask is None:
            gaussian_mask = mix_mask(x.shape[0], generator, x.device)
        g = gaussian(x, config.mean, config.var, generator)
        s = speckle(x, config.speckle, generator)
        shape = (-1,) + (1,) * (x.dim() - 1)
        noisy = torch.where(gaussian_mask.view(shape), g, s)
    return noisy.clamp_(0.0, 255.0) if config.clip else noisy


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """Pixel units 0..255 → model units [0, 1] (unclipped values stay outside)."""
    return x.float() / 255.0


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A fresh seeded torch.Generator on the given device."""
    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g
