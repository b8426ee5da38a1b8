"""The report panel of the student's pages: title block, conclusions with prompts, PDF/DOCX downloads, hand-in."""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import time

import streamlit as st

from lib.i18n import format_number
from lib.report import ReportItem, TitleBlock, report_docx, report_pdf
from lib.report.build import build_report, model_info
from lib.report.content import ModelInfo, Report
from lib.report.layout import finding_lines
from lib.report.serial import to_json
from lib.store import Store, StoreError, valid_workspace_id
from lib.ui.frame import Frame
from lib.ui.widgets import short_label

WORKSPACE_KEY = "workspace_id"  # this browser session's workspace
WORKSPACE_PARAM = "ws"  # the workspace id in the page address: the link that brings the student back
CLASS_PARAM = "class"  # the class code in the link the teacher hands out
CONCLUSIONS = "conclusions"  # the store's text key of the student's conclusions
MAX_CONCLUSIONS = 20_000
TOUCH_EVERY_S = 60.0  # "last seen" is written at most once a minute per session
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")

log = logging.getLogger(__name__)


def escape(text: str) -> str:
    """Text shown through markdown as it is (a file name with * or _ stays literal)."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


@st.cache_resource(show_spinner=False)
def store() -> Store:
    """The server's workspace store (secrets `[connections.workspace] url`, else CLASSROOM_DB_URL, else SQLite)."""
    try:
        url = st.secrets.get("connections", {}).get("workspace", {}).get("url")
    except Exception:  # no secrets file: the environment or the SQLite default
        url = None
    return Store.open(url)


def class_code() -> str:
    """The class code from the page address ('' when the link has none)."""
    code = st.query_params.get(CLASS_PARAM, "")
    return code[:40] if re.fullmatch(r"[A-Za-z0-9_-]{1,40}", code or "") else ""


def current_workspace(create: bool = False) -> str | None:
    """This session's workspace id: from the session, else from the page address; a new one when `create`."""
    db = store()
    for candidate in (st.session_state.get(WORKSPACE_KEY), st.query_params.get(WORKSPACE_PARAM)):
        if valid_workspace_id(candidate) and db.workspace(candidate) is not None:
            st.session_state[WORKSPACE_KEY] = candidate
            now = time.monotonic()
            if now - st.session_state.get("workspace_touched", -math.inf) > TOUCH_EVERY_S:
                db.touch(candidate)  # "last seen" on the teacher's page
                st.session_state["workspace_touched"] = now
            return candidate
    if not create:
        return None
    workspace = db.create_workspace(class_code=class_code())
    st.session_state[WORKSPACE_KEY] = workspace.id
    st.query_params[WORKSPACE_PARAM] = workspace.id  # the address now brings the student back to it
    return workspace.id


def report_models(f: Frame) -> list[ModelInfo]:
    """Every model the page can show, under the names its outputs carry, with the student's own marked as such."""
    infos = []
    for key, loaded in f.models.items():
        label = short_label(f, loaded)
        own = None if key.startswith("shipped:") else key.split(":", 1)[1]
        infos.append(model_info(label, loaded.checkpoint, f.lang, own_name=own))
    return infos


def _save_conclusions() -> None:
    body = str(st.session_state.get("report_conclusions", ""))[:MAX_CONCLUSIONS]
    try:
        store().set_text(current_workspace(create=True), CONCLUSIONS, body)
    except StoreError as exc:
        log.warning("conclusions not saved: %s", exc)


def _save_profile() -> None:
    try:
        store().update_profile(
            current_workspace(create=True),
            display_name=str(st.session_state.get("report_student", ""))[:80],
            group=str(st.session_state.get("report_group", ""))[:80],
        )
    except StoreError as exc:
        log.warning("profile not saved: %s", exc)


def _load_into_widgets(workspace: str | None) -> None:
    """Fill the name, group and conclusions widgets from the workspace once per session."""
    if workspace is None or st.session_state.get("report_loaded_for") == workspace:
        return
    db = store()
    info = db.workspace(workspace)
    st.session_state["report_student"] = info.display_name if info else ""
    st.session_state["report_group"] = info.group if info else ""
    st.session_state["report_conclusions"] = db.texts(workspace).get(CONCLUSIONS, "")
    st.session_state["report_loaded_for"] = workspace


