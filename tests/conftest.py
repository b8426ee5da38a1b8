"""Shared fixtures: real MNIST splits loaded once per test session."""

from __future__ import annotations

import pytest
import torch

from lib.data import load_split


@pytest.fixture(scope="session")
def train_digits():
    return load_split("train")


@pytest.fixture(scope="session")
def test_digits():
    return load_split("test")


@pytest.fixture(autouse=True)
def _few_threads():
    torch.set_num_threads(2)
