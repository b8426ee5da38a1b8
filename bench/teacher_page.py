"""Wall time of the teacher's page on a real `streamlit run` server, for a small class and a class of 60 with 200 trainings.

Run: python -m bench.teacher_page [--runs 3] [--json bench/results_teacher_page.json]

For each class size a fresh SQLite store is seeded (named workspaces in three groups, finished trainings with
their settings and per-epoch PSNR, one hand-in), a server is started on it with a teacher password and left
idle 5 s, and Chromium in Russian at 1366×768 opens «Для преподавателя»: the times are from the click on
«Войти» until the class table and the board's chart are drawn and the run is over, and from a click on the
board's colour choice («размер пакета») and its metric choice («спекл-шум») until the page has settled again
(a teacher's rerun with the whole class on it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.first_actions import SETTLED
from deploy.serve import free_port
from lib.i18n import t
from lib.store import Store
from tests.e2e.browsing import ARGS, CHROMIUM
from tests.e2e.server import start_streamlit, stop_streamlit
from tests.factories import seed_class

PASSWORD = "пароль-для-замера"
CLASSES = [(3, 2), (60, 200)]  # (workspaces, trainings)


def seeded_store(folder: Path, workspaces: int, trainings: int) -> str:
    """A SQLite store in `folder` with a seeded class and one hand-in; its URL."""
    url = f"sqlite:///{folder / 'class.db'}"
    store = Store.open(url)
    ids = seed_class(store, workspaces, trainings, np.random.default_rng(0))
    store.add_handin(ids[0], content={"conclusions": "Вывод", "summary": []}, pdf=b"%PDF-1.4", docx=b"PK")
    store.close()
    return url


def one_run(browser, workspaces: int, trainings: int) -> dict[str, float]:
    """Seed a class, start a server on it, log in as the teacher and change the board twice; the three times."""
    with tempfile.TemporaryDirectory() as folder:
        env = os.environ | {"CLASSROOM_DB_URL": seeded_store(Path(folder), workspaces, trainings),
                            "CLASSROOM_TEACHER_PASSWORD": PASSWORD}  # fmt: skip
        port = free_port()
        proc = start_streamlit(port, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            time.sleep(5)  # what the server does by itself right after start-up has time to finish
            context = browser.new_context(locale="ru-RU", viewport={"width": 1366, "height": 768})
            page = context.new_page()
            page.set_default_timeout(120_000)
            page.goto(f"{url}/teacher")
            page.get_by_label(t("teacher.password", "ru")).fill(PASSWORD)
            page.wait_for_function(SETTLED)
            start = time.perf_counter()
            page.get_by_role("button", name=t("teacher.login", "ru")).click()
            page.locator("[data-testid=stDataFrame]").first.wait_for()
            page.locator("[data-testid=stPlotlyChart] .main-svg").first.wait_for(state="attached")
            page.wait_for_function(SETTLED)
            login = time.perf_counter() - start
            page.get_by_role("tab", name=t("teacher.tab.board", "ru")).click()
            page.wait_for_function(SETTLED)
            times = {"login_s": login}
            chart = page.locator("[data-testid=stPlotlyChart]").first
            for name, label, drawn in (("colour_s", "teacher.board.colour.batch", ".legendtitletext"),
                                       ("metric_s", "teacher.board.psnr_speckle", ".ytitle")):  # fmt: skip
                start = time.perf_counter()
                page.locator("[data-testid=stRadio] label").filter(has_text=t(label, "ru")).first.click()
                chart.locator(drawn).filter(has_text=t(label, "ru")).wait_for(state="attached")  # the new chart
                page.wait_for_function(SETTLED)
                times[name] = time.perf_counter() - start
            if page.locator("[data-testid=stException]").count():
                raise RuntimeError("the teacher's page showed an exception")
            context.close()
            return times
        finally:
            stop_streamlit(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    result = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for workspaces, trainings in CLASSES:
            runs = [one_run(browser, workspaces, trainings) for _ in range(args.runs)]
            medians = {name: statistics.median(r[name] for r in runs) for name in runs[0]}
            result[f"{workspaces}_workspaces_{trainings}_trainings"] = medians | {"runs": runs}
        browser.close()
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
