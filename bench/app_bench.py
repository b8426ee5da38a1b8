"""App speed and memory on a real `streamlit run` server: cold start to the first triples, rerun latency, RSS.

Run: python -m bench.app_bench [--json bench/results_app.json]
Cold start: headless chromium is started first (a student's browser is already open), then the server; the
clock starts when the server process is spawned. Reruns: one student on the websocket (bench/load_test.py)
sets a new noise seed 20 times. Memory: RSS of the server with 1 and with 10 chromium sessions.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import report
from bench.load_test import Server, Stats, Student
from deploy.serve import free_port, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


async def _reruns(url: str, repeats: int) -> list[float]:
    stats = Stats()
    student = Student(0, url, stats, locale="en-US")
    await student.connect()
    for _ in range(3):  # warm: the first reruns load what later ones reuse
        await student.new_seed()
    stats.latencies.clear()
    for _ in range(repeats):
        await student.new_seed()
    await student.close()
    if stats.failures:
        raise RuntimeError(f"rerun failures: {stats.failures}")
    return stats.latencies["lab_seed"]


def rerun_times(repeats: int = 20) -> dict[str, float]:
    """Noise-lab rerun after a new seed, as one student sees it on a real server (send → script finished)."""
    server = Server()
    server.start()
    try:
        times = sorted(asyncio.run(_reruns(server.url, repeats)))
    finally:
        server.stop()
    return {"median_s": statistics.median(times), "p95_s": times[int(0.95 * (len(times) - 1))],
            "max_s": times[-1], "repeats": repeats}  # fmt: skip


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


def server_bench(sessions: int = 10) -> dict[str, float]:
    """Cold start to the first rendered triples, and RSS with 1 and `sessions` browser sessions."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_healthy(url, 60, proc, every=0.05)  # asked often: the time to ready is one of the figures
            server_ready = time.perf_counter() - t0
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
        finally:
            browser.close()
            proc.terminate()
            proc.wait(10)
    return {"server_ready_s": server_ready, "cold_start_to_navigation_s": marks["nav"],
            "cold_start_to_first_render_s": first_render,
            "rss_1_session_mb": rss_one, f"rss_{sessions}_sessions_mb": rss_many}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json")
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args()
    result = {"rerun_after_new_seed": rerun_times()}
    result |= server_bench(sessions=args.sessions)
    report(result, args.json)


if __name__ == "__main__":
    main()
