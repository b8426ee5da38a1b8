"""Real browser, in Russian: train, draw and upload → conclusions → hand in → the teacher logs in, sees the
training on the board, opens the hand-in and downloads it."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from PIL import Image
from pypdf import PdfReader

from deploy.serve import free_port
from lib.i18n import t
from lib.store import Store
from tests.e2e.browsing import audit, draw_seven, no_exception, settle
from tests.e2e.server import start_streamlit, stop_streamlit

pytestmark = pytest.mark.e2e
PASSWORD = "учитель-2026"
NAME = "Иванова Мария"
CONCLUSIONS = "Модель группы Б очищает мои цифры лучше; свёрточная сеть лучше полносвязной."


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The server's data folder (its SQLite store)."""
    return tmp_path_factory.mktemp("handin")


@pytest.fixture(scope="module")
def server(folder):
    """streamlit run with its own store folder and a teacher password in the environment."""
    port = free_port()
    env = {**__import__("os").environ, "CLASSROOM_DATA_DIR": str(folder), "CLASSROOM_TEACHER_PASSWORD": PASSWORD}
    env.pop("CLASSROOM_DB_URL", None)
    proc = start_streamlit(port, folder / "streamlit.log", env)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_streamlit(proc)


def russian_page(browser):
    context = browser.new_context(locale="ru-RU", viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(90_000)
    return context, page


def profile_kept(page, folder, name: str, group: str) -> None:
    """Until the workspace's stored profile has this name and group."""
    workspace = page.evaluate("() => new URLSearchParams(location.search).get('w')")
    store = Store.open(f"sqlite:///{folder / 'classroom.db'}")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            info = store.workspace(workspace)
            if info is not None and (info.display_name, info.group) == (name, group):
                return
            time.sleep(0.25)
        raise AssertionError(f"profile not kept: {info}")
    finally:
        store.close()


def test_hand_in_and_the_teacher_downloads_it(server, folder, browser, tmp_path, test_digits):
    context, page = russian_page(browser)
    # a small training of the student's own (one epoch on 500 digits): the teacher's board shows it
    page.goto(f"{server}/train")
    epochs = page.get_by_label(t("train.epochs", "ru"), exact=True)
    epochs.fill("1")
    epochs.press("Enter")
    settle(page)
    page.get_by_role("slider", name=t("train.subset", "ru")).press("Home")
    page.wait_for_function("() => document.activeElement && document.activeElement.value === '500'")
    settle(page)
    page.get_by_role("button", name=t("train.start", "ru")).click()
    page.get_by_role("button", name=t("train.download_weights", "ru")).wait_for(timeout=600_000)
    # a drawing, added to the report, on the same workspace
    page.locator("[data-testid='stSidebarNav'] a", has_text=t("draw.page", "ru")).click()
    draw_seven(page)
    page.get_by_text(t("draw.result", "ru"), exact=True).wait_for()
    page.get_by_role("button", name=t("draw.add_to_report", "ru")).click()
    page.get_by_text(t("draw.added", "ru", n=1)).wait_for()
    # an uploaded photo, on «Your images» reached through the app's navigation (the session keeps the drawing)
    page.locator("[data-testid='stSidebarNav'] a", has_text=t("upload.page", "ru")).click()
    photo = tmp_path / "фото_семёрки.png"
    Image.fromarray(255 - test_digits.images[0].numpy()).resize((300, 300)).save(photo)
    page.locator("input[type='file']").first.set_input_files(str(photo))
    page.get_by_text("1. фото_семёрки.png", exact=True).wait_for(timeout=180_000)  # processed and kept
    page.get_by_text(t("report.ui.conclusions", "ru"), exact=True).wait_for()
    page.get_by_text(t("report.ui.name_needed", "ru")).wait_for()
    settle(page)  # the run is over: no element of the previous run is still on the page beside its new one
    page.get_by_label(t("report.ui.student", "ru"), exact=True).fill(NAME)
    page.get_by_label(t("report.ui.student", "ru"), exact=True).press("Enter")
    # The group follows at once, as a quick typist does, while the name's rerun may still be running.
    page.get_by_label(t("report.ui.group", "ru"), exact=True).fill("ИВТ-21")
    page.get_by_label(t("report.ui.group", "ru"), exact=True).press("Enter")
    profile_kept(page, folder, NAME, "ИВТ-21")
    area = page.get_by_label(t("store.text.conclusions", "ru"), exact=True)
    area.fill(CONCLUSIONS)
    area.press("Control+Enter")
    handin = page.get_by_role("button", name=t("report.ui.handin_button", "ru"))
    try:
        page.wait_for_function("b => !b.disabled", arg=handin.element_handle(), timeout=180_000)
    finally:
        page.screenshot(path=str(tmp_path / "before_handin.png"))
    handin.click()
    page.get_by_text("Работа сдана: версия 1", exact=False).wait_for(timeout=180_000)
    no_exception(page)
    page.screenshot(path=str(tmp_path / "student_handed_in.png"), full_page=True)
    with page.expect_download() as got:
        page.get_by_role("button", name=t("report.ui.download_pdf", "ru")).click()
    text = " ".join(p.extract_text() for p in PdfReader(got.value.path()).pages)
    assert NAME in text and t("report.task7", "ru") in text and "рисунок 1" in text and "фото_семёрки.png" in text

    # the student's session cannot reach the teacher's data by address or parameters
    workspace = page.evaluate("() => new URLSearchParams(location.search).get('w')")
    assert workspace
    page.goto(f"{server}/teacher?w={workspace}&teacher=1&auth=1&tab=class")
    page.get_by_label(t("teacher.password", "ru")).wait_for()
    assert NAME not in page.locator("[data-testid='stMain']").inner_text()
    # no table of the class (the first page of a session carries only a hidden one-cell preload table)
    assert page.locator("[data-testid='stMain'] [data-testid='stDataFrame']:visible").count() == 0
    page.get_by_label(t("teacher.password", "ru")).fill("неверный пароль")
    page.get_by_role("button", name=t("teacher.login", "ru")).click()
    page.get_by_text(t("teacher.wrong", "ru")).wait_for()
    assert page.locator("[data-testid='stMain'] [data-testid='stDataFrame']:visible").count() == 0
    no_exception(page)
    context.close()

    # the teacher logs in, sees the hand-in and downloads it
    context, page = russian_page(browser)
    page.goto(f"{server}/teacher")
    page.get_by_label(t("teacher.password", "ru")).fill(PASSWORD)
    page.get_by_role("button", name=t("teacher.login", "ru")).click()
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    page.get_by_text(t("teacher.class_caption", "ru", n=1, handed=1)).wait_for()
    page.screenshot(path=str(tmp_path / "teacher_class.png"), full_page=True)
    with page.expect_download() as got:
        page.get_by_role("button", name=t("teacher.download_all", "ru", n=1)).click()
    archive = zipfile.ZipFile(got.value.path())
    assert sorted(archive.namelist()) == ["ИВТ-21/Иванова_Мария_v1.docx", "ИВТ-21/Иванова_Мария_v1.pdf"]
    handed = PdfReader(io.BytesIO(archive.read("ИВТ-21/Иванова_Мария_v1.pdf")))
    assert CONCLUSIONS in " ".join(" ".join(p.extract_text() for p in handed.pages).split())
    # the student's row opens their versions: the handed-in PDF itself, with the conclusions
    table = page.locator("[data-testid='stMain'] [data-testid='stDataFrame']:visible").first
    box = table.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)  # the first row's selection cell, under the header
    page.get_by_text(t("teacher.version", "ru", version=1, when=""), exact=False).first.wait_for()
    with page.expect_download() as got:
        page.get_by_role("button", name="PDF", exact=True).click()
    assert got.value.suggested_filename == "ИВТ-21_Иванова_Мария_v1.pdf"
    single = " ".join(" ".join(p.extract_text() for p in PdfReader(got.value.path()).pages).split())
    assert NAME in single and CONCLUSIONS in single
    found = audit(page, "teacher.page", "class, a hand-in open")  # axe-core, WCAG 2.1 A/AA, as on the students' pages
    # the board: the student's training, with its settings, and no student's name
    page.get_by_role("tab", name=t("teacher.tab.board", "ru")).click()
    board = page.locator("[data-testid='stTabPanel']:visible [data-testid='stDataFrame']")
    board.wait_for()
    page.locator("[data-testid='stTabPanel']:visible .js-plotly-plot").wait_for()
    # the training is a point on the chart: its PSNR against the digits it saw (one epoch of 500)
    assert page.locator("[data-testid='stTabPanel']:visible .js-plotly-plot .scatterlayer .point").count() == 1
    assert page.get_by_text(t("teacher.board.empty", "ru")).count() == 0
    page.screenshot(path=str(tmp_path / "teacher_board.png"), full_page=True)
    found += audit(page, "teacher.page", "board")
    page.get_by_role("tab", name=t("teacher.tab.settings", "ru")).click()
    page.get_by_label(t("teacher.set.course", "ru"), exact=True).wait_for()
    found += audit(page, "teacher.page", "settings")
    assert found == [], found
    no_exception(page)
    context.close()
