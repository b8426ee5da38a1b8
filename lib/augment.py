"""Augmentation for how other people's digits differ from MNIST, and blind-strength noise; batched torch.

Every transform takes a batch (B, 1, 28, 28) in [0, 1] and per-image parameters, so each one can be tested
on its own; `random_augment` draws those parameters from an explicit torch.Generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lib.noise import NoiseConfig


def dilate(x: torch.Tensor) -> torch.Tensor:
    """Thicker strokes: 3×3 grey-level dilation (maximum over the neighbourhood)."""
    return F.max_pool2d(x, 3, stride=1, padding=1)


def erode(x: torch.Tensor) -> torch.Tensor:
    """Thinner strokes: grey-level erosion, the minimum over each pixel and its 4 neighbours (a plus shape).

    The plus shape, not the full 3×3 square: MNIST strokes are 2–3 pixels wide and a square would erase them.
    """
    p = F.pad(x, (1, 1, 1, 1))  # zeros outside: ink at the frame's edge thins too
    h, w = x.shape[-2:]
    shifted = torch.stack([p[..., 1 : h + 1, 1 : w + 1], p[..., 0:h, 1 : w + 1], p[..., 2 : h + 2, 1 : w + 1],
                           p[..., 1 : h + 1, 0:w], p[..., 1 : h + 1, 2 : w + 2]])  # fmt: skip
    return shifted.amin(dim=0)


def stroke_width(x: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
    """Per image: step −1 erodes, +1 dilates, 0 keeps. x (B, 1, H, W), step (B,) int."""
    shape = (-1, 1, 1, 1)
    out = torch.where(step.view(shape) > 0, dilate(x), x)
    return torch.where(step.view(shape) < 0, erode(x), out)


def intensity(x: torch.Tensor, gain: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    """Grey or faint ink and other contrast curves: gain · x^gamma per image. gain, gamma (B,)."""
    return gain.view(-1, 1, 1, 1) * x.clamp(min=0.0).pow(gamma.view(-1, 1, 1, 1))


def haze(x: torch.Tensor, level: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Paper that to_mnist could not remove (a photo lit from one side): a grey ramp up to `level` under the ink.

    level (B,) in [0, 1] is the ramp's brightest value, angle (B,) its direction; ink stays where it is brighter.
    """
    _, _, h, w = x.shape
    yy = torch.linspace(-0.5, 0.5, h, device=x.device).view(1, 1, h, 1)
    xx = torch.linspace(-0.5, 0.5, w, device=x.device).view(1, 1, 1, w)
    ramp = torch.cos(angle).view(-1, 1, 1, 1) * xx + torch.sin(angle).view(-1, 1, 1, 1) * yy + 0.5  # (B, 1, H, W)
    background = level.view(-1, 1, 1, 1) * ramp.clamp(0.0, 1.0)
    return torch.maximum(x, background)


def gaussian_kernels(sigma: torch.Tensor, radius: int = 3) -> torch.Tensor:
    """Normalised 2-D Gaussian kernels, one per sigma: (B, 1, 2r+1, 2r+1); sigma 0 gives the identity."""
    t = torch.arange(-radius, radius + 1, dtype=torch.float32, device=sigma.device)  # (K,)
    s = sigma.float().clamp(min=1e-3).view(-1, 1)  # (B, 1)
    k1 = torch.exp(-0.5 * (t / s) ** 2)  # (B, K)
    k1 = k1 / k1.sum(dim=1, keepdim=True)
    return (k1[:, :, None] * k1[:, None, :]).unsqueeze(1)  # (B, 1, K, K)


def blur(x: torch.Tensor, sigma: torch.Tensor, radius: int = 3) -> torch.Tensor:
    """Per-image Gaussian blur (zero padding, like ink on a black frame). sigma (B,) in pixels."""
    b, c, h, w = x.shape
    kernels = gaussian_kernels(sigma, radius).repeat_interleave(c, dim=0)  # (B·C, 1, K, K)
    out = F.conv2d(x.reshape(1, b * c, h, w), kernels, padding=radius, groups=b * c)  # (1, B·C, H, W)
    return out.view(b, c, h, w)


