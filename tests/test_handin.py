"""Handing in from «Your images»: name, conclusions kept in the workspace, immutable numbered versions."""

from __future__ import annotations

import io

import docx
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from lib.i18n import t
from lib.store import Store
from lib.ui.workspace import LINK_PANEL_KEY
from tests.apptest import no_exception, page
from tests.factories import png_bytes

CONCLUSIONS = "Группа Б очищает лучше: её шум грубее."


def upload_page(test_digits) -> AppTest:
    at = page("app_pages/upload.py", lang="ru")
    at.sidebar.radio(key="keep_up_mode").set_value("add_noise").run()
    at.file_uploader(key="upload_files").set_value(("семёрка.png", png_bytes(test_digits, 0), "image/png")).run()
    no_exception(at)
    return at


def test_hand_in_keeps_conclusions_and_every_version(test_digits):
    at = upload_page(test_digits)
    assert at.button(key="report_handin").disabled  # no name yet
    assert t("report.ui.name_needed", "ru") in [i.value for i in at.info]
    assert any(t("report.ui.prompt.groups", "ru") in m.value for m in at.markdown)
    at.text_input(key="report_profile_name_0").input("Иванова Мария").run()
    at.text_input(key="report_profile_group_0").input("ИВТ-21").run()
    at.text_area(key="ws_text_conclusions").input(CONCLUSIONS).run()
    no_exception(at)
    workspace = at.session_state["workspace_id"]
    db = Store.open()
    assert db.texts(workspace)["conclusions"] == CONCLUSIONS  # kept before any hand-in
    assert db.workspace(workspace).display_name == "Иванова Мария"
    assert workspace in at.query_params["w"]  # the page address brings the student back

    db.set_class_setting("course", "Нейронные сети и глубокое обучение")  # the teacher's settings: the title block
    db.set_class_setting("lab_title", "Лабораторная работа № 4")
    at.button(key="report_handin").click().run()
    no_exception(at)
    assert any(s.value.startswith("Работа сдана: версия 1,") for s in at.success)
    at.text_area(key="ws_text_conclusions").input(CONCLUSIONS + " Исправлено.").run()
    at.button(key="report_handin").click().run()
    no_exception(at)

    versions = db.handins(workspace)
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].content["conclusions"] == CONCLUSIONS  # the first version did not change
    assert versions[1].content["conclusions"] == CONCLUSIONS + " Исправлено."
    assert versions[0].content["images"][0]["noise"]["kind"] in ("gaussian", "speckle")
    pdf = db.handin_file(workspace, versions[0].id, "pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Иванова Мария" in text and "ИВТ-21" in text and CONCLUSIONS in " ".join(text.split())
    assert "Нейронные сети и глубокое обучение" in text and "Лабораторная работа № 4" in text
    word = docx.Document(io.BytesIO(db.handin_file(workspace, versions[1].id, "docx")))
    assert any("Исправлено." in p.text for p in word.paragraphs)
    assert len(at.get("download_button")) >= 2 + 2 * 2  # the report's two, and PDF and DOCX of each version


def test_name_and_group_typed_in_either_place_reach_the_other_and_the_store(test_digits):
    at = upload_page(test_digits)
    workspace = at.session_state["workspace_id"]
    db = Store.open()

    def sidebar_fields() -> list[str]:
        return [w.key for w in at.sidebar.text_input if w.key.startswith("sidebar_profile_")]

    assert sidebar_fields() == []  # a closed link panel draws nothing inside
    at.session_state[LINK_PANEL_KEY] = True  # the student opens it
    at.run()
    assert sidebar_fields() == ["sidebar_profile_name_0", "sidebar_profile_group_0"]
    at.text_input(key="report_profile_name_0").input("Петров Иван").run()
    # The sidebar's fields are drawn anew with the stored name; the report's own fields keep their widgets.
    assert at.text_input(key="sidebar_profile_name_1").value == "Петров Иван"
    assert at.text_input(key="report_profile_name_0").value == "Петров Иван"
    at.text_input(key="sidebar_profile_group_1").input("ИВТ-22").run()
    assert at.text_input(key="report_profile_group_1").value == "ИВТ-22"
    assert at.text_input(key="report_profile_name_1").value == "Петров Иван"
    info = db.workspace(workspace)
    assert (info.display_name, info.group) == ("Петров Иван", "ИВТ-22")
    # Each field stores only itself: a name typed afterwards leaves the group as it is.
    at.text_input(key="report_profile_name_1").input("Петрова Инна").run()
    info = db.workspace(workspace)
    assert (info.display_name, info.group) == ("Петрова Инна", "ИВТ-22")
    no_exception(at)
