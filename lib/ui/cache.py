"""Cached, read-only resources shared by all sessions (never mutate what these return)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st
import torch
from torch import nn

from lib import checkpoint as ckpt_io
from lib.data import PROJECT_ROOT, Digits, load_split
from lib.device import pick_device
from lib.jobs import TrainingSlots

WEIGHTS_DIR = PROJECT_ROOT / "weights"
MAX_PARALLEL_TRAININGS = 2


@dataclass(frozen=True)
class LoadedModel:
    """A checkpoint and its model, ready for inference (eval mode)."""

    key: str
    checkpoint: ckpt_io.Checkpoint
    model: nn.Module


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
    """The compute device of this server."""
    return pick_device("auto")


def shipped_weights() -> list[Path]:
    """The checkpoints shipped in weights/, sorted by name."""
    return sorted(WEIGHTS_DIR.glob("*.pt"))


@st.cache_resource(show_spinner=False)
def shipped_model(path_str: str, mtime: float) -> LoadedModel:
    """Load one shipped checkpoint (mtime in the key so a replaced file is reloaded)."""
    path = Path(path_str)
    loaded = ckpt_io.load(path)
    return LoadedModel(f"shipped:{path.stem}", loaded, loaded.build(device()))


@st.cache_resource(show_spinner=False)
def training_slots() -> TrainingSlots:
    """The one slot pool that limits concurrent trainings on this server."""
    return TrainingSlots(MAX_PARALLEL_TRAININGS)
