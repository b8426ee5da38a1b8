"""Train: textbook hyper-parameters, live progress and curve, the result joins this session's models."""

import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lib import checkpoint as ckpt_io
from lib.data import train_val_split
from lib.i18n import format_duration, slug
from lib.jobs import RUNNER, STALE_S, TrainingJob, best_psnr, keep_interrupted, settings_configs, start_job
from lib.limits import UPLOAD_LIMIT_BYTES
from lib.models import REGISTRY
from lib.presets import Preset, changed, presets
from lib.safe_names import clean_name, markdown_text
from lib.store import ACTIVE, TRAIN_MODEL_SETTING, StoreError, TrainingInfo
from lib.train import SCHEDULES, history_csv, recipe
from lib.ui import cache, server, workspace
from lib.ui.frame import PENDING_MODEL, add_session_model, frame
from lib.ui.my_models import models_panel
from lib.ui.plots import number_style
from lib.ui.uploads import file_uploader
from lib.ui.widgets import chart_table, noise_controls

JOB = "train_job"
PRESET = "train_preset"  # the preset last applied: "classroom" or "textbook" (a plain entry, not a widget)
LR_CHOICES = [0.0001, 0.0003, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1]
STOP_CHOICES = [0.0, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0063, 0.008, 0.01, 0.02]
RUNS = "train_runs"
SEEN = "train_seen_end"  # the job whose end the page has already redrawn for

f = frame("train.page")
st.caption(f.t("train.intro"))
ws = f.workspace_id
registry = workspace.workspace_jobs()
# The workspace's training, whichever tab or session started it: a reload reattaches to its live progress.
job: TrainingJob | None = (registry.job(ws) if ws else None) or st.session_state.get(JOB)
st.session_state[JOB] = job
busy = job is not None and job.active


def preset_text(preset: Preset, edited: list[str]) -> str:
    """What the preset set, field by field, where it departs from Appendix 1 and why, and what was changed since."""
    v = preset.fields()
    text = f.t(f"train.preset.{preset.name}", epochs=v["epochs"], lr=v["lr"], batch=v["batch_size"],
               stop=v["stop_loss"], digits=v["subset"])  # fmt: skip
    if edited:
        text += " " + f.t("train.edited", fields=", ".join(f.t(f"train.field.{name}") for name in edited))
    return text


