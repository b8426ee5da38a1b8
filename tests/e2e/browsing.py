"""What the browser tests share: Debian's Chromium and its flags, the app's pages, and a student's moves."""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-quic", "--no-first-run", "--disable-sync"]  # fmt: skip

# (url path, the page title's key), in the navigation's order
PAGES = [
    ("", "lab.page"), ("convolution", "conv.page"), ("train", "train.page"), ("inside", "inside.page"),
    ("compare", "compare.page"), ("draw", "draw.page"), ("upload", "upload.page"), ("teacher", "teacher.page"),
]  # fmt: skip


def settle(page) -> None:
    """Wait until the script run is over and every picture has loaded."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        """() => !document.querySelector("[data-testid='stStatusWidget']")
              && [...document.querySelectorAll("[data-testid='stMain'] img")].every(i => i.complete)""",
        timeout=120_000,
    )


def draw_seven(page) -> None:
    """Draw a 7 across the canvas, whatever size the page gave it."""
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(state="visible")
    box = canvas.bounding_box()
    scale = box["width"] / 280
    path = [(70, 60), (210, 60), (190, 110), (160, 170), (130, 230)]
    page.mouse.move(box["x"] + path[0][0] * scale, box["y"] + path[0][1] * scale)
    page.mouse.down()
    for (xa, ya), (xb, yb) in zip(path, path[1:]):
        for step in range(1, 8):
            page.mouse.move(
                box["x"] + (xa + (xb - xa) * step / 7) * scale, box["y"] + (ya + (yb - ya) * step / 7) * scale
            )
    page.mouse.up()


def no_exception(page) -> None:
    """No traceback box on the page."""
    assert page.locator("[data-testid='stException']").count() == 0


WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def audit(page, key: str, state: str = "") -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now, each with the page and state it was found in."""
    from axe_playwright_python.sync_playwright import Axe

    settle(page)
    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    return [
        {"page": key, "state": state, "rule": v["id"], "impact": v["impact"], "count": len(v["nodes"]),
         "first": v["nodes"][0]["target"], "why": v["nodes"][0].get("failureSummary", "")[:300]}
        for v in result.response["violations"]
    ]  # fmt: skip
