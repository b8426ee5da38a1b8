"""The noise lab's computation: pick digits, add noise, clean them, score every triple."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from lib import metrics
from lib.inference import cleaned
from lib.noise import NoiseConfig, add_noise, make_generator, mix_mask


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
    untouched: np.ndarray  # (N,) bool: the noise changed nothing (speckle s = 0, or Gaussian μ = 0 and D = 0)

    def averaged(self) -> np.ndarray:
        """Which examples the averages cover: those the noise changed (all of them when none was changed)."""
        touched = ~self.untouched
        return touched if touched.any() else np.ones_like(touched)

    def averages(self) -> dict[str, float | None]:
        """Mean of each score over the examples the noise changed; the noisy scores are None when it changed none.

        An unchanged image scores PSNR = ∞ (capped at 100 dB) against itself: averaging that in, or
        subtracting it from the cleaned score, would state a meaningless number.
        """
        use = self.averaged()
        noisy = not self.untouched.all()
        return {
            "psnr_noisy": float(self.psnr_noisy[use].mean()) if noisy else None,
            "psnr_cleaned": float(self.psnr_cleaned[use].mean()),
            "ssim_noisy": float(self.ssim_noisy[use].mean()) if noisy else None,
            "ssim_cleaned": float(self.ssim_cleaned[use].mean()),
        }

    def clipped_share(self, which: np.ndarray | None = None) -> float:
        """Share of noisy pixel values outside 0..255 (clipping changes them), over all or the `which` images."""
        raw = self.noisy_raw if which is None else self.noisy_raw[which]
        return float(((raw < 0) | (raw > 255)).mean()) if raw.size else 0.0


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
        untouched=(raw == images.float()).flatten(1).all(dim=1).numpy(),
    )


def clipping_notes(noise: NoiseConfig, triples: Triples) -> list[tuple[str, dict[str, float]]]:
    """What the histogram shows, as (locale key, parameters): the share outside 0…255 and why, per noise kind.

    Gaussian noise shifts every pixel by μ: with μ < 0 most of it on the black background (0) goes below
    zero. Speckle x·N(0, s²) is proportional to the pixel: the background stays 0 and only the strokes
    spread out, both above 255 and below 0. Whether those values are cut or kept depends on clipping.
    """
    if triples.untouched.all():
        return [("lab.clip.no_noise", {})]
    state = "on" if noise.clip else "off"
    notes = [(f"lab.clip.share.{state}", {"share": triples.clipped_share()})]
    gauss = triples.gaussian & ~triples.untouched
    spk = ~triples.gaussian & ~triples.untouched
    if gauss.any():
        kind = "gauss_negative" if noise.mean < 0 else "gauss"
        notes.append((f"lab.clip.{kind}.{state}", {"mean": noise.mean, "share": triples.clipped_share(gauss)}))
    if spk.any():
        notes.append((f"lab.clip.speckle.{state}", {"s": noise.speckle, "share": triples.clipped_share(spk)}))
    return notes


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
    noise_added: bool = True  # False: "clean as it is", the scores compare each output with the input

    @property
    def untouched(self) -> bool:
        """Noise was asked for but changed nothing (e.g. speckle s = 0): the noisy score would be a fake 100 dB."""
        return self.noise_added and bool(np.array_equal(self.noisy, self.clean))


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
    return CleanedDigit(clean, noisy, outputs, scores, noise_added=noise is not None)