def render_report_panel(f: Frame, items: list[ReportItem]) -> None:
    """Title block inputs, conclusions with prompts and findings, PDF/DOCX downloads, the hand-in and its versions."""
    workspace = current_workspace()
    _load_into_widgets(workspace)
    settings = store().class_settings()
    c1, c2 = st.columns(2)
    c1.text_input(f.t("report.ui.student"), key="report_student", max_chars=80, on_change=_save_profile)
    c2.text_input(f.t("report.ui.group"), key="report_group", max_chars=80, on_change=_save_profile)
    title = TitleBlock(
        course=str(settings.get("course", "")), lab=str(settings.get("lab_title", "")),
        student=st.session_state.get("report_student", ""), group=st.session_state.get("report_group", ""),
        date=dt.date.today().isoformat(),
    )  # fmt: skip
    # the text area's value is already in the session state (a rerun after typing): one report for all below
    report = build_report(items, report_models(f), title, f.lang, st.session_state.get("report_conclusions", ""))
    st.subheader(f.t("report.ui.conclusions"))
    st.markdown("\n".join(f"- {f.t(f'report.ui.prompt.{p}')}" for p in ("groups", "conv", "own")))
    lines = finding_lines(report)
    if lines:
        with st.expander(f.t("report.ui.findings"), expanded=True):
            st.markdown("\n".join(f"- {escape(line)}" for line in lines))
    st.text_area(f.t("report.ui.conclusions_label"), key="report_conclusions", height=200, max_chars=MAX_CONCLUSIONS,
                 placeholder=f.t("report.ui.conclusions_placeholder"), on_change=_save_conclusions)  # fmt: skip
    c1, c2 = st.columns(2)
    c1.download_button(f.t("report.ui.download_pdf"), lambda: report_pdf(report), "report.pdf", "application/pdf",
                       key="dl_report_pdf", on_click="ignore", icon=":material/picture_as_pdf:")  # fmt: skip
    c2.download_button(f.t("report.ui.download_docx"), lambda: report_docx(report), "report.docx",
                       "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                       key="dl_report_docx", on_click="ignore", icon=":material/description:")  # fmt: skip
    render_handin(f, report)


def hand_in(db: Store, workspace: str, report: Report) -> object:
    """Store a new immutable version of the report (PDF, DOCX and its content) in the workspace."""
    return db.add_handin(workspace, content=to_json(report), pdf=report_pdf(report), docx=report_docx(report))


def when(moment: dt.datetime, f: Frame) -> str:
    """A stored UTC moment in the server's local time, written the language's way."""
    local = moment.astimezone()
    return f.t("report.ui.when", date=local.strftime("%d.%m.%Y" if f.lang == "ru" else "%Y-%m-%d"),
               time=local.strftime("%H:%M"))  # fmt: skip


def render_handin(f: Frame, report: Report) -> None:
    """«Hand in» and the versions handed in so far, each downloadable."""
    st.subheader(f.t("report.ui.handin"))
    st.caption(f.t("report.ui.handin_help"))
    if not report.title.student.strip():
        st.info(f.t("report.ui.name_needed"))
    if st.button(f.t("report.ui.handin_button"), type="primary", key="report_handin",
                 disabled=not report.title.student.strip(), icon=":material/send:"):  # fmt: skip
        db = store()
        try:
            workspace = current_workspace(create=True)
            _save_profile()
            db.set_text(workspace, CONCLUSIONS, report.conclusions)
            with st.spinner(f.t("report.ui.handing_in")):
                info = hand_in(db, workspace, report)
        except StoreError as exc:
            st.error(exc.text(f.lang))
        else:
            st.success(f.t("report.ui.handed_in", version=info.version, when=when(info.created_at, f)))
    workspace = current_workspace()
    if workspace is None:
        return
    versions = store().handins(workspace)
    if not versions:
        return
    st.markdown(f"**{f.t('report.ui.versions')}**")
    for version in reversed(versions):
        c1, c2, c3 = st.columns([3, 1, 1])
        c1.markdown(f.t("report.ui.version", version=version.version, when=when(version.created_at, f),
                        kb=format_number(version.size_bytes / 1024, f.lang, ".0f")))  # fmt: skip
        for column, kind, mime in ((c2, "pdf", "application/pdf"), (c3, "docx", "application/octet-stream")):
            column.download_button(
                kind.upper(), lambda v=version, k=kind: store().handin_file(workspace, v.id, k) or b"",
                f"report_v{version.version}.{kind}", mime, key=f"dl_handin_{version.id}_{kind}", on_click="ignore",
            )  # fmt: skip
