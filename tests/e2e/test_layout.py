"""Every page at phone, tablet, 1024×768 and projector sizes in a real browser: nothing sticks out or is cut.

The checks, per page and size (Russian UI, which has the longer words):
* the document and Streamlit's scrolling main area are no wider than the viewport;
* no visible element crosses the viewport's left or right edge. Allowed: elements inside a formula
  (`.katex-display`), a data table or a code block — these scroll sideways inside their own box on
  purpose, because a formula, a table row or a line of code cannot wrap;
* no chart title is wider than its chart (Plotly does not wrap titles, it cuts them), and no text ends in
  "…" because its box is too narrow (metric labels);
* no word of the page's text is split over two lines (breaks at spaces, hyphens and dashes are fine);
* every tab of a tab bar lies inside the bar and the viewport;
* narrow screens (phone, tablet in portrait) start with the sidebar collapsed and show the settings
  hint; wider ones keep the sidebar open and hide the hint.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from lib.i18n import t

pytestmark = pytest.mark.e2e

# name: (width, height, touch screen)
SIZES = {
    "phone_390x844": (390, 844, True),
    "tablet_820x1180": (820, 1180, True),
    "tablet_1180x820": (1180, 820, True),
    "laptop_1024x768": (1024, 768, False),
    "projector_1920x1080": (1920, 1080, False),
}
NARROW = 1000  # below this the app starts with the sidebar collapsed
PAGES = ["", "convolution", "train", "inside", "compare", "draw", "upload"]

# True once the script run is over and every picture has loaded (the Draw page reruns once it has measured).
SETTLED = """() => {
    const app = document.querySelector('[data-testid=stApp]');
    const main = document.querySelector('[data-testid=stMain]');
    if (!app || !main || !main.querySelector('h1')) return false;
    if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (document.querySelector('[data-stale=true]')) return false;
    return [...main.querySelectorAll('img')].every(i => i.complete);
}"""

PROBLEMS = """() => {
    const problems = [];
    const vw = document.documentElement.clientWidth;
    const main = document.querySelector('[data-testid=stMain]');
    const name = (e) => (e.getAttribute('data-testid') || e.tagName.toLowerCase())
        + ' "' + (e.innerText || e.textContent || '').trim().slice(0, 40) + '"';
    if (document.documentElement.scrollWidth > vw) problems.push(`document ${document.documentElement.scrollWidth} px wide`);
    if (main.scrollWidth > main.clientWidth) problems.push(`main area ${main.scrollWidth} px wide, shows ${main.clientWidth}`);
    const sidebar = document.querySelector('[data-testid=stSidebar]');
    const sidebarOpen = sidebar && sidebar.getAttribute('data-collapsed') === 'false';
    const scrollsOnPurpose = '.katex-display, [data-testid=stDataFrame], [data-testid=stTable], [data-testid=stCode], pre';
    // an element cut off by a box inside the viewport (a visually hidden input, content of a box that
    // scrolls) does not stick out of the screen; scrolling boxes are checked on their own below
    const clippedInside = (el, vw) => {
        for (let a = el; a && a !== document.body; a = a.parentElement) {
            const st = getComputedStyle(a);
            if (st.overflowX === 'visible' && st.clip === 'auto' && st.clipPath === 'none') continue;
            const r = a.getBoundingClientRect();
            if (r.left >= -1 && r.right <= vw + 1) return true;
        }
        return false;
    };
    for (const box of main.querySelectorAll('*')) {
        const st = getComputedStyle(box);
        if (!['auto', 'scroll'].includes(st.overflowX) || box.scrollWidth <= box.clientWidth + 1) continue;
        if (box.closest(scrollsOnPurpose) || !box.getClientRects().length) continue;
        problems.push(`${name(box)} scrolls sideways (${box.scrollWidth} px in ${box.clientWidth})`);
    }
    const seen = new Set();
    for (const el of document.querySelectorAll('body *')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        if (r.right <= 0 || r.left >= vw) continue;  // wholly off screen: hidden on purpose (a closed panel)
        if (r.left >= -1 && r.right <= vw + 1) continue;
        if (!sidebarOpen && sidebar && sidebar.contains(el)) continue;
        if (el.closest(scrollsOnPurpose) || el.closest('.katex-mathml')) continue;
        if (clippedInside(el, vw)) continue;
        const style = getComputedStyle(el);
        if (style.visibility === 'hidden' || style.opacity === '0') continue;
        const label = name(el);
        if (seen.has(label)) continue;
        seen.add(label);
        problems.push(`${label} spans ${Math.round(r.left)}…${Math.round(r.right)} px of ${vw}`);
    }
    for (const el of main.querySelectorAll('*')) {
        if (el.tagName === 'INPUT' || !el.getClientRects().length) continue;
        if (getComputedStyle(el).textOverflow !== 'ellipsis' || el.scrollWidth <= el.clientWidth + 1) continue;
        problems.push(`${name(el)} is cut short with "…"`);
    }
    for (const title of main.querySelectorAll('.main-svg .gtitle')) {
        const svg = title.closest('svg').getBoundingClientRect();
        const r = title.getBoundingClientRect();
        if (r.left < svg.left - 1 || r.right > svg.right + 1) problems.push(`chart title "${title.textContent}" is cut`);
    }
    const skip = scrollsOnPurpose + ', .katex, svg, [data-testid=stTab], textarea, input';
    const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const parent = node.parentElement;
        if (!parent || parent.closest(skip) || !parent.getClientRects().length) continue;
        for (const m of node.data.matchAll(/[^\\s\\-‐–—…\\/·=+,;:]{2,}/g)) {
            range.setStart(node, m.index);
            range.setEnd(node, m.index + m[0].length);
            const tops = new Set([...range.getClientRects()].filter(q => q.width > 0).map(q => Math.round(q.top)));
            if (tops.size > 1) problems.push(`word "${m[0]}" is broken over two lines`);
        }
    }
    for (const bar of main.querySelectorAll('[role=tablist]')) {
        const b = bar.getBoundingClientRect();
        for (const tab of bar.querySelectorAll('[role=tab]')) {
            const r = tab.getBoundingClientRect();
            if (r.left < Math.max(0, b.left) - 1 || r.right > Math.min(vw, b.right) + 1 || r.bottom > b.bottom + 1)
                problems.push(`tab "${tab.innerText}" is out of view`);
        }
    }
    return problems;
}"""

STYLED = "() => [...document.querySelectorAll('style')].some(s => s.textContent.includes('mobile_settings_hint'))"

SIDEBAR_STATE = """() => ({
    collapsed: document.querySelector('[data-testid=stSidebar]').getAttribute('data-collapsed') === 'true',
    hint: !!document.querySelector('.st-key-mobile_settings_hint')?.getClientRects().length,
})"""


@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_fits_the_screen(server, browser, size, tmp_path):
    width, height, touch = SIZES[size]
    context = browser.new_context(
        locale="ru-RU", viewport={"width": width, "height": height}, has_touch=touch, is_mobile=touch
    )
    page = context.new_page()
    page.set_default_timeout(90_000)
    found: list[str] = []
    try:
        for path in PAGES:
            page.goto(f"{server}/{path}")
            page.wait_for_function(SETTLED, polling=250)
            page.wait_for_timeout(400)  # a rerun asked for by the page itself (Draw measures its column)
            page.wait_for_function(SETTLED, polling=250)
            problems = []
            try:
                page.wait_for_function(STYLED, timeout=10_000)  # the app's CSS (lib/ui/style.py) is in place
            except PlaywrightTimeout:
                problems.append("the app's layout CSS is missing")
            problems += page.evaluate(PROBLEMS)
            if path == "convolution":  # the explainer's last tab, picked, is in view and shown
                tabs = page.locator("[data-testid=stMain] [role=tab]")
                assert tabs.count() == 8
                tabs.nth(7).click()
                page.wait_for_function(SETTLED, polling=250)
                assert tabs.nth(7).get_attribute("aria-selected") == "true"
                problems += page.evaluate(PROBLEMS)
            # the page-view script (lib/ui/style.py) sets the language and collapses the sidebar once it has run
            page.wait_for_function("() => document.documentElement.lang === 'ru'", timeout=30_000)
            page.wait_for_timeout(300)
            state = page.evaluate(SIDEBAR_STATE)
            narrow = width < NARROW
            if state["collapsed"] != narrow or state["hint"] != narrow:
                problems.append(f"sidebar collapsed={state['collapsed']}, settings hint shown={state['hint']}")
            if page.locator("[data-testid=stException]").count():
                problems.append("an exception is shown")
            if problems:
                page.screenshot(path=str(tmp_path / f"{path or 'lab'}.png"), full_page=True)
                found += [f"/{path}: {p}" for p in dict.fromkeys(problems)]
        if width < NARROW:  # the hint's way to the settings works: » opens the sidebar
            page.goto(server)
            page.wait_for_function(SETTLED, polling=250)
            page.locator("[data-testid=stExpandSidebarButton]").click()
            page.get_by_text(t("common.sidebar.language", "ru"), exact=True).first.wait_for()
    finally:
        page.screenshot(path=str(tmp_path / "last.png"))
        context.close()
    assert not found, f"{size}:\n" + "\n".join(found)