left, right = st.columns([1, 2])
with left:
    model_name = st.selectbox(
        f.t("train.model"),
        list(REGISTRY),
        key=TRAIN_MODEL_SETTING,
        persist_state="session",
        placeholder=f.t("common.choose"),
        format_func=lambda k: f.t(f"model.{k}"),
        disabled=busy,
    )
    with st.expander(f.t("noise.header"), expanded=False):
        noise = noise_controls(f, "train")
    cap = server.training_setting("max_images")
    PRESETS = presets(cap)
    PRESET_KEYS = {"epochs": "keep_train_epochs", "lr": "keep_train_lr", "batch_size": "keep_train_batch",
                   "stop_loss": "keep_train_stop", "schedule": "keep_train_schedule", "subset": "keep_train_subset",
                   "fresh_noise": "keep_train_fresh"}  # fmt: skip
    st.session_state.setdefault(PRESET, "classroom")
    for name, value in PRESETS["classroom"].fields().items():  # the page opens on the classroom preset
        st.session_state.setdefault(PRESET_KEYS[name], value)

    def use_preset(name: str) -> None:
        """One click: every field the preset covers takes its value (the caption below lists them)."""
        for field, value in PRESETS[name].fields().items():
            st.session_state[PRESET_KEYS[field]] = value
        st.session_state[PRESET] = name

    classroom_col, book_col = st.columns(2)
    classroom_col.button(f.t("train.classroom"), key="train_use_classroom", on_click=use_preset, args=("classroom",),
                         disabled=busy, width="stretch")  # fmt: skip
    book_col.button(f.t("train.textbook"), key="train_use_textbook", on_click=use_preset, args=("textbook",),
                    disabled=busy, width="stretch")  # fmt: skip
    preset_caption = st.empty()  # filled below, once the fields' values are known
    epochs = st.number_input(
        f.t("train.epochs"), 1, 120, key="keep_train_epochs", persist_state="session", help=f.t("train.epochs_help")
    )
    # choices instead of free number fields: their labels follow the UI's language ("0,003"), a field's do not
    lr = st.select_slider(
        f.t("train.lr"), LR_CHOICES, key="keep_train_lr", persist_state="session", format_func=lambda v: f.num(v, "g")
    )
    batch = st.select_slider(
        f.t("train.batch"), [8, 16, 32, 64, 128, 256], key="keep_train_batch", persist_state="session"
    )
    stop_loss = st.select_slider(
        f.t("train.stop_loss"),
        STOP_CHOICES,
        key="keep_train_stop",
        persist_state="session",
        format_func=lambda v: f.num(v, "g") if v else f.t("train.no_stop"),
        help=f.t("train.stop_help"),
    )
    schedule = st.selectbox(
        f.t("train.schedule"),
        SCHEDULES,
        key="keep_train_schedule",
        persist_state="session",
        placeholder=f.t("common.choose"),
        format_func=lambda k: f.t(f"train.schedule.{k}"),
        help=f.t("train.schedule_help"),
    )
    subset = st.slider(
        f.t("train.subset"),
        500,
        58000,
        step=500,
        key="keep_train_subset",
        persist_state="session",
        help=f.t("train.subset_help"),
        format="%d",
    )
    seed = st.number_input(f.t("train.seed"), 0, 2**31 - 1, 0, key="keep_train_seed", persist_state="session")
    fresh = st.toggle(
        f.t("train.fresh_noise"), key="keep_train_fresh", persist_state="session", help=f.t("train.fresh_help")
    )
    chosen = PRESETS[st.session_state[PRESET]]
    values = {"epochs": int(epochs), "lr": float(lr), "batch_size": int(batch), "stop_loss": float(stop_loss),
              "schedule": schedule, "subset": int(subset), "fresh_noise": bool(fresh)}  # fmt: skip
    preset_caption.caption(preset_text(chosen, changed(chosen, values)))

    queue = server.training_queue()
    planned = int(epochs) * int(subset)
    too_long = planned > cap and not busy
    if too_long:
        st.warning(f.t("train.over_cap", epochs=int(epochs), digits=int(subset), images=planned, cap=cap))
    elif not busy:
        running, _ = queue.load()
        sharing = min(queue.capacity, running + 1)
        with st.spinner(f.t("train.measuring")):
            speed = cache.training_speed(model_name, int(batch))  # measured on this server, at its current load
        seconds = speed.expected_seconds(int(epochs), int(subset), queue.slowdown(sharing))
        key = "train.expected" if queue.slowdown(sharing) == 1 else "train.expected_shared"
        text = f.t(key, duration=format_duration(seconds, f.lang), epochs=int(epochs), digits=int(subset))
        if stop_loss > 0:
            text += " " + f.t("train.expected_stop")
        st.caption(text, help=f.t("train.expected_help"))
    start_col, stop_col = st.columns(2)
    start = start_col.button(
        f.t("train.start"), type="primary", disabled=busy or too_long, key="train_start", width="stretch"
    )
    if start and not busy:
        config = recipe(
            "classroom",
            model=model_name, epochs=int(epochs), lr=float(lr), batch_size=int(batch), stop_loss=float(stop_loss),
            seed=int(seed), limit=int(subset), fresh_noise=bool(fresh), val_size=1000, schedule=schedule,
        )  # fmt: skip
        train_part, val_part = train_val_split(cache.train_digits(), 1000)
        number = sum(k.startswith(workspace.MODEL_PREFIX) for k in f.models) + 1
        name = f.t("common.sidebar.my_model", n=number)
        try:
            if ws:  # the workspace owns it: kept in the store as it runs, one per workspace
                job = start_job(workspace.store(), ws, config, noise, train_part, val_part, queue, registry, name,
                                cache.device(), number=number)  # fmt: skip
            else:  # the store is unreachable: a training of this session only
                job = TrainingJob(config, noise, train_part, val_part, queue, cache.device(),
                                  owner=server.current_session_id(), name=name)  # fmt: skip
                job.start()
        except StoreError as exc:  # another tab's training runs, or no room for one more model
            st.error(exc.text(f.lang))
        else:
            st.session_state[JOB] = job
            st.rerun()  # draw the whole page again: Start greyed out, Stop live, the progress panel polling
    queued = busy and job.state == "queued"
    if stop_col.button(f.t("train.cancel" if queued else "train.stop"), disabled=not busy, key="train_stop",
                       width="stretch"):  # fmt: skip
        job.stop()


