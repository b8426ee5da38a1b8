"""Real browser: streamlit run + Debian chromium driven by Playwright; draw on the canvas, upload files."""

from __future__ import annotations

import pytest
from PIL import Image

from lib.i18n import t
from tests.e2e.browsing import draw_seven

pytestmark = pytest.mark.e2e


def test_drawing_a_digit_shows_the_cleaned_triple(server, page):
    page.goto(f"{server}/draw")
    page.get_by_text(t("draw.empty", "en")).wait_for()
    nav = page.locator("[data-testid='stSidebarNav']")
    assert t("lab.page", "en") in nav.inner_text()  # opened by URL, the app's own navigation is in charge
    draw_seven(page)
    page.get_by_text(t("draw.result", "en"), exact=True).wait_for(timeout=90_000)
    page.get_by_text(t("common.steps.fitted", "en", h=20, w=20).split(":")[0], exact=False).first.wait_for()
    # five preparation steps + original, noisy and three cleaned versions, every picture actually loaded
    page.wait_for_function(
        """() => {
            const imgs = [...document.querySelectorAll("[data-testid='stMain'] img")];
            return imgs.length >= 5 + 3 && imgs.every(i => i.complete && i.naturalWidth > 0);
        }"""
    )
    page.get_by_text("dB · SSIM").nth(1).wait_for()
    assert page.locator("[data-testid='stException']").count() == 0


def test_uploading_a_photo_and_a_broken_file(server, page, tmp_path, test_digits):
    digit = 255 - test_digits.images[0].numpy()
    photo = Image.fromarray(digit).resize((300, 300)).convert("RGB")
    good = tmp_path / "photo_seven.jpg"
    photo.save(good, quality=90)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    page.goto(f"{server}/upload")
    page.locator("input[type='file']").first.set_input_files([str(good), str(broken)])
    page.get_by_text("broken.png:", exact=False).first.wait_for(timeout=90_000)
    page.get_by_text(t("upload.report", "en")).wait_for()
    error = page.locator("[data-testid='stAlertContentError']").first.inner_text()
    assert "broken.png" in error and t("upload.error.not_image", "en") in error
    assert page.get_by_text(t("upload.input", "en"), exact=True).count() >= 1
    page.get_by_role("button", name=t("upload.download_zip", "en")).wait_for()
    assert page.get_by_text(t("upload.no_reference", "en")).count() == 1  # cleaned as it is: no fake 100 dB
    assert page.locator("[data-testid='stException']").count() == 0


def test_home_page_opens_in_russian_for_a_russian_browser(server, browser):
    context = browser.new_context(locale="ru-RU")
    p = context.new_page()
    p.goto(server)
    p.get_by_text(t("lab.page", "ru")).first.wait_for(timeout=60_000)
    assert p.locator("[data-testid='stException']").count() == 0
    context.close()
