"""Real browser, Russian UI at 1366×768: the model chosen once stays chosen on every page, Draw included."""

from __future__ import annotations

import pytest

from lib.i18n import t

pytestmark = pytest.mark.e2e

PAGES = [
    ("convolution", "conv.page"), ("train", "train.page"), ("inside", "inside.page"), ("compare", "compare.page"),
    ("upload", "upload.page"), ("", "lab.page"),
]  # fmt: skip

SETTLED = """() => {
    const app = document.querySelector('[data-testid=stApp]');
    const main = document.querySelector('[data-testid=stMain]');
    if (!app || !main || !main.querySelector('h1')) return false;
    if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    return !document.querySelector('[data-stale=true]');
}"""


def open_page(page, path: str, key: str) -> None:
    """Follow the app's own navigation (same session) and wait for the page to finish its run."""
    link = page.locator("[data-testid='stSidebarNav'] a")
    (link.first if not path else page.locator(f"[data-testid='stSidebarNav'] a[href$='/{path}']")).click()
    page.locator("h1").filter(has_text=t(key, "ru")).wait_for()
    page.wait_for_timeout(500)
    page.wait_for_function(SETTLED, timeout=120_000)


def picker_text(page) -> str:
    """What the sidebar's model picker shows (the second select box: the first is the language)."""
    box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").nth(1)
    field = box.locator("input")
    return box.inner_text() + " " + (field.first.input_value() if field.count() else "")


def test_the_chosen_model_stays_chosen_on_every_page_after_draw(server, browser):
    context = browser.new_context(locale="ru-RU", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(90_000)
    chosen = t("model.short.table1", "ru") + " · " + t("noise.group.short.A", "ru")
    try:
        page.goto(server)
        page.locator("h1").filter(has_text=t("lab.page", "ru")).wait_for()
        page.wait_for_function(SETTLED, timeout=120_000)
        page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").nth(1).click()
        page.get_by_role("option", name=chosen, exact=True).click()
        page.wait_for_timeout(500)
        page.wait_for_function(SETTLED, timeout=120_000)
        assert chosen in picker_text(page)
        open_page(page, "draw", "draw.page")
        assert chosen in picker_text(page)
        seen = {}
        for path, key in PAGES:
            open_page(page, path, key)
            seen[key] = picker_text(page)
        wrong = {key: text for key, text in seen.items() if chosen not in text}
        assert not wrong, f"the picker forgot {chosen!r}: {wrong}"
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        context.close()


def test_training_progress_shows_next_to_start_at_1366x768(server, browser):
    context = browser.new_context(locale="ru-RU", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(f"{server}/train")
        page.locator("h1").filter(has_text=t("train.page", "ru")).wait_for()
        page.wait_for_function(SETTLED, timeout=120_000)
        start = page.get_by_role("button", name=t("train.start", "ru"), exact=True)
        start.scroll_into_view_if_needed()
        start.click()
        bar = page.locator("[data-testid='stProgress']").first
        bar.wait_for(state="visible")
        box = bar.bounding_box()
        assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 768, box  # on screen, no scrolling
        page.get_by_role("button", name=t("train.stop", "ru"), exact=True).click()
    finally:
        context.close()
