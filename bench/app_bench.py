"""App speed and memory: rerun time after a slider move, cold start to first render, server RSS with 1 and 10 sessions.

Run: python -m bench.app_bench [--json bench/out/app.json]
Rerun time is measured in-process with Streamlit's AppTest (script execution of a full rerun);
cold start and memory use a real `streamlit run` server and headless chromium sessions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def rerun_times(repeats: int = 20) -> dict[str, float]:
    """Median and max seconds of a noise-lab rerun after moving the variance slider."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.session_state["keep_lang"] = "en"
    at.run()
    times = []
    for i in range(repeats):
        slider = at.sidebar.slider(key="keep_lab_var")
        slider.set_value(100.0 + 40 * (i % 20))
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        assert not at.exception
    return {"median_s": statistics.median(times), "max_s": max(times), "repeats": repeats}


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, MB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def server_bench(port: int = 8765, sessions: int = 10) -> dict[str, float]:
    """Cold start to the first rendered triple, and RSS with 1 and `sessions` browser sessions."""
    from playwright.sync_api import sync_playwright

    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.1)
        server_ready = time.perf_counter() - t0
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            pages = []
            marks: dict[str, float] = {}

            def open_session():
                ctx = browser.new_context(locale="en-US")
                page = ctx.new_page()
                page.goto(url)
                page.locator("[data-testid='stSidebarNav']").wait_for(timeout=120_000)
                marks.setdefault("nav", time.perf_counter() - t0)
                page.locator("[data-testid='stMain'] img").nth(17).wait_for(timeout=120_000)  # 6 triples drawn
                pages.append(page)

            open_session()
            first_render = time.perf_counter() - t0
            time.sleep(2)
            rss_one = rss_mb(proc.pid)
            for _ in range(sessions - 1):
                open_session()
            time.sleep(2)
            rss_many = rss_mb(proc.pid)
            browser.close()
        return {"server_ready_s": server_ready, "cold_start_to_navigation_s": marks["nav"],
                "cold_start_to_first_render_s": first_render,
                "rss_1_session_mb": rss_one, f"rss_{sessions}_sessions_mb": rss_many}  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json")
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args()
    result = {"rerun_after_slider": rerun_times()}
    result |= server_bench(sessions=args.sessions)
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
