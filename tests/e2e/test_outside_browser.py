"""Real browser: a drawn digit is cleaned by the textbook model and the modern one side by side, then joins
"my digits" on the Compare page's section 5."""

from __future__ import annotations

import pytest

from lib.i18n import t
from tests.e2e.browsing import draw_seven

pytestmark = pytest.mark.e2e


def picker_labels(lang: str) -> dict[str, str]:
    """The model picker's names of the shipped models, as the app makes them."""
    from lib.ui import cache
    from lib.ui.frame import short_model_labels

    shipped = [cache.shipped_model(str(path), path.stat().st_mtime) for path in cache.shipped_weights()]
    return short_model_labels({loaded.key: loaded for loaded in shipped}, lang)


def test_drawing_is_cleaned_by_both_models_and_joins_my_digits(server, page):
    page.goto(f"{server}/draw")
    page.get_by_text(t("draw.empty", "en")).wait_for()
    draw_seven(page)
    page.get_by_text(t("draw.result", "en"), exact=True).wait_for(timeout=90_000)
    # Columns carry the picker's names: the chosen Table 1 model first, the U-Net right beside it.
    labels = picker_labels("en")
    textbook, modern = labels["shipped:table1_B"], labels["shipped:bfunet"]
    page.get_by_text(modern, exact=True).first.wait_for()
    titles = [s.strip() for s in page.locator("[data-testid='stMain'] strong").all_inner_texts()]
    assert titles.index(modern) == titles.index(textbook) + 1  # the modern model right beside the textbook's

    # The app's own navigation keeps the session: the drawing is among "my digits" on Compare.
    page.locator("[data-testid='stSidebarNav']").get_by_text(t("compare.page", "en"), exact=True).click()
    page.get_by_text(t("outside.mine", "en"), exact=True).wait_for(timeout=90_000)
    caption = t("draw.item_name", "en", n=1)  # the first drawing, numbered as on the Draw page
    page.locator("[data-testid='stMain']").get_by_text(caption, exact=True).first.wait_for(timeout=60_000)
    assert page.get_by_text(t("outside.mine_empty", "en")).count() == 0
    assert page.locator("[data-testid='stException']").count() == 0
