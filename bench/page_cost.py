"""Server CPU-seconds of a student's first visit to each page, on a real `streamlit run` server.

Run: python -m bench.page_cost --students 4 --burst 30 --json bench/results_page_cost.json

The teacher's session first opens every page (the server's one-time costs: imports, model loading) and
stays connected, as in a lesson (Streamlit forgets its compiled page scripts whenever no session is left).
Then the students come one at a time, on an otherwise idle server: each opens the app (the Noise lab) and
then every other page once, as the load test's students do. For every such first visit the report has the
server's CPU-seconds (all its threads) and the wall time from the click until the page and its pictures
arrived; per page the median over the students. This is what each of 30 students switching pages at once
asks of the server's cores. With --burst N, N more students then open the app and switch to each page
all at the same moment (each one's first visit there): the wall time until each got its page (p50, p95,
max) and the server CPU of the whole burst.
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


async def visit_all(server: Server, s: Student) -> dict[str, dict[str, float]]:
    """A new session opens the app, then every page once; server CPU-s and wall seconds of each visit."""
    out: dict[str, dict[str, float]] = {}
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
    return out


async def lesson(server: Server, students: int, together: int, stats: Stats) -> tuple:
    """The teacher's visits (kept connected), each student's alone, then the burst; all first visits."""
    teacher = Student(30_000, server.url, stats)
    try:
        first = await visit_all(server, teacher)
        visits = []
        for i in range(students):
            s = Student(i, server.url, stats)
            try:
                visits.append(await visit_all(server, s))
            finally:
                await s.close()
        return first, visits, (await burst(server, together, stats) if together else None)
    finally:
        await teacher.close()


async def burst(server: Server, students: int, stats: Stats) -> dict[str, dict[str, float]]:
    """N sessions open the app, then switch to each page at the same moment; per page wall p50/p95/max, server CPU."""
    class_ = [Student(40_000 + i, server.url, stats) for i in range(students)]
    out: dict[str, dict[str, float]] = {}
    try:
        await asyncio.gather(*(s.connect() for s in class_))
        for path in PAGES:
            await asyncio.sleep(0.5)
            cpu0 = server.cpu()
            walls = sorted(w for w in await asyncio.gather(*(s.open_page(path) for s in class_)) if w is not None)
            if walls:
                out[path] = {
                    "p50_s": round(statistics.median(walls), 3),
                    "p95_s": round(walls[min(len(walls) - 1, int(0.95 * len(walls)))], 3),
                    "max_s": round(walls[-1], 3), "server_cpu_s": round(server.cpu() - cpu0, 2), "count": len(walls),
                }  # fmt: skip
    finally:
        await asyncio.gather(*(s.close() for s in class_))
    return out


def run(students: int, together: int = 0) -> dict[str, Any]:
    """Start a server, let the teacher and then each student visit every page once, stop the server."""
    server = Server({"PYTHONUNBUFFERED": "1"})
    stats = Stats()
    report: dict[str, Any] = {"students": students, "cpus": os.cpu_count()}
    server.start()
    try:
        teacher, visits, together_report = asyncio.run(
            asyncio.wait_for(lesson(server, students, together, stats), 1200)
        )
        report["teacher_first_visit_cpu_s"] = {p: round(v["cpu_s"], 3) for p, v in teacher.items()}
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
        if together:
            report["burst_students"] = together
            report["burst"] = together_report
    finally:
        server.stop()
    report["failures"] = sum(len(v) for v in stats.failures.values())
    report["first_failures"] = {k: v[:2] for k, v in stats.failures.items()}
    report["tracebacks"] = server.tracebacks()
    return report


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=4, help="students who come one after another")
    p.add_argument("--burst", type=int, default=0, help="then this many students switch pages at the same moment")
    p.add_argument("--json", help="write the report here")
    p.add_argument("--label", help="store the report under this name in the JSON file (e.g. before / after)")
    args = p.parse_args()
    report = run(args.students, args.burst)
    report["command"] = f"python -m bench.page_cost --students {args.students} --burst {args.burst}"
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
