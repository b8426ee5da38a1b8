"""Server CPU-seconds of a student's first visit to each page, on a real `streamlit run` server.

Run: python -m bench.page_cost --students 4 --json bench/results_page_cost.json

The teacher's session first opens every page (the server's one-time costs: imports, model loading). Then
the students come one at a time, on an otherwise idle server: each opens the app (the Noise lab) and then
every other page once, as the load test's students do. For every such first visit the report has the
server's CPU-seconds (all its threads) and the wall time from the click until the page and its pictures
arrived; per page the median over the students. This is what each of 30 students switching pages at once
asks of the server's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from bench.load_test import Server, Stats, Student

PAGES = ("convolution", "inside", "compare", "draw", "upload", "train")


async def visit_all(server: Server, number: int, stats: Stats) -> dict[str, dict[str, float]]:
    """One new session: open the app, then every page once; server CPU-s and wall seconds of each visit."""
    s = Student(number, server.url, stats)
    out: dict[str, dict[str, float]] = {}
    try:
        await asyncio.sleep(0.3)  # let the server's idle threads settle before each measured visit
        cpu0, t0 = server.cpu(), time.perf_counter()
        await s.connect()
        out["lab"] = {"cpu_s": server.cpu() - cpu0, "wall_s": time.perf_counter() - t0}
        for path in PAGES:
            await asyncio.sleep(0.3)
            cpu0, t0 = server.cpu(), time.perf_counter()
            if await s.open_page(path) is None:
                continue
            out[path] = {"cpu_s": server.cpu() - cpu0, "wall_s": time.perf_counter() - t0}
    finally:
        await s.close()
    return out


def run(students: int) -> dict[str, Any]:
    """Start a server, let the teacher and then each student visit every page once, stop the server."""
    server = Server({"PYTHONUNBUFFERED": "1"})
    stats = Stats()
    report: dict[str, Any] = {"students": students, "cpus": os.cpu_count()}
    server.start()
    try:
        teacher = asyncio.run(asyncio.wait_for(visit_all(server, 30_000, stats), 600))
        report["teacher_first_visit_cpu_s"] = {p: round(v["cpu_s"], 3) for p, v in teacher.items()}
        visits = [asyncio.run(asyncio.wait_for(visit_all(server, i, stats), 600)) for i in range(students)]
        pages: dict[str, Any] = {}
        for path in ("lab", *PAGES):
            cpu = [v[path]["cpu_s"] for v in visits if path in v]
            wall = [v[path]["wall_s"] for v in visits if path in v]
            if cpu:
                pages[path] = {
                    "cpu_s_median": round(statistics.median(cpu), 3), "cpu_s": [round(c, 3) for c in cpu],
                    "wall_s_median": round(statistics.median(wall), 3),
                }  # fmt: skip
        report["student_first_visit"] = pages
        report["student_cpu_s_all_pages"] = round(sum(p["cpu_s_median"] for p in pages.values()), 3)
    finally:
        server.stop()
    report["failures"] = sum(len(v) for v in stats.failures.values())
    report["first_failures"] = {k: v[:2] for k, v in stats.failures.items()}
    report["tracebacks"] = server.tracebacks()
    return report


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=4, help="students who come one after another")
    p.add_argument("--json", help="write the report here")
    p.add_argument("--label", help="store the report under this name in the JSON file (e.g. before / after)")
    args = p.parse_args()
    report = run(args.students)
    report["command"] = f"python -m bench.page_cost --students {args.students}"
    text = json.dumps(report, indent=1, ensure_ascii=False)
    print(text)
    if args.json:
        path = Path(args.json)
        if args.label:
            whole = json.loads(path.read_text()) if path.exists() else {}
            whole[args.label] = report
            text = json.dumps(whole, indent=1, ensure_ascii=False)
        path.write_text(text + "\n")


if __name__ == "__main__":
    main()
