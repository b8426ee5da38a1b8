"""The teacher's page: login with lockout, the class table and hand-ins, the experiment board, class settings."""

from __future__ import annotations

import hashlib
import os
import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lib.i18n import format_duration, format_number
from lib.store import ACTIVE, CLASS_DEFAULTS, Store
from lib.teacher import (
    TEACHER_DEFAULTS,
    BoardRow,
    ClassRow,
    Lockout,
    board_row,
    class_rows,
    configured_password,
    handin_name_parts,
    handins_zip,
    password_matches,
)
from lib.ui import cache, server
from lib.ui.frame import Frame
from lib.ui.handin import CLASS_PARAM, escape, store, when
from lib.ui.plots import SYMBOLS, TRACE_COLOURS

AUTH = "teacher_auth"  # a digest of the password this session logged in with (a changed password logs it out)
ALL = "__all__"
SETTING_KEYS = ("course", "lab_title", "training_max_images", "training_parallel", "training_at_once",
                "expiry_days", "idle_minutes", "quota_models", "quota_images", "quota_mb")  # fmt: skip


@st.cache_resource(show_spinner=False)
def lockout() -> Lockout:
    """The server process's one failed-login counter."""
    return Lockout()


def password() -> str | None:
    """The configured teacher password, or None."""
    try:
        secret = st.secrets.get("teacher", {}).get("password")
    except Exception:  # no secrets file
        secret = None
    return configured_password(secret, os.environ)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def logged_in() -> bool:
    """Whether this session logged in with the password configured now."""
    expected = password()
    return expected is not None and st.session_state.get(AUTH) == _digest(expected)


def login(f: Frame) -> bool:
    """The login form (or how to set a password); True when this session is the teacher's."""
    expected = password()
    if expected is None:
        st.warning(f.t("teacher.no_password"))
        st.code(
            '[teacher]\npassword = "…"', language=None, wrap_lines=True
        )  # plain: highlighted TOML is under 4.5:1 contrast
        st.caption(f.t("teacher.no_password_env"))
        return False
    if logged_in():
        if st.sidebar.button(f.t("teacher.logout"), key="teacher_logout"):
            st.session_state.pop(AUTH, None)
            st.rerun()
        return True
    with st.form("teacher_login"):
        given = st.text_input(f.t("teacher.password"), type="password", key="teacher_password")
        submitted = st.form_submit_button(f.t("teacher.login"), type="primary")
    if submitted:
        wait = lockout().wait_left()
        if wait > 0:
            st.error(f.t("teacher.locked", seconds=max(1, round(wait))))
        elif password_matches(given or "", expected):
            lockout().succeeded()
            st.session_state[AUTH] = _digest(expected)
            st.session_state.pop("teacher_password", None)
            st.rerun()
        else:
            wait = lockout().failed()
            st.error(f.t("teacher.wrong") + (" " + f.t("teacher.locked", seconds=round(wait)) if wait else ""))
    return False


def _psnr(value: float | None, f: Frame) -> str:
    return "—" if value is None else f"{format_number(value, f.lang, '.2f')} {f.t('common.unit.db')}"


def class_link(code: str) -> str:
    """The address to hand out for a class code."""
    base = (getattr(st.context, "url", "") or "").split("?")[0]
    return f"{base}?{CLASS_PARAM}={code}"


