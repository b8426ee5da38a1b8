"""The report panel of the student's pages: title block, conclusions with prompts, PDF/DOCX downloads, hand-in."""

from __future__ import annotations

import datetime as dt
import logging
import re

import streamlit as st

from lib.i18n import format_number
from lib.report import ReportItem, TitleBlock, report_docx, report_pdf
from lib.report.build import build_report, model_info
from lib.report.content import ModelInfo, Report
from lib.report.layout import finding_lines
from lib.report.serial import to_json
from lib.store import Store, StoreError
from lib.ui import workspace
from lib.ui.frame import Frame
from lib.ui.widgets import short_label

CLASS_PARAM = "class"  # the class code in the link the teacher hands out
CONCLUSIONS = "conclusions"  # the store's text key of the student's conclusions
CONCLUSIONS_WIDGET = f"ws_text_{CONCLUSIONS}"  # the workspace's text area for it (lib/ui/workspace.py)
MAX_CONCLUSIONS = 20_000
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,40}")

log = logging.getLogger(__name__)


def escape(text: str) -> str:
    """Text shown through markdown as it is (a file name with * or _ stays literal)."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def store() -> Store:
    """The server's workspace store."""
    return workspace.store()


def class_code() -> str:
    """The class code from the page address ('' when the link has none or it is malformed)."""
    code = st.query_params.get(CLASS_PARAM, "") or ""
    return code if CODE_PATTERN.fullmatch(code) else ""


def report_models(f: Frame) -> list[ModelInfo]:
    """Every model the page can show, under the names its outputs carry, with the student's own marked as such."""
    infos = []
    for loaded in f.models.values():
        label = short_label(f, loaded)
        own = None if loaded.source == "shipped" else loaded.label
        infos.append(model_info(label, loaded.checkpoint, f.lang, own_name=own))
    return infos


def render_report_panel(f: Frame, items: list[ReportItem]) -> None:
    """Title block fields, conclusions with prompts and findings, PDF/DOCX downloads, the hand-in and its versions."""
    ws = f.workspace_id
    settings = store().class_settings() if ws else {}
    c1, c2 = st.columns(2)
    student = workspace.profile_input(c1, "report", "name", f.t("report.ui.student"), ws)
    group = workspace.profile_input(c2, "report", "group", f.t("report.ui.group"), ws)
    conclusions_key = CONCLUSIONS_WIDGET if ws else "report_conclusions"
    title = TitleBlock(
        course=str(settings.get("course", "")), lab=str(settings.get("lab_title", "")),
        student=student, group=group,
        date=dt.date.today().isoformat(),
    )  # fmt: skip
    # the text area's value is already in the session state (a rerun after typing): one report for all below
    report = build_report(items, report_models(f), title, f.lang, st.session_state.get(conclusions_key, ""))
    st.subheader(f.t("report.ui.conclusions"))
    st.markdown("\n".join(f"- {f.t(f'report.ui.prompt.{p}')}" for p in ("groups", "conv", "own")))
    lines = finding_lines(report)
    if lines:
        with st.expander(f.t("report.ui.findings"), expanded=True):
            st.markdown("\n".join(f"- {escape(line)}" for line in lines))
    if ws:  # kept in the workspace as the student types (the same text on every page and device)
        workspace.student_text(f.lang, ws, CONCLUSIONS, height=200)
    else:
        st.text_area(f.t("report.ui.conclusions_label"), key=conclusions_key, height=200, max_chars=MAX_CONCLUSIONS)
    c1, c2 = st.columns(2)
    c1.download_button(f.t("report.ui.download_pdf"), lambda: report_pdf(report), "report.pdf", "application/pdf",
                       key="dl_report_pdf", on_click="ignore", icon=":material/picture_as_pdf:")  # fmt: skip
    c2.download_button(f.t("report.ui.download_docx"), lambda: report_docx(report), "report.docx",
                       "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                       key="dl_report_docx", on_click="ignore", icon=":material/description:")  # fmt: skip
    if ws:
        render_handin(f, ws, report)


def hand_in(db: Store, workspace: str, report: Report) -> object:
    """Store a new immutable version of the report (PDF, DOCX and its content) in the workspace."""
    return db.add_handin(workspace, content=to_json(report), pdf=report_pdf(report), docx=report_docx(report))


def when(moment: dt.datetime, f: Frame) -> str:
    """A stored UTC moment in the server's local time, written the language's way."""
    local = moment.astimezone()
    return f.t("report.ui.when", date=local.strftime("%d.%m.%Y" if f.lang == "ru" else "%Y-%m-%d"),
               time=local.strftime("%H:%M"))  # fmt: skip


def render_handin(f: Frame, ws: str, report: Report) -> None:
    """«Hand in» and the versions handed in so far, each downloadable."""
    st.subheader(f.t("report.ui.handin"))
    st.caption(f.t("report.ui.handin_help"))
    if not report.title.student.strip():
        st.info(f.t("report.ui.name_needed"))
    if st.button(f.t("report.ui.handin_button"), type="primary", key="report_handin",
                 disabled=not report.title.student.strip(), icon=":material/send:"):  # fmt: skip
        db = store()
        try:
            db.update_profile(ws, display_name=report.title.student, group=report.title.group)
            db.set_text(ws, CONCLUSIONS, report.conclusions)
            with st.spinner(f.t("report.ui.handing_in")):
                info = hand_in(db, ws, report)
        except StoreError as exc:
            st.error(exc.text(f.lang))
        else:
            st.success(f.t("report.ui.handed_in", version=info.version, when=when(info.created_at, f)))
    versions = store().handins(ws)
    if not versions:
        return
    st.markdown(f"**{f.t('report.ui.versions')}**")
    for version in reversed(versions):
        c1, c2, c3 = st.columns([3, 1, 1])
        c1.markdown(f.t("report.ui.version", version=version.version, when=when(version.created_at, f),
                        kb=format_number(version.size_bytes / 1024, f.lang, ".0f")))  # fmt: skip
        for column, kind, mime in ((c2, "pdf", "application/pdf"), (c3, "docx", "application/octet-stream")):
            column.download_button(
                kind.upper(), lambda v=version, k=kind: store().handin_file(ws, v.id, k) or b"",
                f"report_v{version.version}.{kind}", mime, key=f"dl_handin_{version.id}_{kind}", on_click="ignore",
            )  # fmt: skip