def thin(points: list[tuple[float, float]], most: int = 600) -> list[tuple[float, float]]:
    """Every k-th point (and the last) so the chart sent each second stays small."""
    step = max(1, len(points) // most)
    return points[::step] + ([points[-1]] if points and (len(points) - 1) % step else [])


def curve(history: list[dict[str, float]], running: list[tuple[float, float]]) -> go.Figure:
    """Smoothed batch loss over fractional epochs (left axis) and validation PSNR after each epoch (right axis)."""
    cache.plotly_ready()
    fig = go.Figure()
    if running:
        shown = thin(running)
        fig.add_scatter(x=[e for e, _ in shown], y=[v for _, v in shown], name=f.t("train.loss"), mode="lines")
    if history:
        fig.add_scatter(x=[r["epoch"] for r in history], y=[r.get("val_psnr") for r in history],
                        name=f.t("train.val_psnr"), mode="lines+markers", yaxis="y2")  # fmt: skip
    fig.update_layout(
        height=340, margin=dict(l=10, r=10, t=30, b=10), xaxis=dict(title=f.t("train.epoch"), rangemode="tozero"),
        yaxis=dict(title=f.t("train.loss"), nticks=6, rangemode="tozero"),
        yaxis2=dict(title=f.t("common.unit.psnr"), overlaying="y", side="right", nticks=6, tickformat=".1f", showgrid=False),
        legend=dict(orientation="h", y=-0.25),
    )  # fmt: skip
    return fig


def register_result(job: TrainingJob) -> None:
    """Select the finished model in the picker, once (a workspace's model is already in the store)."""
    runs = st.session_state.setdefault(RUNS, [])
    if any(r is job for r in runs):
        return
    runs.append(job)
    if job.model_id is not None:
        st.session_state[PENDING_MODEL] = workspace.model_key(job.model_id)
        return
    name = job.name or f"{job.config.model}-{len(runs)}-{time.strftime('%H%M%S')}"
    add_session_model(cache.LoadedModel(f"session:{name}", job.result, job.result.build(cache.device()), name),
                      select=True)  # fmt: skip
    job.name = name


def training_name(info: TrainingInfo) -> str:
    """The name a training's model gets, in the page's language (its number is kept with its settings)."""
    number = info.settings.get("number")
    return f.t("common.sidebar.my_model", n=number) if number else info.settings.get("name") or str(info.id)


def interrupted_panel() -> None:
    """Trainings a stopped server cut off: «interrupted at epoch k of N» with Resume and Keep as it is."""
    store = workspace.store()
    for info in store.trainings(ws, statuses=("interrupted",))[:3]:
        name = training_name(info)
        if info.resume_epoch:
            st.warning(f.t("store.train.interrupted", name=name, k=info.resume_epoch, n=info.epochs_total))
        else:
            st.warning(f.t("store.train.interrupted_none", name=name))
        c1, c2 = st.columns(2)
        if c1.button(f.t("store.train.resume"), key=f"resume_{info.id}", type="primary", disabled=busy,
                     help=f.t("store.train.resume_help", k=info.resume_epoch + 1), width="stretch"):  # fmt: skip
            train_part, val_part = train_val_split(cache.train_digits(), 1000)
            config, noise = settings_configs(info.settings)
            try:
                resumed = start_job(store, ws, config, noise, train_part, val_part, server.training_queue(), registry,
                                    name, cache.device(), resume_training=info.id)  # fmt: skip
            except StoreError as exc:
                st.error(exc.text(f.lang))
            else:
                st.session_state[JOB] = resumed
                st.rerun()
        keep_label = "store.train.keep" if info.resume_epoch else "store.train.discard"
        if c2.button(f.t(keep_label), key=f"keep_{info.id}", width="stretch"):
            model_id = keep_interrupted(store, ws, info.id, name)
            if model_id is not None:
                st.session_state[PENDING_MODEL] = workspace.model_key(model_id)
            st.rerun()


def foreign_active() -> TrainingInfo | None:
    """A queued or running training of this workspace that this server process does not run (another process,
    or one that stopped: those turn 'interrupted' once their heartbeat is STALE_S old)."""
    store = workspace.store()
    rows = store.trainings(ws, statuses=ACTIVE)
    if not rows or (job is not None and job.active and job.training_id == rows[0].id):
        return None
    if store.mark_interrupted(STALE_S, keep_runner=RUNNER):
        rows = store.trainings(ws, statuses=ACTIVE)
    return rows[0] if rows else None


@st.fragment(run_every=2.0)
def foreign_panel() -> None:
    """Progress of the workspace's training run elsewhere, read from the store until it ends or is interrupted."""
    info = foreign_active()
    if info is None:
        st.rerun(scope="app")
    p = info.progress
    st.info(f.t("store.train.elsewhere", epoch=p.get("epoch", 0), epochs=info.epochs_total))
    st.progress(min(info.epochs_done / max(info.epochs_total, 1), 1.0))


def show_status(job: TrainingJob) -> None:
    """Where the job is, right under Start: its place in the queue, or the progress bar with the ETA and speed."""
    queue = server.training_queue()
    info = queue.info(job)
    if job.state == "queued" and info.place:  # (place 0: it got its slot just now)
        st.warning(f.t("train.queued", place=info.place, running=info.running, capacity=info.capacity,
                       start=format_duration(info.start_in, f.lang),
                       duration=format_duration(queue.expected_seconds(job.planned_images, info.capacity), f.lang)))  # fmt: skip
        st.progress(0.0)
        return
    p = job.snapshot()
    if p is None:  # the slot is taken, the first batch is on its way
        st.progress(0.0, text=f.t("train.preparing"))
        return
    eta = format_duration(job.remaining_seconds(), f.lang)
    st.progress(min(p.fraction, 1.0), text=f.t("train.progress", epoch=p.epoch, epochs=p.epochs, step=p.step,
                                                 steps=p.steps_per_epoch, loss=p.loss, eta=eta))  # fmt: skip
    if p.images:
        st.caption(f.t("train.speed", rate=p.images_per_second, epoch_s=p.epoch_seconds))


def result_name(job: TrainingJob) -> str:
    """The finished model's one display name, the picker's ("Моя модель 2"), also in the file names."""
    key = f"workspace:{job.model_id}" if getattr(job, "model_id", None) is not None else f"session:{job.name}"
    return f.name(key)


def finished_text(job: TrainingJob) -> str:
    """Done (or stopped): the model's name, epochs run and images seen (a stopped epoch counts as its part)."""
    info = job.result.train
    return f.t("train.finished" if job.state == "done" else "train.stopped", name=result_name(job),
               epochs=info.get("epochs_run", len(job.result.history)), images=info.get("images_seen", 0))  # fmt: skip


@st.fragment(run_every=1.0 if busy else None)
def progress_line() -> None:
    """The running job's progress where the student has just pressed Start (the form is taller than a laptop)."""
    job: TrainingJob | None = st.session_state.get(JOB)
    if job is not None and job.active:
        show_status(job)
    elif job is not None and job.result is not None and st.session_state.get(SEEN) is job:
        # the student is looking here, under Start, when it ends: say so here too (the panel is at the top)
        st.success(finished_text(job))
        st.caption(f.t("train.finished_here"))


def show_progress(job: TrainingJob) -> None:
    """The live curve of a running job (its progress bar is under Start)."""
    p = job.snapshot()
    if p is None:
        st.info(f.t("train.status_left"))
        return
    st.plotly_chart(number_style(curve(p.history, job.curve()), f.lang), key="train_curve")


@st.fragment(run_every=1.0 if busy else None)
def progress_panel() -> None:
    job: TrainingJob | None = st.session_state.get(JOB)
    if job is None:
        st.info(f.t("train.idle"))
        return
    if job.active:
        show_progress(job)
        return
    if st.session_state.get(SEEN) is not job:  # it has just ended: redraw the page so Start is live again
        st.session_state[SEEN] = job
        if job.state in ("done", "stopped") and job.result is not None:
            register_result(job)  # joins (and is selected in) the sidebar's picker on that rerun
        st.rerun(scope="app")
    if job.state == "failed":
        st.error(f.t(job.error_key or "train.error.other"))
        with st.expander(f.t("train.error.details")):
            st.code(job.error or "", language=None, wrap_lines=True)
    elif job.result is None:
        st.info(f.t("train.cancelled"))
    else:
        register_result(job)
        shown_name = result_name(job)
        info = job.result.train
        st.success(finished_text(job))
        if info.get("images_per_s") and job.result.history:
            st.caption(f.t("train.speed", rate=info["images_per_s"],
                           epoch_s=job.result.history[-1]["seconds"] / max(info["epochs_run"], 1e-9)))  # fmt: skip
        st.plotly_chart(number_style(curve(job.result.history, job.curve()), f.lang), key="train_curve_final")
        rows = job.result.history
        chart_table(f, pd.DataFrame({f.t("train.epoch"): [r["epoch"] for r in rows],
                                     f.t("train.loss"): [r.get("train_loss") for r in rows],
                                     f.t("train.val_psnr"): [r.get("val_psnr") for r in rows]}),
                    key="train_curve_table")  # fmt: skip
        c1, c2 = st.columns(2)
        c1.download_button(f.t("train.download_weights"), ckpt_io.to_bytes(job.result), f"{slug(shown_name)}.pt",
                           "application/octet-stream", key="dl_weights")  # fmt: skip
        c2.download_button(f.t("train.download_history"), history_csv(job.result.history),
                           f"{slug(shown_name)}_history.csv", "text/csv", key="dl_history")  # fmt: skip


with left:
    progress_line()
with right:
    if ws:
        interrupted_panel()
        if not busy and foreign_active() is not None:
            foreign_panel()
    progress_panel()
    models_panel(f)
    with st.expander(f.t("train.load_header")):
        weights_file = file_uploader(f.t("train.load_weights"), "train_load_weights", f.lang, ("pt",))
        if weights_file is not None and st.session_state.get("train_loaded_id") != weights_file.file_id:
            try:
                loaded = ckpt_io.load_bytes(weights_file.getvalue(), weights_file.name, UPLOAD_LIMIT_BYTES)
            except ckpt_io.CheckpointError as exc:
                st.error(f.t("train.load_failed", error=exc.text(f.lang, markdown_text)))
            else:
                name = clean_name(weights_file.name).removesuffix(".pt")
                try:
                    if ws:  # kept first, then shown: the picker reads it back from the store
                        kept = workspace.store().add_model(
                            ws, display_name=name, checkpoint=weights_file.getvalue(), source="uploaded",
                            architecture=loaded.model_config.name, history=loaded.history, metrics=loaded.metrics,
                            best_psnr=best_psnr(loaded.history), epochs=float(loaded.train.get("epochs_run", 0.0)),
                        )  # fmt: skip
                        st.session_state[PENDING_MODEL] = workspace.model_key(kept.id)
                    else:
                        loaded_model = cache.LoadedModel(f"session:{name}", loaded, loaded.build(cache.device()), name)
                        add_session_model(loaded_model, select=True)
                except StoreError as exc:
                    st.error(exc.text(f.lang))
                else:
                    st.session_state["train_loaded_id"] = weights_file.file_id
                    st.rerun()
        if st.session_state.get("train_loaded_id"):
            st.success(f.t("train.loaded"))
