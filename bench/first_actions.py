"""Wall time of the first histogram toggle and the first visit to the explainer on a fresh `streamlit run` server.

Run: python -m bench.first_actions [--runs 3] [--json bench/results_first_actions.json]

Each run starts its own server and waits until it answers (what "warm" means here: started, nobody has
used it yet). A browser (Debian's chromium) then opens the noise lab in Russian at 1366×768 and waits for
its pictures, switches the histogram on and waits for the histogram's chart, then opens «Свёртка» through
the app's navigation and waits for its first tab's charts, goes back to the lab and opens «Свёртка» again
(the same visit without first-time costs: what this machine's browser and server need anyway). The times
are from the click to the result.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from deploy.serve import free_port
from tests.e2e.browsing import ARGS, CHROMIUM
from tests.e2e.server import ROOT, start_streamlit, stop_streamlit

SETTLED = """() => {
    const app = document.querySelector('[data-testid=stApp]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (document.querySelector('[data-stale=true]')) return false;
    return [...document.querySelectorAll('[data-testid=stMain] img')].every(i => i.complete);
}"""


def one_run(browser, root: Path = ROOT) -> dict[str, float]:
    """Start a server on the app in `root`, take the two first actions, stop it."""
    port = free_port()
    proc = start_streamlit(port, root=root)
    url = f"http://127.0.0.1:{port}"
    try:
        time.sleep(5)  # what the server does by itself right after start-up has time to finish
        context = browser.new_context(locale="ru-RU", viewport={"width": 1366, "height": 768})
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto(url)
        page.locator("[data-testid=stMain] img").first.wait_for()
        page.wait_for_function(SETTLED)
        toggle = page.locator("[data-testid=stSidebar] label").filter(has_text="Гистограмма").first
        start = time.perf_counter()
        toggle.click()
        page.locator("[data-testid=stPlotlyChart] .main-svg").first.wait_for()
        page.wait_for_function(SETTLED)
        histogram = time.perf_counter() - start
        start = time.perf_counter()
        page.locator("[data-testid='stSidebarNav'] a[href$='/convolution']").click()
        page.locator("[data-testid=stPlotlyChart] .main-svg").nth(3).wait_for()
        page.wait_for_function(SETTLED)
        convolution = time.perf_counter() - start
        page.locator("[data-testid='stSidebarNav'] a").first.click()
        page.locator("[data-testid=stPlotlyChart] .main-svg").first.wait_for()
        page.wait_for_function(SETTLED)
        start = time.perf_counter()
        page.locator("[data-testid='stSidebarNav'] a[href$='/convolution']").click()
        page.locator("[data-testid=stPlotlyChart] .main-svg").nth(3).wait_for()
        page.wait_for_function(SETTLED)
        again = time.perf_counter() - start  # the same visit once nothing is loaded or built for the first time
        context.close()
        return {"histogram_s": histogram, "convolution_s": convolution, "convolution_again_s": again}
    finally:
        stop_streamlit(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json")
    parser.add_argument("--root", type=Path, default=ROOT, help="the app to measure (e.g. an older checkout)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        runs = [one_run(browser, args.root) for _ in range(args.runs)]
        browser.close()
    result = {name: statistics.median(r[name] for r in runs) for name in runs[0]} | {"runs": runs}
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
