"""Shared fixtures (real MNIST splits loaded once per test session) and the markers applied by location."""

from __future__ import annotations

import os
import tempfile
from functools import cache
from pathlib import Path

import pytest
import torch

from lib.data import load_split

TESTS_DIR = Path(__file__).resolve().parent
# Modules that start several processes or train for long: left out of the inner loop.
SLOW_MODULES = {"test_distributed.py", "test_deploy.py"}
# Single tests that train the U-Net or run a whole experiment (tens of seconds each on two cores).
SLOW_TESTS = (
    "test_models.py::test_a_few_training_steps_reduce_the_loss[bfunet]",
    "test_bfunet.py::test_trained_tiny_unet_hands_clean_digits_back_almost_unchanged",
    "test_optim.py::test_adam_matches_torch_adam[False-bfunet]",
    "test_optim.py::test_adam_matches_torch_adam[True-bfunet]",
    "test_evaluate_outside.py::test_section5_command_writes_rows_and_findings",
)


@cache
def _uses_apptest(path: Path) -> bool:
    """Whether a test module drives pages through Streamlit's in-process AppTest (itself or via tests/apptest.py)."""
    text = path.read_text(encoding="utf-8")
    return "AppTest" in text or "tests.apptest" in text


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers the inner loop filters on."""
    for name, text in (
        ("browser", "real Chromium against a real streamlit run (tests/e2e)"),
        ("e2e", "alias of browser, kept for old command lines"),
        ("apptest", "pages driven by Streamlit's AppTest"),
        ("load", "the load test against a real server"),
        ("slow", "several processes or long training runs"),
    ):
        config.addinivalue_line("markers", f"{name}: {text}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test by where it lives, so `-m "not (browser or load or slow)"` is the inner loop."""
    for item in items:
        path = Path(str(item.path))
        if "e2e" in path.relative_to(TESTS_DIR).parts:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.e2e)
        elif path.name == "test_load.py":
            item.add_marker(pytest.mark.load)
        elif path.name in SLOW_MODULES or item.nodeid.endswith(SLOW_TESTS):
            item.add_marker(pytest.mark.slow)
        if path.suffix == ".py" and _uses_apptest(path):
            item.add_marker(pytest.mark.apptest)


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
