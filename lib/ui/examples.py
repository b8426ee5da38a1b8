"""The Compare page's example row, computed once per server for the same digit, noise and models."""

from __future__ import annotations

import numpy as np
import streamlit as st
from torch import nn

from lib import baselines
from lib.inference import cleaned
from lib.noise import add_noise, make_generator, preset
from lib.ui import cache


@st.cache_resource(show_spinner=False, max_entries=128)
def example_row(
    group: str, kind: str, index: int, model_keys: tuple[str, ...], _models: tuple[nn.Module, ...]
) -> list[np.ndarray]:
    """Test digit `index`: the original, its noisy copy (seeded by the index), every model's and every classical
    filter's output, each (28, 28) in [0, 1]. Shared by every session that asks for the same row, so read-only.
    """
    clean = cache.test_digits().images[index : index + 1].float()  # (1, 28, 28)
    noisy = (add_noise(clean, preset(group).with_kind(kind), make_generator(index)) / 255).numpy()[0]  # (28, 28)
    images = [clean[0].numpy() / 255, noisy]
    images += [cleaned(model, noisy, cache.device()) for model in _models]
    images += [baselines.apply(name, noisy) for name in baselines.BASELINES]
    for image in images:
        image.flags.writeable = False
    return images
