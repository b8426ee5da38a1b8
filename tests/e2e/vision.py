"""Screenshots of every page as a student with a colour-vision deficiency sees it (Chromium's own simulation).

    python -m tests.e2e.vision OUT_DIR [--url http://127.0.0.1:8501] [--lang ru] [--kinds deuteranopia,protanopia]

Starts `streamlit run` on a free port unless --url is given, opens every page 1366 px wide (2400 px tall, to see most of it) (the explainer with
its first tab, the lab with error maps and histogram on, the drawing page with a test digit, «Ваши изображения»
with an uploaded photo) and saves one full-page PNG per page and simulation (CDP
`Emulation.setEmulatedVisionDeficiency`: deuteranopia, protanopia, tritanopia, achromatopsia, blurredVision,
reducedContrast). docs/accessibility.md says what was seen in them.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

from deploy.serve import free_port
from lib.data import load_split
from lib.i18n import t
from tests.e2e.browsing import ARGS, CHROMIUM, PAGES, settle
from tests.e2e.server import start_streamlit

KINDS = ("deuteranopia", "protanopia", "tritanopia", "achromatopsia")


def start_server() -> tuple[subprocess.Popen, str]:
    """A streamlit server of this checkout on a free port, once it answers."""
    port = free_port()
    return start_streamlit(port), f"http://127.0.0.1:{port}"


def prepare(page, key: str, lang: str, photo: Path) -> None:
    """Bring a page to the state worth looking at."""
    if key == "lab.page":
        for label in (t("lab.error_maps", lang), t("lab.histogram", lang)):
            page.locator("[data-testid='stSidebar'] label").filter(has_text=label).first.click()
            settle(page)
    elif key == "draw.page":
        page.locator("label").filter(has_text=t("draw.source.test", lang)).click()
        page.get_by_text(t("draw.result", lang), exact=True).wait_for()
    elif key == "upload.page":
        page.locator("input[type='file']").first.set_input_files(str(photo))
        page.get_by_text(t("upload.report", lang), exact=True).wait_for()
    settle(page)


def capture(url: str, out: Path, lang: str, kinds: list[str]) -> list[Path]:
    """One full-page screenshot per page and simulated vision deficiency."""
    out.mkdir(parents=True, exist_ok=True)
    photo = out / "photo.jpg"
    digits = load_split("test")
    Image.fromarray(255 - digits.images[0].numpy()).resize((300, 300)).convert("RGB").save(photo, quality=90)
    saved = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        # a tall window: Streamlit scrolls inside its own container, so a "full page" shot is one window high
        viewport = {"width": 1366, "height": 2400}
        context = browser.new_context(locale="ru-RU" if lang == "ru" else "en-US", viewport=viewport)
        page = context.new_page()
        page.set_default_timeout(120_000)
        cdp = context.new_cdp_session(page)
        page.goto(url)
        for path, key in PAGES:
            if path:
                page.locator(f"[data-testid='stSidebarNav'] a[href$='/{path}']").click()
            page.locator("h1").filter(has_text=t(key, lang)).wait_for()
            settle(page)
            prepare(page, key, lang, photo)
            for kind in kinds:
                cdp.send("Emulation.setEmulatedVisionDeficiency", {"type": kind})
                page.wait_for_timeout(200)
                target = out / f"{lang}_{path or 'lab'}_{kind}.png"
                page.screenshot(path=str(target), full_page=True)
                saved.append(target)
            cdp.send("Emulation.setEmulatedVisionDeficiency", {"type": "none"})
        browser.close()
    photo.unlink()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--url")
    parser.add_argument("--lang", default="ru", choices=("ru", "en"))
    parser.add_argument("--kinds", default="deuteranopia,protanopia,tritanopia,achromatopsia")
    args = parser.parse_args()
    proc, url = (None, args.url) if args.url else start_server()
    try:
        for path in capture(url, args.out, args.lang, args.kinds.split(",")):
            print(path)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
