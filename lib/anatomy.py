"""Looking inside a model: Table 1 from the live layers, feature maps, kernels, tiling for display."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lib.convolution import output_size, pair, transposed_output_size


@dataclass(frozen=True)
class LayerRow:
    """One row of the generated Table 1."""

    stage: str
    name: str
    operation: str
    output_shape: tuple[int, ...]
    parameters: int
    formula: str  # output-size formula with the numbers filled in, or ""


def size_formula(module: nn.Module, n_in: int) -> str:
    """The output-size formula of a conv / transposed conv layer with this layer's numbers."""
    if isinstance(module, nn.ConvTranspose2d):
        k, s, p, d, op = (pair(module.kernel_size)[0], pair(module.stride)[0], pair(module.padding)[0],
                          pair(module.dilation)[0], pair(module.output_padding)[0])  # fmt: skip
        out = transposed_output_size(n_in, k, s, p, op, d)
        return f"(n−1)·s − 2p + d(k−1) + op + 1 = ({n_in}−1)·{s} − 2·{p} + {d}·({k}−1) + {op} + 1 = {out}"
    if isinstance(module, nn.Conv2d):
        k, s, p, d = (pair(module.kernel_size)[0], pair(module.stride)[0], pair(module.padding)[0],
                      pair(module.dilation)[0])  # fmt: skip
        out = output_size(n_in, k, s, p, d)
        return f"⌊(n + 2p − d(k−1) − 1)/s⌋ + 1 = ⌊({n_in} + 2·{p} − {d}·({k}−1) − 1)/{s}⌋ + 1 = {out}"
    return ""


def describe(module: nn.Module) -> str:
    """Short operation text, e.g. 'Conv2d(1→32, k=7, s=3)'."""
    if isinstance(module, nn.ConvTranspose2d | nn.Conv2d):
        kind = type(module).__name__
        return f"{kind}({module.in_channels}→{module.out_channels}, k={pair(module.kernel_size)[0]}, s={pair(module.stride)[0]})"
    if isinstance(module, nn.Linear):
        return f"Linear({module.in_features}→{module.out_features})"
    if isinstance(module, nn.BatchNorm2d):
        return f"BatchNorm2d({module.num_features})"
    if isinstance(module, nn.Dropout):
        return f"Dropout(p={module.p:g})"
    return type(module).__name__


def table_heading_key(model_name: str) -> str:
    """Only the convolutional model is the textbook's Table 1; the fully connected one is section 5's."""
    return {"table1": "inside.table", "linear": "inside.table_linear"}.get(model_name, "inside.table_model")


@torch.no_grad()
def layer_table(model: nn.Module, x: torch.Tensor) -> list[LayerRow]:
    """Run x (1, 1, 28, 28) through the model and record every leaf layer's output shape."""
    rows: list[LayerRow] = []
    hooks = []
    for stage, block in model.stages():
        children = list(block.children()) or [block]
        for i, layer in enumerate(children):

            def hook(mod, inputs, output, stage=stage, i=i):
                n_in = inputs[0].shape[-1] if inputs[0].dim() == 4 else 0
                params = sum(p.numel() for p in mod.parameters())
                rows.append(LayerRow(stage, f"{stage}.{i}", describe(mod), tuple(output.shape[1:]), params,
                                     size_formula(mod, n_in)))  # fmt: skip

            hooks.append(layer.register_forward_hook(hook))
    try:
        model.eval()(x)
    finally:
        for h in hooks:
            h.remove()
    return rows


@torch.no_grad()
def stage_outputs(model: nn.Module, x: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """Output of every stage (Sequential block) for one input (1, 1, 28, 28), batch dim dropped."""
    model.eval()
    if hasattr(model, "feature_maps"):  # a network with skips (the U-Net) is not a chain of its stages
        return [(name, out[0].detach().cpu()) for name, out in model.feature_maps(x)]
    outs = []
    out = x
    for name, block in model.stages():
        if isinstance(block[0], nn.Linear) and out.dim() > 2:
            out = out.flatten(1)  # (1, 784): the fully connected model sees a flat vector
        out = block(out)
        outs.append((name, out[0].detach().cpu()))
    last_name, last = outs[-1]
    if last.dim() == 1:  # the linear decoder's flat output back to an image
        outs[-1] = (last_name, last.view(1, 28, 28))
    return outs


def tile(maps: np.ndarray, columns: int = 8, pad: int = 1, normalise: bool = True) -> np.ndarray:
    """Channels (C, H, W) → one mosaic image in [0, 1], each channel scaled to its own range."""
    maps = np.asarray(maps, dtype=np.float64)
    c, h, w = maps.shape
    rows = -(-c // columns)
    mosaic = np.ones((rows * (h + pad) - pad, columns * (w + pad) - pad))
    for i in range(c):
        m = maps[i]
        if normalise:
            lo, hi = m.min(), m.max()
            m = (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)
        r, col = divmod(i, columns)
        mosaic[r * (h + pad) : r * (h + pad) + h, col * (w + pad) : col * (w + pad) + w] = m
    return mosaic


def first_layer_kernels(model: nn.Module) -> np.ndarray:
    """The first convolution's kernels as (C_out, k, k)."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module.weight.detach().cpu().numpy()[:, 0]
    raise ValueError("model has no convolution")


@torch.no_grad()
def decoder_of_blank(model: nn.Module) -> np.ndarray:
    """What the decoder draws from an all-zero code (1, 64, 6, 6): its bias and checkerboard."""
    stages = dict(model.stages())
    first = stages["layer02"][0]
    code = torch.zeros(1, first.in_channels, 6, 6)
    return stages["layer01"](stages["layer02"].eval()(code))[0, 0].numpy()


@torch.no_grad()
def output_of_blank(model: nn.Module) -> np.ndarray:
    """The whole model's output for a black 28×28 input."""
    return model.eval()(torch.zeros(1, 1, 28, 28))[0, 0].numpy()