def render_class(f: Frame, db: Store, rows: list[ClassRow]) -> None:
    """The class table; the chosen student's hand-ins, conclusions and deletion; all hand-ins as one ZIP."""
    st.caption(f.t("teacher.class_caption", n=len(rows), handed=sum(1 for r in rows if r.handins)))
    table = pd.DataFrame(
        {
            f.t("teacher.col.name"): [r.name or "—" for r in rows],
            f.t("teacher.col.group"): [r.group or "—" for r in rows],
            f.t("teacher.col.code"): [r.class_code or "—" for r in rows],
            f.t("teacher.col.last_seen"): [when(r.last_seen, f) for r in rows],
            f.t("teacher.col.models"): [r.models for r in rows],
            f.t("teacher.col.best_psnr"): [_psnr(r.best_psnr, f) for r in rows],
            f.t("teacher.col.handed_in"): [
                f.t("teacher.handed", version=r.handins, when=when(r.last_handin, f)) if r.last_handin else "—"
                for r in rows
            ],
        }
    )
    event = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                         key="teacher_class_table")  # fmt: skip
    handed = [r for r in rows if r.handins]
    if handed:

        def everything() -> bytes:
            latest = []
            for r in handed:
                versions = db.handins(r.workspace_id)
                if versions:
                    v = versions[-1]
                    latest.append((r, v.version, lambda kind, w=r.workspace_id, i=v.id: db.handin_file(w, i, kind)))
            return handins_zip(latest)

        st.download_button(f.t("teacher.download_all", n=len(handed)), everything, "handins.zip", "application/zip",
                           key="teacher_zip", on_click="ignore", icon=":material/folder_zip:")  # fmt: skip
    chosen = event.selection.rows if event is not None else []
    if not chosen:
        st.info(f.t("teacher.pick_row"))
        return
    row = rows[chosen[0]]
    st.subheader(row.name or f.t("teacher.unnamed"))
    versions = db.handins(row.workspace_id)
    if not versions:
        st.caption(f.t("teacher.no_handins"))
    for v in reversed(versions):
        with st.expander(
            f.t("teacher.version", version=v.version, when=when(v.created_at, f)), expanded=v is versions[-1]
        ):
            stem = "_".join(handin_name_parts(row.group, row.name or "student")) + f"_v{v.version}"
            c1, c2 = st.columns(2)
            for column, kind, mime in ((c1, "pdf", "application/pdf"), (c2, "docx", "application/octet-stream")):
                column.download_button(kind.upper(), lambda w=row.workspace_id, i=v.id, k=kind: db.handin_file(w, i, k) or b"",
                                       f"{stem}.{kind}", mime, key=f"teacher_dl_{v.id}_{kind}", on_click="ignore")  # fmt: skip
            content = v.content or {}
            summary = content.get("summary") or []
            if summary:
                st.dataframe(pd.DataFrame({
                    f.t("teacher.col.model"): [s["model"] for s in summary],
                    "PSNR": [_psnr(s.get("psnr"), f) for s in summary],
                    "SSIM": ["—" if s.get("ssim") is None else format_number(s["ssim"], f.lang, ".3f") for s in summary],
                }), hide_index=True, width="stretch")  # fmt: skip
            st.markdown(f"**{f.t('teacher.conclusions')}**")
            st.text(content.get("conclusions") or f.t("report.no_conclusions"))
    with st.expander(f.t("teacher.delete_header")):
        sure = st.checkbox(f.t("teacher.delete_confirm", name=row.name or "—"), key=f"teacher_sure_{row.workspace_id}")
        if st.button(
            f.t("teacher.delete"), disabled=not sure, key=f"teacher_delete_{row.workspace_id}", type="primary"
        ):
            db.delete_workspace(row.workspace_id)
            st.session_state.pop("teacher_class_table", None)
            st.toast(f.t("teacher.deleted"))
            st.rerun()


def board_figure(f: Frame, rows: list[BoardRow], metric: str, colour: str) -> go.Figure:
    """PSNR against digits seen, one colour per learning rate or batch size; large type for a projector."""
    cache.plotly_ready()
    fig = go.Figure()
    groups: dict[float | None, list[BoardRow]] = {}
    for r in rows:
        groups.setdefault(r.lr if colour == "lr" else r.batch, []).append(r)
    # smallest value first, unknown last; each group its own colour-blind-safe colour and its own marker symbol
    ordered = sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or 0.0))
    for i, (value, members) in enumerate(ordered):
        points = [(r.digits_seen, getattr(r, metric)) for r in members if r.digits_seen and getattr(r, metric)]
        if points:
            label = "—" if value is None else format_number(value, f.lang, "g")
            fig.add_scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="markers", name=label,
                            marker=dict(size=14, color=TRACE_COLOURS[i % len(TRACE_COLOURS)],
                                        symbol=SYMBOLS[i % len(SYMBOLS)], line=dict(width=1, color="white")))  # fmt: skip
    fig.update_layout(
        height=560, font=dict(size=18), margin=dict(l=20, r=20, t=30, b=20), plot_bgcolor="white", showlegend=True,
        xaxis_title=f.t("teacher.board.digits_seen"), yaxis_title=f.t(f"teacher.board.{metric}"),
        legend_title_text=f.t(f"teacher.board.colour.{colour}"), separators=",\u202f" if f.lang == "ru" else ".,",
        xaxis=dict(rangemode="tozero", tickformat=",d", automargin=True, gridcolor="#e5e5e5"),
        yaxis=dict(automargin=True, gridcolor="#e5e5e5"),
    )  # fmt: skip
    return fig


