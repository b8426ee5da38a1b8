"""The teacher's page: no default password, constant-time check with lockout, the class, the board, privacy."""

from __future__ import annotations

import io
import json
import time
import zipfile

import numpy as np
import pytest

from lib.i18n import t
from lib.store import Store
from lib.teacher import (
    Lockout,
    board_row,
    class_rows,
    configured_password,
    handins_zip,
    password_matches,
)
from tests.apptest import no_exception, page
from tests.factories import seed_class

PASSWORD = "Пароль-учителя 7"


def test_no_default_password_and_where_it_comes_from():
    assert configured_password(None, {}) is None
    assert configured_password("  ", {"CLASSROOM_TEACHER_PASSWORD": ""}) is None
    assert configured_password(None, {"CLASSROOM_TEACHER_PASSWORD": "env"}) == "env"
    assert configured_password("secret", {"CLASSROOM_TEACHER_PASSWORD": "env"}) == "secret"  # secrets first
    assert password_matches(PASSWORD, PASSWORD) and not password_matches(PASSWORD[:-1], PASSWORD)
    assert not password_matches("", PASSWORD)


def test_lockout_doubles_after_the_free_tries_and_a_success_clears_it():
    now = [100.0]
    lock = Lockout(free=3, base=2.0, cap=10.0, clock=lambda: now[0])
    assert [lock.failed() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert lock.wait_left() == 0.0
    assert lock.failed() == 2.0 and lock.wait_left() == pytest.approx(2.0)
    now[0] += 1.0
    assert lock.wait_left() == pytest.approx(1.0)
    assert [lock.failed() for _ in range(3)] == [4.0, 8.0, 10.0]  # capped
    lock.succeeded()
    assert lock.wait_left() == 0.0 and lock.failed() == 0.0


@pytest.fixture()
def fresh_store(tmp_path, monkeypatch):
    """The page's store in a fresh SQLite file, and the teacher password set in the environment."""
    from lib.ui.teacher import lockout
    from lib.ui.workspace import store

    monkeypatch.setenv("CLASSROOM_DB_URL", f"sqlite:///{tmp_path / 'class.db'}")
    monkeypatch.setenv("CLASSROOM_TEACHER_PASSWORD", PASSWORD)
    store.clear()
    lockout.clear()
    db = Store.open()
    yield db
    store.clear()
    lockout.clear()


def test_without_a_password_the_page_explains_and_shows_nothing(fresh_store, monkeypatch):
    seed_class(fresh_store, 2, 1, np.random.default_rng(0))
    monkeypatch.delenv("CLASSROOM_TEACHER_PASSWORD")
    at = page("app_pages/teacher.py", lang="ru")
    no_exception(at)
    assert t("teacher.no_password", "ru") in [w.value for w in at.warning]
    assert not at.get("text_input") and not at.dataframe


def test_wrong_password_refused_and_students_cannot_reach_data_by_address(fresh_store):
    ids = seed_class(fresh_store, 3, 2, np.random.default_rng(1))
    at = page("app_pages/teacher.py", lang="ru")
    at.query_params["w"] = ids[0]  # a student's own workspace link, and made-up parameters
    at.query_params["teacher"] = "1"
    at.query_params["tab"] = "class"
    at.run()
    no_exception(at)
    assert not at.dataframe and not at.tabs
    login(at, "guess")
    assert t("teacher.wrong", "ru") in at.error[0].value
    assert not at.dataframe
    shown = " ".join(str(getattr(e, "value", "")) for e in at.main)
    assert "Студент 00" not in shown and "ИВТ-21" not in shown


def login(at, password: str) -> None:
    """Type the password and press the form's submit button in one run (a form sends its values on submit)."""
    at.text_input(key="teacher_password").input(password)
    next(b for b in at.button if b.label == t("teacher.login", "ru")).click().run()


def test_lockout_after_repeated_failures(fresh_store):
    at = page("app_pages/teacher.py", lang="ru")
    for _ in range(4):
        login(at, "wrong")
    assert "Слишком много неудачных попыток" in at.error[0].value
    login(at, PASSWORD)  # even the right password waits
    assert not at.tabs


def test_class_of_sixty_and_two_hundred_trainings_renders(fresh_store, capsys):
    ids = seed_class(fresh_store, 60, 200, np.random.default_rng(2))
    handed = ids[5]
    fresh_store.add_handin(handed, content={"conclusions": "Вывод студента 5", "summary": [
        {"model": "Свёрточный АЭ (табл. 1) · группа Б", "psnr": 24.5, "ssim": 0.93}]}, pdf=b"%PDF-1.4 test",
        docx=b"PK docx")  # fmt: skip
    at = page("app_pages/teacher.py", lang="ru")
    started = time.perf_counter()
    login(at, PASSWORD)
    seconds = time.perf_counter() - started
    no_exception(at)
    print(f"teacher page, 60 workspaces and 200 trainings: {seconds:.2f} s")
    assert len(at.tabs) == 3
    frames = at.dataframe
    class_table = frames[0].value
    assert len(class_table) == 60
    assert "Студент 05" in set(class_table[t("teacher.col.name", "ru")])
    row = class_table[class_table[t("teacher.col.name", "ru")] == "Студент 05"].iloc[0]
    assert row[t("teacher.col.handed_in", "ru")].startswith("версия 1,")
    board = frames[-1].value
    assert len(board) == 200
    assert t("teacher.col.name", "ru") not in board.columns  # the projected board names nobody
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert chart["layout"]["xaxis"]["title"]["text"] == t("teacher.board.digits_seen", "ru")
    assert chart["layout"]["legend"]["title"]["text"] == t("teacher.board.colour.lr", "ru")
    assert sum(len(trace["x"]) for trace in chart["data"]) == 200  # every training is a point
    assert any(b.proto.label.startswith("Скачать все сданные работы") for b in at.get("download_button"))


def test_the_page_asks_the_store_the_same_number_of_questions_for_a_class_of_three_or_of_sixty(fresh_store):
    """No query per student or per training: a class of 60 with 200 trainings costs the page what 3 with 2 do."""
    from sqlalchemy import event

    from lib.ui.workspace import store

    def statements_of_a_logged_in_run() -> int:
        seen: list[str] = []

        def counted(connection, cursor, statement, *args) -> None:
            seen.append(statement)

        at = page("app_pages/teacher.py", lang="ru")
        login(at, PASSWORD)
        no_exception(at)
        engine = store().engine
        event.listen(engine, "before_cursor_execute", counted)
        try:
            at.run()  # the teacher's next rerun (a filter, a tab, the colour of the board)
        finally:
            event.remove(engine, "before_cursor_execute", counted)
        return len(seen), len(at.dataframe[0].value), len(at.dataframe[-1].value)

    seed_class(fresh_store, 3, 2, np.random.default_rng(3))
    small, small_class, small_board = statements_of_a_logged_in_run()
    seed_class(fresh_store, 57, 198, np.random.default_rng(4))
    large, large_class, large_board = statements_of_a_logged_in_run()
    assert (small_class, small_board, large_class, large_board) == (3, 2, 60, 200)
    assert 0 < large == small


def test_the_board_s_colours_are_in_numeric_order_each_with_its_own_symbol_and_a_legend_even_for_one():
    from lib.teacher import BoardRow
    from lib.ui.frame import Frame
    from lib.ui.teacher import board_figure

    def row(n: int, lr: float, batch: int) -> BoardRow:
        return BoardRow(training_id=n, workspace_id="w", status="done", model="table1", lr=lr, batch=batch,
                        epochs=1.0, epochs_total=1, subset=500, noise={}, psnr_gaussian=20.0 + n,
                        psnr_speckle=18.0 + n, digits_seen=500 * (n + 1), seconds=10.0, created_at=None)  # fmt: skip

    f = Frame("ru", None, {})
    rows = [row(0, 0.01, 128), row(1, 0.003, 32), row(2, 0.03, 64), row(3, 0.003, 128)]
    by_batch = board_figure(f, rows, "psnr_gaussian", "batch")
    assert [trace.name for trace in by_batch.data] == ["32", "64", "128"]  # numbers, not text, decide the order
    assert [len(trace.x) for trace in by_batch.data] == [1, 1, 2]
    by_lr = board_figure(f, rows, "psnr_speckle", "lr")
    assert [trace.name for trace in by_lr.data] == ["0,003", "0,01", "0,03"]
    assert len({trace.marker.symbol for trace in by_lr.data}) == 3  # not colour alone
    assert len({trace.marker.color for trace in by_lr.data}) == 3
    single = board_figure(f, rows[:1], "psnr_gaussian", "lr")
    assert single.layout.showlegend and single.layout.legend.title.text == t("teacher.board.colour.lr", "ru")


def test_board_row_and_the_zip_of_all_hand_ins(fresh_store):
    ids = seed_class(fresh_store, 2, 2, np.random.default_rng(3))
    row = board_row(fresh_store.trainings(ids[0])[0])
    assert row.model == "table1" and row.batch in (32, 64, 128) and row.seconds == pytest.approx(40.0)
    assert row.digits_seen == row.subset * row.epochs_total
    assert row.psnr_gaussian is not None and row.psnr_speckle is not None
    for ws in ids:
        fresh_store.add_handin(ws, content={}, pdf=b"%PDF", docx=b"PK")
    fresh_store.add_handin(ids[0], content={}, pdf=b"%PDF v2", docx=None)
    rows = class_rows(fresh_store.overview())
    latest = []
    for r in rows:
        v = fresh_store.handins(r.workspace_id)[-1]
        latest.append((r, v.version, lambda kind, w=r.workspace_id, i=v.id: fresh_store.handin_file(w, i, kind)))
    names = zipfile.ZipFile(io.BytesIO(handins_zip(latest))).namelist()
    assert "ИВТ-21/Студент_00_v2.pdf" in names and "ИВТ-21/Студент_00_v2.docx" not in names
    assert "ИВТ-22/Студент_01_v1.docx" in names


def test_teacher_stops_a_training_of_this_server_and_a_stored_one(fresh_store, test_digits):
    from lib.jobs import TrainingJob
    from lib.noise import NoiseConfig
    from lib.train import recipe
    from lib.ui import server

    ids = seed_class(fresh_store, 1, 1, np.random.default_rng(4))
    stored = fresh_store.create_training(ids[0], settings={"train": {"model": "table1", "lr": 0.01, "batch_size": 64}},
                                         epochs_total=3, check_room=False)  # fmt: skip
    fresh_store.update_training(stored.id, status="running")
    queue = server.training_queue()
    job = TrainingJob(recipe("classroom", model="table1", epochs=1, limit=100), NoiseConfig(), test_digits,
                      test_digits, queue)  # fmt: skip
    job.state = "queued"
    queue.enter(job)  # waiting for a slot: listed, never computing
    try:
        at = page("app_pages/teacher.py", lang="ru")
        login(at, PASSWORD)
        next(b for b in at.button if b.label == t("teacher.stop", "ru")).click().run()
        no_exception(at)
        assert job.stop_event.is_set() and job.stop_reason == "teacher"
        number = len(fresh_store.trainings(ids[0]))  # the running one is the last on the board
        next(b for b in at.button if b.label == t("teacher.stop_n", "ru", n=number)).click().run()
        no_exception(at)
        assert fresh_store.training(ids[0], stored.id).stop_reason == "teacher"
    finally:
        queue.leave(job)


def test_class_settings_are_saved_in_the_store(fresh_store, monkeypatch):
    monkeypatch.delenv("CLASSROOM_TRAIN_MAX_IMAGES", raising=False)  # the environment would win
    at = page("app_pages/teacher.py", lang="ru")
    login(at, PASSWORD)
    labels = {w.label: w for w in at.text_input}
    labels[t("teacher.set.course", "ru")].input("Нейронные сети")
    at.number_input(key="teacher_set_training_max_images").set_value(120_000)
    at.number_input(key="teacher_set_expiry_days").set_value(14)
    next(b for b in at.button if b.label == t("teacher.set.save", "ru")).click().run()
    no_exception(at)
    saved = fresh_store.class_settings()
    assert saved["course"] == "Нейронные сети" and saved["training_max_images"] == 120_000
    assert saved["expiry_days"] == 14
    from lib.ui.server import training_setting

    assert training_setting("max_images") == 120_000  # the training page's cap follows the teacher's setting


def test_a_training_in_another_process_stops_at_its_next_heartbeat(fresh_store, test_digits):
    from lib.jobs import TrainingJob, TrainingQueue
    from lib.noise import NoiseConfig
    from lib.train import recipe

    (ws,) = seed_class(fresh_store, 1, 0, np.random.default_rng(5))
    row = fresh_store.create_training(ws, settings={}, epochs_total=1, check_room=False)
    job = TrainingJob(recipe("classroom", model="table1", epochs=1, limit=100), NoiseConfig(), test_digits, test_digits,
                      TrainingQueue(), store=fresh_store, workspace_id=ws, training_id=row.id)  # fmt: skip
    job.beat(force=True)
    assert not job.stop_event.is_set()
    fresh_store.update_training(row.id, stop_reason="teacher")  # what the teacher's page writes
    job.beat(force=True)
    assert job.stop_event.is_set() and job.stop_reason == "teacher"