def affine_matrices(
    rotation: torch.Tensor, shear: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, size: int = 28
) -> torch.Tensor:
    """Output→input maps for grid_sample, (B, 2, 3): rotation and slant (shear) in radians, shift in pixels."""
    cos, sin = torch.cos(rotation), torch.sin(rotation)
    rot = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)  # (B, 2, 2)
    sh = torch.zeros_like(rot)
    sh[:, 0, 0] = 1.0
    sh[:, 1, 1] = 1.0
    sh[:, 0, 1] = torch.tan(shear)  # x += tan(slant) · y: an italic slant
    forward = rot @ sh * scale.view(-1, 1, 1)  # (B, 2, 2): where an input point goes
    inverse = torch.linalg.inv(forward)  # grid_sample asks, for each output pixel, where to read from
    offset = -(inverse @ (shift.float() * (2.0 / size)).unsqueeze(-1))  # (B, 2, 1), pixels → [-1, 1] units
    return torch.cat([inverse, offset], dim=-1)  # (B, 2, 3)


def warp(x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Resample x at grid (B, H, W, 2) in [-1, 1] coordinates, bilinear, zeros outside."""
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def affine(x: torch.Tensor, matrices: torch.Tensor) -> torch.Tensor:
    """Apply (B, 2, 3) output→input affine maps (see `affine_matrices`)."""
    grid = F.affine_grid(matrices, list(x.shape), align_corners=False)  # (B, H, W, 2)
    return warp(x, grid)


def shift_pixels(x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
    """Move each image by (dy, dx) pixels (fractions interpolate)."""
    zero = torch.zeros_like(dy, dtype=torch.float32)
    one = torch.ones_like(zero)
    return affine(x, affine_matrices(zero, zero, one, torch.stack([dx.float(), dy.float()], -1), x.shape[-1]))


def elastic(x: torch.Tensor, alpha: torch.Tensor, generator: torch.Generator, cells: int = 4) -> torch.Tensor:
    """Elastic distortion: a smooth random displacement field (a `cells`×`cells` grid upsampled) of ≤ alpha pixels."""
    b, _, h, w = x.shape
    coarse = torch.rand((b, 2, cells, cells), generator=generator, device=x.device) * 2 - 1  # (B, 2, c, c)
    field = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=True)  # (B, 2, H, W), |·| ≤ 1
    field = field * alpha.view(-1, 1, 1, 1) * (2.0 / w)  # pixels → [-1, 1] units
    identity = F.affine_grid(
        torch.eye(2, 3, device=x.device).expand(b, 2, 3), [b, 1, h, w], align_corners=False
    )  # (B, H, W, 2)
    return warp(x, identity + field.permute(0, 2, 3, 1))


@dataclass(frozen=True)
class AugmentConfig:
    """How strongly `random_augment` varies each property (probabilities and ranges)."""

    p: float = 0.5  # share of images that are augmented at all; the rest stay MNIST as it is
    p_width: float = 0.5
    p_intensity: float = 0.5
    gain: tuple[float, float] = (0.6, 1.0)  # to_mnist stretches the brightest pixel to 1: ink is rarely faint
    gamma: tuple[float, float] = (0.5, 2.0)  # < 1: flat bright strokes; > 1: bright core, grey edges
    p_blur: float = 0.3
    blur_sigma: tuple[float, float] = (0.3, 1.0)
    p_affine: float = 0.6
    rotation_deg: float = 12.0
    slant_deg: float = 25.0
    scale: tuple[float, float] = (0.8, 1.1)
    shift_px: float = 2.0
    p_haze: float = 0.15
    haze_level: tuple[float, float] = (0.05, 0.3)
    p_elastic: float = 0.3
    elastic_alpha: float = 1.5  # pixels


def _uniform(n: int, lo: float, hi: float, g: torch.Generator, device: torch.device) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=g, device=device)


def _on(mask: torch.Tensor, x: torch.Tensor, fn) -> torch.Tensor:
    """Apply fn to the images where mask (B,) is True only (the rest are not computed at all)."""
    idx = mask.nonzero().squeeze(1)
    if idx.numel() == 0:
        return x
    out = x.clone()
    out[idx] = fn(x[idx], idx)
    return out


def random_augment(
    x: torch.Tensor, generator: torch.Generator, config: AugmentConfig = AugmentConfig()
) -> torch.Tensor:
    """Randomly thicken/thin, slant/rotate/scale/shift, bend, blur, fade and haze digits (B, 1, 28, 28) in [0, 1]."""
    g, n, dev = generator, x.shape[0], x.device
    if n == 0:
        return x

    def coin(p: float) -> torch.Tensor:  # (B,) bool, only for images chosen for augmentation
        return (torch.rand(n, generator=g, device=dev) < p) & active

    active = torch.ones(n, dtype=torch.bool, device=dev)
    active = coin(config.p)  # images left as MNIST has them stay untouched by every later step
    # Every random number is drawn for the whole batch, so which images change does not shift later draws.
    steps = torch.randint(-1, 2, (n,), generator=g, device=dev) * coin(config.p_width)
    use_affine = coin(config.p_affine)
    rot = _uniform(n, -1, 1, g, dev) * math.radians(config.rotation_deg)
    slant = _uniform(n, -1, 1, g, dev) * math.radians(config.slant_deg)
    scale = _uniform(n, *config.scale, g, dev)
    shift = _uniform(2 * n, -1, 1, g, dev).view(n, 2) * config.shift_px
    use_elastic = coin(config.p_elastic)
    alpha = _uniform(n, 0, config.elastic_alpha, g, dev)
    field_seed = int(torch.randint(0, 2**62, (1,), generator=g).item())
    use_blur = coin(config.p_blur)
    sigma = _uniform(n, *config.blur_sigma, g, dev)
    dim = coin(config.p_intensity)
    gain = torch.where(dim, _uniform(n, *config.gain, g, dev), torch.ones(n, device=dev))
    gamma = torch.where(dim, _uniform(n, *config.gamma, g, dev), torch.ones(n, device=dev))
    use_haze = coin(config.p_haze)
    level = _uniform(n, *config.haze_level, g, dev)
    angle = _uniform(n, 0, 2 * math.pi, g, dev)

    out = _on(steps != 0, x, lambda v, i: stroke_width(v, steps[i]))
    size = x.shape[-1]
    out = _on(use_affine, out, lambda v, i: affine(v, affine_matrices(rot[i], slant[i], scale[i], shift[i], size)))
    field_g = torch.Generator(device=dev).manual_seed(field_seed)
    out = _on(use_elastic, out, lambda v, i: elastic(v, alpha[i], field_g))
    out = _on(use_blur, out, lambda v, i: blur(v, sigma[i]))
    # to_mnist stretches the brightest pixel of a picture to 1, so blurred or thinned digits get their peak back.
    out = _on(active, out, lambda v, i: v / v.amax(dim=(1, 2, 3), keepdim=True).clamp(min=0.05))
    out = _on(dim, out, lambda v, i: intensity(v, gain[i], gamma[i]))
    out = _on(use_haze, out, lambda v, i: haze(v, level[i], angle[i]))
    return out.clamp(0.0, 1.0)


def noise_strengths(n: int, generator: torch.Generator, device: torch.device | str = "cpu") -> torch.Tensor:
    """Per-image strength factors u: 10% clean (0), 50% the preset itself (1), 40% uniform in [0, 1.5].

    The clean share teaches the model to hand back a clean digit unchanged (no invented ink).
    """
    g = generator
    r = torch.rand(n, generator=g, device=device)
    u = 1.5 * torch.rand(n, generator=g, device=device)
    return torch.where(r < 0.1, torch.zeros_like(u), torch.where(r < 0.6, torch.ones_like(u), u))


def blind_noise(x: torch.Tensor, noise: NoiseConfig, generator: torch.Generator) -> torch.Tensor:
    """Noise of random strength per image (pixel units 0..255): the preset's μ, √D and s scaled by u.

    Half of the images get Gaussian, half speckle (the 'kind' of the preset chooses when it is not 'mix').
    """
    g, n, dev = generator, x.shape[0], x.device
    x = x.float()
    u = noise_strengths(n, g, dev).view(-1, *([1] * (x.dim() - 1)))
    if noise.kind == "mix":
        is_gauss = (torch.rand(n, generator=g, device=dev) < 0.5).view(u.shape)
    else:
        is_gauss = torch.full(u.shape, noise.kind == "gaussian", device=dev)
    z = torch.randn(x.shape, generator=g, device=dev)
    gauss = x + u * (noise.mean + math.sqrt(noise.var) * z)
    speck = x + x * (u * noise.speckle * z)
    noisy = torch.where(is_gauss, gauss, speck)
    return noisy.clamp(0.0, 255.0) if noise.clip else noisy


def augment_digits(images: torch.Tensor, generator: torch.Generator, chunk: int = 8192) -> torch.Tensor:
    """A freshly augmented copy of uint8 digits (N, 28, 28), made in large chunks (one call per epoch).

    Large chunks keep the per-operation overhead small: per training batch, the ~30 small tensor
    operations would cost more than the model's own step on a busy 2-core CPU.
    """
    out = torch.empty_like(images, dtype=torch.uint8)
    for start in range(0, images.shape[0], chunk):
        part = images[start : start + chunk].float().unsqueeze(1) / 255.0  # (C, 1, 28, 28)
        out[start : start + chunk] = (random_augment(part, generator).squeeze(1) * 255.0).round().to(torch.uint8)
    return out