def noise_label(f: Frame, noise: dict) -> str:
    """A training's noise in the page's language: kind and its parameters."""
    if not noise:
        return "—"
    from lib.report.content import AppliedNoise
    from lib.report.layout import noise_text

    try:
        applied = AppliedNoise(str(noise["kind"]), float(noise.get("mean", 0.0)), float(noise.get("var", 0.0)),
                               float(noise.get("speckle", 0.0)), bool(noise.get("clip", True)), 0)  # fmt: skip
    except (KeyError, TypeError, ValueError):
        return "—"
    return noise_text(applied, f.lang).rsplit(", ", 1)[0]  # without the seed: a training draws fresh noise


def stop_training(db: Store, training_id: int) -> bool:
    """Ask a stored training to stop (its runner reads stop_reason) and stop it here if this process runs it."""
    db.update_training(training_id, stop_reason="teacher")
    stopped = False
    for job in server.training_queue().jobs():
        if getattr(job, "training_id", None) == training_id:
            job.stop("teacher")
            stopped = True
    return stopped


def render_board(f: Frame, db: Store, rows: list[ClassRow]) -> None:
    """Every training of the class: settings → PSNR, digits seen, time; a chart made to be projected."""
    trainings = [board_row(tr) for tr in db.trainings_of([r.workspace_id for r in rows])]  # oldest first
    live = server.training_queue().jobs()
    if live:
        st.subheader(f.t("teacher.running_here", n=len(live)))
        for n, job in enumerate(live, 1):
            c1, c2 = st.columns([4, 1])
            c1.write(f.t("teacher.job", n=n, model=f.t(f"model.{job.config.model}"), lr=job.config.lr,
                         batch=job.config.batch_size, state=f.t(f"teacher.state.{job.state}")))  # fmt: skip
            if c2.button(f.t("teacher.stop"), key=f"teacher_stop_job_{id(job)}"):
                job.stop("teacher")
                st.toast(f.t("teacher.stopped"))
    if not trainings:
        st.info(f.t("teacher.board.empty"))
        return
    c1, c2 = st.columns(2)
    metric = c1.radio(f.t("teacher.board.metric"), ["psnr_gaussian", "psnr_speckle"], horizontal=True,
                      key="keep_teacher_metric", persist_state="session",
                      format_func=lambda m: f.t(f"teacher.board.{m}"))  # fmt: skip
    colour = c2.radio(f.t("teacher.board.colour"), ["lr", "batch"], horizontal=True, key="keep_teacher_colour",
                      persist_state="session", format_func=lambda c: f.t(f"teacher.board.colour.{c}"))  # fmt: skip
    # the figure's own large type (no app theme over it): readable from the back of a room
    st.plotly_chart(board_figure(f, trainings, metric, colour), key="teacher_board_chart", theme=None)
    table = pd.DataFrame({
        "#": list(range(1, len(trainings) + 1)),
        f.t("teacher.board.model"): [f.t(f"model.{b.model}") if b.model else "—" for b in trainings],
        f.t("teacher.board.lr"): ["—" if b.lr is None else format_number(b.lr, f.lang, "g") for b in trainings],
        f.t("teacher.board.batch"): [b.batch for b in trainings],
        f.t("teacher.board.epochs"): [f"{format_number(b.epochs, f.lang, 'g')} / {b.epochs_total}" for b in trainings],
        f.t("teacher.board.subset"): ["—" if not b.subset else format_number(b.subset, f.lang, ",") for b in trainings],
        f.t("teacher.board.noise"): [noise_label(f, b.noise) for b in trainings],
        f.t("teacher.board.psnr_gaussian"): [_psnr(b.psnr_gaussian, f) for b in trainings],
        f.t("teacher.board.psnr_speckle"): [_psnr(b.psnr_speckle, f) for b in trainings],
        f.t("teacher.board.digits_seen"): ["—" if not b.digits_seen else format_number(b.digits_seen, f.lang, ",")
                                           for b in trainings],
        f.t("teacher.board.time"): [format_duration(b.seconds, f.lang) if b.seconds else "—" for b in trainings],
        f.t("teacher.board.status"): [f.t(f"teacher.state.{b.status}") for b in trainings],
    })  # fmt: skip
    st.dataframe(table, hide_index=True, width="stretch")
    active = [b for b in trainings if b.status in ACTIVE]
    for b in active:
        n = trainings.index(b) + 1
        if st.button(f.t("teacher.stop_n", n=n), key=f"teacher_stop_{b.training_id}"):
            stop_training(db, b.training_id)
            st.toast(f.t("teacher.stopped"))


