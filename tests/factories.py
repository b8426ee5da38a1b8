"""Small real things the tests build: a PNG of an MNIST test digit, a Table 1 checkpoint with random weights."""

from __future__ import annotations

import io

import torch
from PIL import Image

from lib import checkpoint as ckpt_io
from lib.models import build_model, default_config


def png_bytes(test_digits, index=0) -> bytes:
    """A test digit as a student's photo: dark ink on white, 140×140 PNG."""
    buf = io.BytesIO()
    Image.fromarray(255 - test_digits.images[index].numpy()).resize((140, 140)).save(buf, format="PNG")
    return buf.getvalue()


def small_checkpoint(seed: int = 0) -> bytes:
    """A real Table 1 model's checkpoint bytes (random weights)."""
    torch.manual_seed(seed)
    config = default_config("table1")
    model = build_model(config)
    return ckpt_io.to_bytes(ckpt_io.Checkpoint(config, model.state_dict(), history=[{"epoch": 1, "val_psnr": 20.5}]))
