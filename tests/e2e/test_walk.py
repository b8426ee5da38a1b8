"""Real browser at 1024×768: every page in Russian and English; no English word may be left in the Russian UI.

One server, one browser, one tab per language; the walk follows the app's own navigation (one session per
language, so settings made on one page are still there on the next), draws a digit and uploads a photo so
those pages show their results, opens every tab and expander, and reads the text a student sees. Formulas (KaTeX) are left out: their TeX source is not shown text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from lib.i18n import t
from tests.e2e.browsing import PAGES, draw_seven, settle

pytestmark = pytest.mark.e2e

# Latin words that belong in a Russian UI: names of metrics, data sets, layers, libraries, file formats and
# devices, and the letters of formulas (k, s, p, μ's partner D...). Anything else is an untranslated string.
ALLOWED = {
    "PSNR", "SSIM", "MSE", "MNIST", "BM3D", "ReLU", "BatchNorm", "Adam", "PyTorch", "torch", "nn", "functional",
    "conv2d", "Sigmoid", "CPU", "CUDA", "MPS", "Apple", "RGB", "SVD", "EXIF", "PNG", "JPEG", "JPG", "WebP", "BMP",
    "GIF", "ZIP", "CSV", "pt", "KOst", "python", "lib", "train", "compare", "py", "convolution", "streamlit",
    "run", "streamlit_app", "weights", "table1_A", "table1_B", "linear_B", "U-Net", "Conv2d", "ConvTranspose2d",
    "Linear", "Flatten", "Unflatten", "Dropout", "Sequential", "DejaVu", "WEBP", "PT", "jpg", "lr", "layer1", "layer2",
    "layer01", "layer02", "PDF", "DOCX", "Word", "BatchNorm2d", "op", "QR",
}  # fmt: skip
# Texts drawn by Streamlit's own components, which offer no way to translate them (docs/app-behaviour.md, "Settings and languages").
COMPONENT_TEXT = ["Skip to main content", "Drag and drop files here", "Drag and drop file here", "Browse files",
                  "Upload", "Limit", "per file", "MB", "add icon"]  # fmt: skip
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")
# Not prose: formulas (their TeX source), icon glyphs (icon-font ligatures such as "science"), code spans
# (commands and file names such as `python -m lib compare`, which a student types as they are) and the
# uploader's file chips (the student's own file name, and its size as Streamlit writes it: "6.7KB").
NOT_TEXT = (
    ".katex, .katex-display, .katex-mathml, [data-testid='stIconMaterial'], [data-testid='stExpanderIcon'], code,"
    " [data-testid='stFileChip']"
    " { display: none !important; }"
)


def latin_words(text: str) -> set[str]:
    """Latin words of two or more letters outside the allow-list (single letters are formula variables)."""
    for phrase in COMPONENT_TEXT:
        text = text.replace(phrase, " ")
    words = set()
    for word in LATIN_WORD.findall(text):
        parts = [w for w in re.split(r"[_\-]", word) if w] if word not in ALLOWED else []
        if word in ALLOWED or all(p in ALLOWED or len(p) == 1 or p.isdigit() for p in parts):
            continue
        words.add(word)
    return words


def shown_text(page) -> str:
    """Everything the student can read now: open every tab and expander, then read the page."""
    for expander in page.locator("[data-testid='stExpander'] summary").all():
        if expander.is_visible():
            expander.click()
    settle(page)
    texts = [page.title(), page.locator("body").inner_text(), chart_text(page)]
    tabs = page.locator("[data-baseweb='tab-list'] [role='tab']")
    for i in range(tabs.count()):
        tabs.nth(i).click()
        settle(page)
        texts += [page.locator("[data-testid='stMain']").inner_text(), chart_text(page)]
    return "\n".join(texts)


def chart_text(page) -> str:
    """Tick labels, titles and legends of the visible charts (SVG text, which innerText leaves out)."""
    return " ".join(
        page.evaluate("() => [...document.querySelectorAll('svg text')].filter(t => t.getBBox().width > 0)"
                      ".map(t => t.textContent)")
    )  # fmt: skip


def use_the_page(page, key: str, lang: str, photo: Path) -> None:
    """Make the pages that start empty show their results: a drawing, an uploaded photo."""
    if key == "draw.page":
        draw_seven(page)
        page.get_by_text(t("draw.result", lang), exact=True).wait_for()
    elif key == "upload.page":
        page.locator("input[type='file']").first.set_input_files(str(photo))
        page.get_by_text(t("upload.report", lang), exact=True).wait_for()


@pytest.fixture(scope="module", params=["ru", "en"])
def walk(request, server, browser, photo):
    """Visit every page once in one language, then the lab again: shown text per page, exceptions, lab sliders."""
    lang = request.param
    context = browser.new_context(locale="ru-RU" if lang == "ru" else "en-US", viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(server)
    seen, errors = {}, []
    try:
        for path, key in PAGES:
            if path:
                page.locator(f"[data-testid='stSidebarNav'] a[href$='/{path}']").click()
            page.locator("h1").filter(has_text=t(key, lang)).wait_for()
            page.add_style_tag(content=NOT_TEXT)
            settle(page)
            use_the_page(page, key, lang, photo)
            settle(page)
            seen[key] = shown_text(page)
            errors += [e.inner_text() for e in page.locator("[data-testid='stException']").all()]
        page.locator("[data-testid='stSidebarNav'] a").first.click()  # back to the noise lab, same session
        page.locator("h1").filter(has_text=t("lab.page", lang)).wait_for()
        settle(page)
        thumbs = page.locator("[data-testid='stSidebar'] [data-testid='stSliderThumbValue']").all_inner_texts()
    finally:
        context.close()
    return lang, seen, errors, thumbs


def test_every_page_opens_without_errors_in_both_languages(walk):
    lang, seen, errors, _ = walk
    assert not errors, errors
    assert set(seen) == {key for _, key in PAGES}
    for key, text in seen.items():
        assert t(key, lang) in text


def test_no_english_left_in_the_russian_ui(walk):
    lang, seen, _, _ = walk
    if lang != "ru":
        pytest.skip("the English UI may use Latin words")
    left = {key: sorted(latin_words(text)) for key, text in seen.items() if latin_words(text)}
    if left:
        pytest.fail("English in the Russian UI: " + "; ".join(f"{k}: {', '.join(w)}" for k, w in left.items()))


def test_russian_numbers_use_russian_separators(walk):
    lang, seen, _, _ = walk
    if lang != "ru":
        pytest.skip("English numbers use a decimal point")
    # layer names of the model ("layer1.0", PyTorch's own) are names, not numbers
    points = {
        key: [w for w in re.findall(r"\S*\d\.\d\S*", text) if not w.startswith("layer")][:8]
        for key, text in seen.items()
    }
    if any(points.values()):
        pytest.fail("decimal points in the Russian UI: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in points.items()))


def test_an_edited_explainer_matrix_survives_a_page_switch(server, browser):
    context = browser.new_context(locale="en-US", viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(f"{server}/convolution")
        page.locator("h1").filter(has_text=t("conv.page", "en")).wait_for()
        page.locator("[role='tab']").nth(1).click()
        worked = page.locator("[data-testid='stMain'] [data-testid='stCode']").first
        worked.wait_for()
        settle(page)
        assert worked.inner_text().startswith("(2)·")  # the textbook's input, cell (1, 1)
        edited = """() => document.querySelector("[data-testid='stMain'] [data-testid='stCode']")?.innerText.startsWith("(9)·")"""
        grid = page.locator("[data-testid='stDataFrame']").first
        grid.locator("table tr").nth(1).wait_for(state="attached")  # the grid has drawn its rows
        for _ in range(3):  # the grid draws on a canvas: retry if the click came before it was ready
            # Select a cell, then walk to the first one with the keys: a click's pixel row can shift while
            # the page is still laying out, the keys do not.
            grid.click(position={"x": 20, "y": 35 + 17})
            for _ in range(5):
                page.keyboard.press("ArrowUp")
                page.keyboard.press("ArrowLeft")
            page.keyboard.type("9")  # typing on a selected cell opens its editor with that text
            page.keyboard.press("Enter")
            try:
                page.wait_for_function(edited, timeout=30_000)
                break
            except PlaywrightTimeout:
                page.keyboard.press("Escape")
        page.wait_for_function(edited)
        for path, key in (("inside", "inside.page"), ("convolution", "conv.page")):
            page.locator(f"[data-testid='stSidebarNav'] a[href$='/{path}']").click()
            page.locator("h1").filter(has_text=t(key, "en")).wait_for()
        page.locator("[role='tab']").nth(1).click()
        settle(page)
        assert page.locator("[data-testid='stMain'] [data-testid='stCode']").first.inner_text().startswith("(9)·")
        rows = page.locator("[data-testid='stDataFrame']").first.locator("table tr")
        assert "9" in rows.nth(1).inner_text().split()[0]  # and the grid shows the edited value
    finally:
        context.close()


def test_back_on_the_lab_its_sliders_show_the_values_in_use(walk):
    """After visiting every page the lab's sliders show Group B (μ −20, D 600), s = 1 and six examples."""
    _, _, _, thumbs = walk
    numbers = [float(v.replace("−", "-").replace(",", ".").replace("\u202f", "").replace("\xa0", "")) for v in thumbs]
    assert numbers == [-20.0, 600.0, 1.0, 6.0]


def test_big_numbers_are_grouped_the_language_s_way(walk):
    """Table 1's parameter count: "40 385" (narrow no-break space) in Russian, "40,385" in English."""
    lang, seen, _, _ = walk
    total = t("inside.total_params", lang, total=0).removesuffix("0")
    group = "\u202f" if lang == "ru" else ","
    assert re.search(re.escape(total) + r"\d{1,3}(" + re.escape(group) + r"\d{3})+\b", seen["inside.page"])


def test_no_russian_left_in_the_english_ui(walk):
    lang, seen, _, _ = walk
    if lang != "en":
        pytest.skip("the Russian UI is checked for English")
    left = {key: sorted(set(re.findall(r"[А-Яа-яЁё]+", text)) - {"Русский"}) for key, text in seen.items()}
    left = {key: words for key, words in left.items() if words}
    if left:
        pytest.fail("Russian in the English UI: " + "; ".join(f"{k}: {', '.join(w)}" for k, w in left.items()))