def render_settings(f: Frame, db: Store) -> None:
    """Class settings kept in the database: report title, training caps, expiry, quotas."""
    current = {**TEACHER_DEFAULTS, **CLASS_DEFAULTS, **db.class_settings()}
    with st.form("teacher_settings"):
        values = {
            "course": st.text_input(f.t("teacher.set.course"), current["course"], max_chars=200),
            "lab_title": st.text_input(
                f.t("teacher.set.lab_title"), current["lab_title"], max_chars=200, placeholder=f.t("report.default_lab")
            ),  # fmt: skip
        }
        c1, c2 = st.columns(2)
        numbers = (
            (c1, "training_max_images", 1000, 10_000_000), (c1, "training_parallel", 1, 64),
            (c1, "training_at_once", 1, 64), (c2, "expiry_days", 1, 3650), (c2, "idle_minutes", 1, 1440),
            (c2, "quota_models", 1, 1000), (c2, "quota_images", 1, 10_000), (c1, "quota_mb", 1, 10_000),
        )  # fmt: skip
        for column, key, low, high in numbers:
            values[key] = int(column.number_input(f.t(f"teacher.set.{key}"), low, high, int(current[key]), step=1,
                                                  key=f"teacher_set_{key}"))  # fmt: skip
        st.caption(f.t("teacher.set.restart_note"))
        if st.form_submit_button(f.t("teacher.set.save"), type="primary"):
            for key, value in values.items():
                db.set_class_setting(key, value.strip() if isinstance(value, str) else value)
            st.success(f.t("teacher.set.saved"))
    st.subheader(f.t("teacher.link_header"))
    code = st.text_input(f.t("teacher.code"), key="teacher_code", max_chars=40, help=f.t("teacher.code_help"))
    if code:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", code):
            st.error(f.t("teacher.code_bad"))
        else:
            st.code(class_link(code), language=None, wrap_lines=True)


def render_teacher(f: Frame) -> None:
    """The whole page after login."""
    db = store()
    summaries = db.overview()
    codes = sorted({w.class_code for w in summaries if w.class_code})
    code = ALL
    if codes:
        code = st.selectbox(f.t("teacher.filter"), [ALL, *codes], key="teacher_filter",
                            format_func=lambda c: f.t("teacher.all") if c == ALL else c)  # fmt: skip
    rows = class_rows(w for w in summaries if code == ALL or w.class_code == code)
    empty = [r for r in rows if not r.name and not r.group and not r.models and not r.handins]
    # a visit that never got further (a link opened once, the teacher's own first page) is not a student
    if empty and not st.toggle(f.t("teacher.show_empty", n=len(empty)), key="teacher_show_empty"):
        rows = [r for r in rows if r not in empty]
    tab_class, tab_board, tab_settings = st.tabs([f.t("teacher.tab.class"), f.t("teacher.tab.board"),
                                                  f.t("teacher.tab.settings")])  # fmt: skip
    with tab_class:
        render_class(f, db, rows)
    with tab_board:
        render_board(f, db, rows)
    with tab_settings:
        render_settings(f, db)


__all__ = ["escape", "login", "logged_in", "render_teacher"]
