"""Shared fixtures: real MNIST splits loaded once per test session."""

from __future__ import annotations

import os
import tempfile

import pytest
import torch

from lib.data import load_split

# The app keeps students' work in a database; tests (and the servers they start) use a throwaway one, never
# a real class's data.
os.environ["CLASSROOM_DATA_DIR"] = tempfile.mkdtemp(prefix="classroom-test-")
os.environ.pop("CLASSROOM_DB_URL", None)


@pytest.fixture(scope="session")
def train_digits():
    return load_split("train")


@pytest.fixture(scope="session")
def test_digits():
    return load_split("test")


@pytest.fixture(autouse=True)
def _few_threads():
    torch.set_num_threads(2)
