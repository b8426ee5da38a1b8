"""Cleaning digits with a trained model: batched, in eval mode, in the memory layout the weights are built for."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


@torch.no_grad()
def predict(model: nn.Module, noisy: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Model output for (N, 1, 28, 28) inputs, in eval mode, batched (channels-last, as Checkpoint.build lays out weights)."""
    model.eval()
    batches = (
        noisy[i : i + batch_size].contiguous(memory_format=torch.channels_last)
        for i in range(0, noisy.shape[0], batch_size)
    )
    outs = [model(batch) for batch in batches]
    return torch.cat(outs).float() if outs else noisy.new_zeros(noisy.shape)


def cleaned(model: nn.Module, noisy_unit: np.ndarray, device: torch.device | str = "cpu") -> np.ndarray:
    """Denoise (N, 28, 28) or (28, 28) float images in model units; same shape out."""
    arr = np.asarray(noisy_unit, dtype=np.float32)
    single = arr.ndim == 2
    x = torch.from_numpy(arr.reshape(-1, 1, 28, 28)).to(device)  # (N, 1, 28, 28)
    out = predict(model, x).cpu().numpy().reshape(-1, 28, 28)
    return out[0] if single else out
