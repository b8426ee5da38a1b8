"""Cached, read-only resources shared by all sessions: digits, shipped models, pictures (never mutate what these
return). Server-wide settings, the training queue and session liveness live in lib/ui/server.py."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch
from torch import nn

from lib import checkpoint as ckpt_io
from lib.data import PROJECT_ROOT, Digits, load_split
from lib.device import pick_device
from lib.lab import Triples, make_triples
from lib.noise import NoiseConfig
from lib.png import grey_png
from lib.ui.server import training_setting

WEIGHTS_DIR = PROJECT_ROOT / "weights"


@dataclass(frozen=True)
class LoadedModel:
    """A checkpoint and its model, ready for inference (eval mode)."""

    key: str
    checkpoint: ckpt_io.Checkpoint
    model: nn.Module
    name: str = ""  # a workspace model's display name (shipped models are named by their file)

    @property
    def source(self) -> str:
        """Where it comes from: "shipped" (a file in weights/), "workspace" (kept) or "session" (this tab only)."""
        return self.key.split(":", 1)[0]

    @property
    def label(self) -> str:
        """Its own name: the display name, else the key's part after the source (a shipped file's stem)."""
        return self.name or self.key.split(":", 1)[-1]


@st.cache_resource(show_spinner=False)
def test_digits() -> Digits:
    """The 10,000 MNIST test digits."""
    return load_split("test")


@st.cache_resource(show_spinner=False)
def train_digits() -> Digits:
    """The 60,000 MNIST training digits."""
    return load_split("train")


@st.cache_resource(show_spinner=False)
def device() -> torch.device:
    """The compute device of this server; on a CPU also torch's thread count for the whole process."""
    chosen = pick_device("auto")
    if chosen.type == "cpu":
        # Pages compute on a few 28×28 images: many students' runs side by side, one thread each, serve a
        # class better than every run spreading over all cores; trainings take turns on one such thread.
        torch.set_num_threads(training_setting("threads"))
    return chosen


def shipped_weights() -> list[Path]:
    """The checkpoints shipped in weights/, sorted by name."""
    return sorted(WEIGHTS_DIR.glob("*.pt"))


@st.cache_resource(show_spinner=False)
def shipped_model(path_str: str, mtime: float) -> LoadedModel:
    """Load one shipped checkpoint (mtime in the key so a replaced file is reloaded)."""
    path = Path(path_str)
    loaded = ckpt_io.load(path)
    return LoadedModel(f"shipped:{path.stem}", loaded, loaded.build(device()))


@st.cache_resource(show_spinner=False, ttl=600, max_entries=16)
def training_speed(model: str, batch_size: int):
    """This server's training speed for a model and batch size, measured now and again every ten minutes
    (so it follows the server's load); a few short real trainings, about a second."""
    from lib.noise import preset
    from lib.presets import measure_speed

    return measure_speed(model, batch_size, preset("B"), train_digits(), device())


def plotly_ready() -> None:
    """Call before building a plotly figure: makes sure pandas is fully imported in this process.

    plotly checks `sys.modules` for pandas without importing it; while another session's thread is halfway
    through importing pandas, that finds a half-initialised module and the page fails (AttributeError:
    partially initialized module 'pandas'). A real import statement waits until the import has finished.
    """
    import pandas  # noqa: F401


def png_tile(image: np.ndarray, size: int) -> bytes:
    """A [0, 1] image (H, W) enlarged to size×size with crisp pixels, as PNG bytes ready for st.image.

    Streamlit would encode an array as JPEG (blurred edges around the digit's pixels), then decode it twice
    and resize it to the requested width; a PNG of exactly that width passes through untouched.
    """
    arr = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    rows = np.arange(size) * arr.shape[0] // size  # nearest-neighbour source row of each output row
    cols = np.arange(size) * arr.shape[1] // size
    pixels = (arr[rows][:, cols] * 255.0).round().astype(np.uint8)  # (size, size)
    return grey_png(pixels)


@functools.lru_cache(maxsize=2048)
def test_digit_tile(index: int, size: int) -> bytes:
    """The tile (PNG, size×size) of MNIST test digit `index`, made once per server: the noise lab shows the same
    originals on every rerun, while their noisy and cleaned copies change with the seed."""
    return png_tile(test_digits().images[index].float().numpy() / 255.0, size)


@st.cache_resource(show_spinner=False, max_entries=256)
def lab_triples(model_key: str, _model: nn.Module, indices: tuple[int, ...], noise: NoiseConfig, seed: int) -> Triples:
    """Noise-lab triples of a shipped model, shared by every session that asks for the same ones (read-only)."""
    return make_triples(_model, test_digits().images[list(indices)], noise, seed, device())
