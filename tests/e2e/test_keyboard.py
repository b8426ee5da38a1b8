"""Keyboard only, in a real browser: the noise lab, a small training and the hand-in, without the mouse.

The test presses Tab, arrows, Home/End, Enter and types digits, as a student without a mouse does: it moves the
noise-variance slider in the lab, goes to the Train page through the navigation, sets one epoch on 500 digits,
starts the training and downloads the weights when it has finished, and on «Ваши изображения» opens the file
chooser, uploads a photo and downloads the report sheet. At every stop it checks that the focus is visible (a
solid outline of at least 2 px on the element or on the control it belongs to).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from lib.i18n import t
from tests.e2e.browsing import settle

pytestmark = pytest.mark.e2e
LANG = "ru"

# The focused element's name (its aria-label, its <label>, its text) and whether a focus ring is drawn on it or
# on the control around it (radios, toggles and sliders draw their own picture over a hidden input).
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return {name: "", ring: false};
  const label = e.getAttribute("aria-label") || (e.labels && e.labels[0] && e.labels[0].innerText) || "";
  const owner = e.closest('[data-testid="stSlider"]') || e.closest("label") || e;
  const ring = [e, owner].some((el) => {
    const s = getComputedStyle(el);
    return s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
  });
  return {name: (label || e.innerText || "").trim(), ring};
}"""


def tab_to(page, name: str, most: int = 120, backwards: bool = False) -> None:
    """Press Tab until the element named `name` (exactly: not its help button) has the focus; its ring must show."""
    for _ in range(most):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        focused = page.evaluate(FOCUSED)
        if focused["name"].split("\n")[-1].strip() == name:  # a nav link's text starts with its icon's name
            assert focused["ring"], f"no visible focus on {name!r}"
            return
    raise AssertionError(f"{name!r} is not reachable with the Tab key")


def go_to(page, page_key: str) -> None:
    """Open a page of the app by its navigation link, with the keyboard."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    tab_to(page, t(page_key, LANG))
    page.keyboard.press("Enter")
    page.locator("h1").filter(has_text=t(page_key, LANG)).wait_for()
    settle(page)


def open_file_chooser(page):
    """Tab to the file uploader's own button (Streamlit does not translate it) and open the chooser with Enter.

    A page still settling can redraw the uploader between the Tab and the Enter, and the focus leaves with the old
    button; then the student tabs to it again, and so does this (at most three times).
    """
    for _ in range(3):
        page.evaluate("document.activeElement && document.activeElement.blur()")
        tab_to(page, "Upload")
        try:
            with page.expect_file_chooser(timeout=20_000) as chooser:
                page.keyboard.press("Enter")
            return chooser.value
        except PlaywrightTimeout:
            settle(page)
    raise AssertionError("Enter on the uploader's button never opened the file chooser")


def alts(page) -> list[str]:
    return page.evaluate("[...document.querySelectorAll(\"[data-testid='stMain'] img\")].map(i => i.alt)")


def test_lab_training_and_hand_in_without_a_mouse(server, browser, photo):
    context = browser.new_context(locale="ru-RU", viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        # Noise lab: the variance slider to its end with the keyboard; the pictures follow
        page.goto(server)
        page.locator("h1").filter(has_text=t("lab.page", LANG)).wait_for()
        page.wait_for_function("document.querySelectorAll(\"[data-testid='stMain'] img\").length >= 18")
        settle(page)
        assert any("D = 600" in a for a in alts(page))
        tab_to(page, t("noise.var", LANG))
        page.keyboard.press("End")
        page.wait_for_function("[...document.querySelectorAll(\"[data-testid='stMain'] img\")]"
                               ".some(i => i.alt.includes('D = 1000'))")  # fmt: skip
        settle(page)
        assert not any("D = 600" in a for a in alts(page))

        # Train: one epoch on 500 digits, started with Enter; the weights downloaded with Enter
        go_to(page, "train.page")
        tab_to(page, t("train.epochs", LANG))
        page.keyboard.press("Control+A")
        page.keyboard.type("1")
        page.keyboard.press("Enter")
        settle(page)
        tab_to(page, t("train.subset", LANG))
        page.keyboard.press("Home")
        page.wait_for_function("document.activeElement.value === '500'")
        settle(page)
        tab_to(page, t("train.start", LANG))
        page.keyboard.press("Enter")
        page.get_by_role("button", name=t("train.download_weights", LANG)).wait_for(timeout=600_000)
        finished = page.locator("[data-testid='stAlertContentSuccess']").first.inner_text()
        assert "1 эпоха" in finished and "500 изображений" in finished, finished
        page.evaluate("document.activeElement && document.activeElement.blur()")
        tab_to(page, t("train.download_weights", LANG))
        with page.expect_download() as download:
            page.keyboard.press("Enter")
        assert download.value.suggested_filename.endswith(".pt")

        # Your images: the file chooser opened with Enter, the report sheet downloaded with Enter
        go_to(page, "upload.page")
        open_file_chooser(page).set_files(str(photo))
        page.get_by_text(t("upload.report", LANG), exact=True).wait_for()
        settle(page)
        tab_to(page, t("upload.download_sheet", LANG))
        with page.expect_download() as download:
            page.keyboard.press("Enter")
        assert download.value.suggested_filename.endswith(".png")
        assert Path(download.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        page.screenshot(path=str(Path(photo).parent / "keyboard_last.png"), full_page=True)
        context.close()
