"""Real browser: what the drawing canvas refuses (a dot, a scribble over the whole canvas) and says so."""

from __future__ import annotations

import re

import numpy as np
import pytest

from lib.i18n import t

pytestmark = pytest.mark.e2e


def stroke(tab, path: list[tuple[float, float]]) -> None:
    """One mouse stroke through points given as shares of the canvas side."""
    canvas = tab.locator("canvas.upper-canvas").first
    canvas.wait_for(state="visible")
    box = canvas.bounding_box()
    x0, y0, side = box["x"], box["y"], box["width"]
    tab.mouse.move(x0 + path[0][0] * side, y0 + path[0][1] * side)
    tab.mouse.down()
    for (xa, ya), (xb, yb) in zip(path, path[1:]):
        for s in np.linspace(0, 1, 6)[1:]:
            tab.mouse.move(x0 + (xa + (xb - xa) * s) * side, y0 + (ya + (yb - ya) * s) * side)
    tab.mouse.up()


def first_words(key: str, **params) -> str:
    return t(key, "en", **params).split(" — ")[0].split(":")[0].split(" (")[0]  # the share depends on canvas size


def test_a_dot_is_not_a_digit(server, page):
    page.goto(f"{server}/draw")
    page.get_by_text(t("draw.empty", "en")).wait_for()
    stroke(page, [(0.5, 0.5), (0.51, 0.5)])
    page.get_by_text(first_words("draw.problem.too_small", box=0.1)).wait_for(timeout=90_000)
    assert page.get_by_text(t("draw.result", "en"), exact=True).count() == 0  # nothing was cleaned
    assert page.locator("[data-testid='stException']").count() == 0


def test_scribbling_over_the_whole_canvas_is_not_a_digit(server, page):
    page.goto(f"{server}/draw")
    page.get_by_text(t("draw.empty", "en")).wait_for()
    zigzag = [(0.02 + 0.96 * (i % 2), 0.02 + 0.96 * i / 23) for i in range(24)]  # side to side, top to bottom
    stroke(page, zigzag)
    stroke(page, [(y, x) for x, y in zigzag])  # and across
    refusal = re.compile(
        "|".join(re.escape(first_words(k, ink=0.5)) for k in ("draw.problem.scribble", "draw.problem.filled"))
    )
    page.get_by_text(refusal).wait_for(timeout=90_000)
    assert page.get_by_text(t("draw.result", "en"), exact=True).count() == 0
