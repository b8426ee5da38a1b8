"""A transposed convolution computed as one plain convolution and a pixel shuffle (bench/step_speed.py times it)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def conv_transpose_as_conv(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int
) -> torch.Tensor:
    """F.conv_transpose2d(x, weight, bias, stride) (no padding) computed as conv2d + pixel_shuffle + crop.

    The transposed convolution's weight (C_in, C_out, k, k) is zero-padded to m·s (m = ⌈k/s⌉) and split
    by output phase: output pixel s·q + r sums x[q − j]·w[r + s·j], a plain m×m correlation (with the
    kernel flipped) per phase r, so one conv2d makes C_out·s² phase maps that pixel_shuffle interleaves.
    Gradients reach `weight` and `bias` themselves, so the stored parameters stay the layer's own.
    """
    c_in, c_out, k, _ = weight.shape
    s = int(stride)
    m = -(-k // s)  # ⌈k/s⌉
    w = F.pad(weight, (0, m * s - k, 0, m * s - k)).view(c_in, c_out, m, s, m, s)  # (ci, co, jh, rh, jw, rw)
    w = w.permute(1, 3, 5, 0, 2, 4).flip(-1, -2).reshape(c_out * s * s, c_in, m, m)  # (co·s·s, ci, m, m)
    b = bias.repeat_interleave(s * s) if bias is not None else None
    y = F.conv2d(x, w, b, padding=m - 1)  # (B, co·s², H + m − 1, W + m − 1)
    y = F.pixel_shuffle(y, s) if s > 1 else y  # (B, co, s(H + m − 1), s(W + m − 1))
    h, wd = (x.shape[-2] - 1) * s + k, (x.shape[-1] - 1) * s + k
    return y[..., :h, :wd]
