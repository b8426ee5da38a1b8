"""Phones and tablets in a real browser: drawing with a finger (touch events, not the mouse) on the Draw canvas."""

from __future__ import annotations

import numpy as np
import pytest

from lib.i18n import t

pytestmark = pytest.mark.e2e

DEVICES = {"phone": (390, 844), "tablet": (820, 1180)}

# The Streamlit page scrolls inside stMain, not the document.
SCROLL_TOP = "() => document.querySelector('[data-testid=stMain]').scrollTop"

TOOLBAR = """() => {
    const host = [...document.querySelectorAll('[data-testid=stMain] *')]
        .find(e => e.shadowRoot && e.shadowRoot.querySelector('.dc-root'));
    const root = host.shadowRoot;
    const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
    const buttons = [...root.querySelectorAll('.dc-icon-button')].filter(b => b.getBoundingClientRect().width > 0);
    return {
        opacity: getComputedStyle(root.querySelector('.dc-toolbar')).opacity,
        touchAction: getComputedStyle(root.querySelector('canvas.upper-canvas')).touchAction,
        toolbar: box(root.querySelector('.dc-toolbar-card')),
        buttons: buttons.map(b => ({title: b.title, box: box(b)})),
        intro: box(document.querySelector('[data-testid=stMain] [data-testid=stCaptionContainer]')),
        column: box(host.closest('[data-testid=stColumn]')),
    };
}"""


@pytest.fixture(params=list(DEVICES))
def touch_page(request, browser, tmp_path):
    width, height = DEVICES[request.param]
    context = browser.new_context(
        locale="ru-RU", viewport={"width": width, "height": height}, device_scale_factor=2, has_touch=True,
        is_mobile=True,
    )  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    page.screenshot(path=str(tmp_path / "last.png"))  # kept by pytest for a look after a failure
    context.close()


def touch_stroke(cdp, points: list[tuple[float, float]], steps: int = 6) -> None:
    """One finger down at the first point, moving through the others, then lifted (CDP touch events)."""
    cdp.send(
        "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]}
    )
    for (xa, ya), (xb, yb) in zip(points, points[1:]):
        for s in np.linspace(0, 1, steps + 1)[1:]:
            point = {"x": xa + (xb - xa) * s, "y": ya + (yb - ya) * s}
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_a_finger_draws_a_digit_without_scrolling_and_the_toolbar_works_by_touch(server, touch_page):
    page = touch_page
    width = page.viewport_size["width"]
    page.goto(f"{server}/draw")
    page.get_by_text(t("draw.empty", "ru")).wait_for()
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(state="visible")
    # the canvas is sized from its column once the browser has measured it
    page.wait_for_function(
        """() => {
            const c = document.querySelector('[data-testid=stMain] [class*="st-key-canvas_box"]');
            const host = c && [...c.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('canvas.upper-canvas'));
            if (!host) return false;
            const canvas = host.shadowRoot.querySelector('canvas.upper-canvas').getBoundingClientRect();
            return Math.abs(canvas.width - Math.min(420, c.getBoundingClientRect().width)) < 12;
        }"""
    )
    page.wait_for_function(f"() => ({TOOLBAR})().opacity === '1'")  # pinned by the canvas helper
    box = canvas.bounding_box()
    info = page.evaluate(TOOLBAR)
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, (box, width)  # fits the screen
    assert info["column"][0] - 1 <= box["x"] and box["x"] + box["width"] <= info["column"][2] + 1  # fits its column
    assert box["width"] >= min(420, info["column"][2] - info["column"][0]) - 12  # and fills it, up to 420 px
    assert box["width"] >= 300  # room for a finger on a phone and a tablet
    assert info["touchAction"] == "none"  # the browser leaves finger moves on the canvas to the canvas
    # toolbar: always visible, translated, finger-sized, clear of the intro text and of the canvas
    assert float(info["opacity"]) == 1.0
    titles = [b["title"] for b in info["buttons"]]
    assert t("draw.canvas_undo", "ru") in titles and t("draw.canvas_reset", "ru") in titles
    for button in info["buttons"]:
        left, top, right, bottom = button["box"]
        assert right - left >= 32 and bottom - top >= 32, button
    assert info["toolbar"][1] >= info["intro"][3], info  # below the intro caption
    assert info["toolbar"][3] <= box["y"] + 1, (info["toolbar"], box)  # above the canvas

    cdp = page.context.new_cdp_session(page)
    x0, y0, side = box["x"], box["y"], box["width"]
    seven = [(0.25, 0.2), (0.75, 0.2), (0.68, 0.4), (0.57, 0.6), (0.46, 0.82)]
    before = page.evaluate(SCROLL_TOP)
    touch_stroke(cdp, [(x0 + side * u, y0 + side * v) for u, v in seven])
    page.get_by_text(t("draw.result", "ru"), exact=True).wait_for(timeout=90_000)
    assert page.evaluate(SCROLL_TOP) == before  # drawing did not drag the page along

    # the cleaned tiles appear, every picture loaded, and none sticks out of the screen
    page.wait_for_function(
        """() => {
            const imgs = [...document.querySelectorAll("[data-testid='stMain'] [class*='st-key-tiles_draw'] img")];
            return imgs.length >= 3 && imgs.every(i => i.complete && i.naturalWidth > 0);
        }"""
    )
    rights = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=stMain] img')].map(i => i.getBoundingClientRect().right)"
    )
    assert max(rights) <= width + 1
    assert page.locator("[data-testid='stException']").count() == 0

    # the same stroke beside the canvas does scroll the page: the check above can see scrolling
    beside = x0 + side + 20 if x0 + side + 40 < width else x0 / 2
    touch_stroke(cdp, [(beside, y0 + side * v) for u, v in reversed(seven)])  # finger up: page down
    page.wait_for_function(f"() => ({SCROLL_TOP})() > {before} + 50")

    # the bin clears the canvas with a tap; the page returns to its empty state
    page.wait_for_timeout(1500)  # let the swipe's fling die down
    page.evaluate(
        """(title) => [...document.querySelectorAll('[data-testid=stMain] *')].find(e => e.shadowRoot && e.shadowRoot
            .querySelector('.dc-root')).shadowRoot.querySelector(`[title="${title}"]`).scrollIntoView({block: 'center'})""",
        t("draw.canvas_reset", "ru"),
    )
    page.wait_for_timeout(500)
    reset = next(b for b in page.evaluate(TOOLBAR)["buttons"] if b["title"] == t("draw.canvas_reset", "ru"))
    left, top, right, bottom = reset["box"]
    assert 0 <= top and bottom <= page.viewport_size["height"], reset
    page.touchscreen.tap((left + right) / 2, (top + bottom) / 2)
    page.get_by_text(t("draw.empty", "ru")).wait_for()
