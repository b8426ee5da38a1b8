"""Train: textbook hyper-parameters, live progress and curve, the result joins this session's models."""

import time

import plotly.graph_objects as go
import streamlit as st

from lib import checkpoint as ckpt_io
from lib.data import train_val_split
from lib.jobs import TrainingJob
from lib.models import REGISTRY
from lib.train import TrainConfig, history_csv
from lib.ui import cache
from lib.ui.frame import add_session_model, frame
from lib.ui.widgets import noise_controls

JOB = "train_job"
RUNS = "train_runs"

f = frame("page.train", ("keep_train_",))
st.caption(f.t("train.intro"))
job: TrainingJob | None = st.session_state.get(JOB)
busy = job is not None and job.active

left, right = st.columns([1, 2])
with left:
    model_name = st.selectbox(
        f.t("train.model"),
        list(REGISTRY),
        key="keep_train_model",
        format_func=lambda k: f.t(f"model.{k}"),
        disabled=busy,
    )
    with st.expander(f.t("noise.header"), expanded=False):
        noise = noise_controls(f, "train")
    epochs = st.number_input(f.t("train.epochs"), 1, 120, 5, key="keep_train_epochs", help=f.t("train.epochs_help"))
    lr = st.number_input(f.t("train.lr"), 1e-5, 1.0, 0.003, step=0.0005, format="%.4f", key="keep_train_lr")
    batch = st.select_slider(f.t("train.batch"), [8, 16, 32, 64, 128, 256], 32, key="keep_train_batch")
    stop_loss = st.number_input(
        f.t("train.stop_loss"),
        0.0,
        1.0,
        0.0063,
        step=0.0005,
        format="%.4f",
        key="keep_train_stop",
        help=f.t("train.stop_help"),
    )
    subset = st.slider(
        f.t("train.subset"), 500, 58000, 6000, step=500, key="keep_train_subset", help=f.t("train.subset_help")
    )
    seed = st.number_input(f.t("train.seed"), 0, 2**31 - 1, 0, key="keep_train_seed")
    fresh = st.toggle(f.t("train.fresh_noise"), True, key="keep_train_fresh", help=f.t("train.fresh_help"))

    start_col, stop_col = st.columns(2)
    if start_col.button(f.t("train.start"), type="primary", disabled=busy, key="train_start", width="stretch"):
        config = TrainConfig(
            model=model_name, epochs=int(epochs), lr=float(lr), batch_size=int(batch), stop_loss=float(stop_loss),
            seed=int(seed), limit=int(subset), fresh_noise=bool(fresh), val_size=1000,
        )  # fmt: skip
        train_part, val_part = train_val_split(cache.train_digits(), 1000)
        job = TrainingJob(config, noise, train_part, val_part, cache.training_slots(), cache.device())
        st.session_state[JOB] = job
        job.start()
        busy = True
    if stop_col.button(f.t("train.stop"), disabled=not busy, key="train_stop", width="stretch"):
        job.stop()


def curve(history: list[dict[str, float]], running: list[tuple[float, float]]) -> go.Figure:
    """Running train loss (left axis) and validation PSNR after each epoch (right axis)."""
    fig = go.Figure()
    if running:
        fig.add_scatter(x=[e for e, _ in running], y=[v for _, v in running], name=f.t("train.loss"), mode="lines")
    if history:
        fig.add_scatter(x=[r["epoch"] for r in history], y=[r.get("val_psnr") for r in history],
                        name=f.t("train.val_psnr"), mode="lines+markers", yaxis="y2")  # fmt: skip
    fig.update_layout(
        height=340, margin=dict(l=10, r=10, t=30, b=10), xaxis=dict(title=f.t("train.epoch"), rangemode="tozero"),
        yaxis=dict(title=f.t("train.loss"), nticks=6, rangemode="tozero"),
        yaxis2=dict(title=f.t("unit.psnr"), overlaying="y", side="right", nticks=6, tickformat=".1f", showgrid=False),
        legend=dict(orientation="h", y=-0.25),
    )  # fmt: skip
    return fig


def register_result(job: TrainingJob) -> None:
    """Add the finished model to this session's picker, once."""
    runs = st.session_state.setdefault(RUNS, [])
    if any(r is job for r in runs):
        return
    runs.append(job)
    name = f"{job.config.model}-{len(runs)}-{time.strftime('%H%M%S')}"
    add_session_model(cache.LoadedModel(f"session:{name}", job.result, job.result.build(cache.device())), select=True)
    job.name = name


@st.fragment(run_every=1.0 if busy else None)
def progress_panel() -> None:
    job: TrainingJob | None = st.session_state.get(JOB)
    if job is None:
        st.info(f.t("train.idle"))
        return
    p = job.snapshot()
    if job.state == "queued":
        running, waiting = cache.training_slots().load()
        st.warning(f.t("train.queued", running=running, capacity=cache.training_slots().capacity, waiting=waiting))
    if p is not None:
        eta = f"{p.eta:.0f}" if p.eta == p.eta else "…"
        st.progress(min(p.fraction, 1.0), text=f.t("train.progress", epoch=p.epoch, epochs=p.epochs, step=p.step,
                                                     steps=p.steps_per_epoch, loss=p.loss, eta=eta))  # fmt: skip
        if job.active:
            st.plotly_chart(curve(p.history, job.curve()), key="train_curve")
    if job.state == "failed":
        st.error(f.t("train.failed", error=job.error))
    if job.state in ("done", "stopped") and job.result is not None:
        newly = not any(r is job for r in st.session_state.get(RUNS, []))
        register_result(job)
        st.success(f.t("train.finished" if job.state == "done" else "train.stopped", name=job.name,
                       epochs=len(job.result.history)))  # fmt: skip
        st.plotly_chart(curve(job.result.history, job.curve()), key="train_curve_final")
        c1, c2 = st.columns(2)
        c1.download_button(f.t("train.download_weights"), ckpt_io.to_bytes(job.result), f"{job.name}.pt",
                           "application/octet-stream", key="dl_weights")  # fmt: skip
        c2.download_button(f.t("train.download_history"), history_csv(job.result.history),
                           f"{job.name}_history.csv", "text/csv", key="dl_history")  # fmt: skip
        if newly:
            st.rerun(scope="app")  # refresh the sidebar's model picker


with right:
    progress_panel()
    with st.expander(f.t("train.load_header")):
        weights_file = st.file_uploader(
            f.t("train.load_weights"), type=["pt"], key="train_load_weights", max_upload_size=20
        )
        if weights_file is not None and st.session_state.get("train_loaded_id") != weights_file.file_id:
            try:
                loaded = ckpt_io.load_bytes(weights_file.getvalue(), weights_file.name)
            except ckpt_io.CheckpointError as exc:
                st.error(f.t("train.load_failed", error=str(exc)))
            else:
                name = weights_file.name.removesuffix(".pt")
                loaded_model = cache.LoadedModel(f"session:{name}", loaded, loaded.build(cache.device()))
                add_session_model(loaded_model, select=True)
                st.session_state["train_loaded_id"] = weights_file.file_id
                st.rerun()
        if st.session_state.get("train_loaded_id"):
            st.success(f.t("train.loaded"))
