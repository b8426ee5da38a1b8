"""Browser-test fixtures: one Chromium per module, one `streamlit run` shared by the modules that need no
server of their own, a fresh page per test, and a student's photo.

A module that needs its own server (its own data folder, environment or restarts) defines its own `server`
fixture, which takes the place of this one there. Every page opens in a new browser context, so it starts a
new session and a new workspace: tests sharing the server never see each other's work.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from deploy.serve import free_port
from tests.e2e.browsing import ARGS, CHROMIUM
from tests.e2e.server import start_streamlit, stop_streamlit


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright; one per module, because Playwright's sync API keeps an
    event loop running in the main thread while it is open, and later tests call asyncio.run()."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError("chromium is required for the browser tests (.ci/run installs it)")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The app on a free loopback port, its log in a temporary folder; its URL."""
    port = free_port()
    proc = start_streamlit(port, tmp_path_factory.mktemp("server") / "streamlit.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_streamlit(proc)


@pytest.fixture
def page(browser, tmp_path):
    """A new tab in English at 1400×1000 (a new session); its last state is kept as a screenshot."""
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    tab.screenshot(path=str(tmp_path / "last.png"), full_page=True)
    context.close()


@pytest.fixture(scope="module")
def photo(tmp_path_factory, test_digits) -> Path:
    """A photo-like JPEG of a test digit: dark ink on light paper, larger than MNIST."""
    digit = 255 - test_digits.images[0].numpy()
    path = tmp_path_factory.mktemp("photo") / "7.jpg"  # a name in neither alphabet: file names are the student's
    Image.fromarray(digit).resize((300, 300)).convert("RGB").save(path, quality=90)
    return path
