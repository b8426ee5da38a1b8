"""Cached, read-only resources shared by all sessions (never mutate what these return)."""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch
from PIL import Image
from torch import nn

from lib import checkpoint as ckpt_io
from lib.data import PROJECT_ROOT, Digits, load_split
from lib.device import pick_device
from lib.jobs import TrainingQueue
from lib.lab import Triples, make_triples
from lib.noise import NoiseConfig

WEIGHTS_DIR = PROJECT_ROOT / "weights"
# Server-wide training settings a teacher can change: environment variable, or a [training] table in
# .streamlit/secrets.toml (see docs/deploy.md). max_images caps one run at epochs × training digits.
TRAINING_DEFAULTS = {"max_images": 400_000, "parallel": 2, "at_once": 2, "threads": 1}
SESSION_GRACE_S = 15.0  # a closed tab's training stops this long after its session ended (a reload reconnects)


@dataclass(frozen=True)
class LoadedModel:
    """A checkpoint and its model, ready for inference (eval mode)."""

    key: str
    checkpoint: ckpt_io.Checkpoint
    model: nn.Module
    name: str = ""  # a workspace model's display name (shipped models are named by their file)

    @property
    def source(self) -> str:
        """Where it comes from: "shipped" (a file in weights/), "workspace" (kept) or "session" (this tab only)."""
        return self.key.split(":", 1)[0]

    @property
    def label(self) -> str:
        """Its own name: the display name, else the key's part after the source (a shipped file's stem)."""
        return self.name or self.key.split(":", 1)[-1]


@st.cache_resource(show_spinner=False)
def test_digits() -> Digits:
    """The 10,000 MNIST test digits."""
    return load_split("test")


@st.cache_resource(show_spinner=False)
def train_digits() -> Digits:
    """The 60,000 MNIST training digits."""
    return load_split("train")


@st.cache_resource(show_spinner=False)
def device() -> torch.device:
    """The compute device of this server; on a CPU also torch's thread count for the whole process."""
    chosen = pick_device("auto")
    if chosen.type == "cpu":
        # Pages compute on a few 28×28 images: many students' runs side by side, one thread each, serve a
        # class better than every run spreading over all cores; trainings take turns on one such thread.
        torch.set_num_threads(training_setting("threads"))
    return chosen


def shipped_weights() -> list[Path]:
    """The checkpoints shipped in weights/, sorted by name."""
    return sorted(WEIGHTS_DIR.glob("*.pt"))


@st.cache_resource(show_spinner=False)
def shipped_model(path_str: str, mtime: float) -> LoadedModel:
    """Load one shipped checkpoint (mtime in the key so a replaced file is reloaded)."""
    path = Path(path_str)
    loaded = ckpt_io.load(path)
    return LoadedModel(f"shipped:{path.stem}", loaded, loaded.build(device()))


def training_setting(name: str) -> int:
    """A training setting: env CLASSROOM_TRAIN_<NAME>, else the teacher's class setting (the store), else secrets
    [training] <name>, else the default."""
    value = os.environ.get(f"CLASSROOM_TRAIN_{name.upper()}")
    if value is None:
        try:
            from lib.ui.workspace import store

            value = store().class_settings().get(f"training_{name}")
        except Exception:  # no store reachable: the other sources hold
            value = None
    if value is None:
        try:
            value = st.secrets.get("training", {}).get(name)
        except Exception:  # no secrets file, or one that does not parse: the defaults hold
            value = None
    try:
        number = int(value) if value is not None else TRAINING_DEFAULTS[name]
    except (TypeError, ValueError):
        number = TRAINING_DEFAULTS[name]
    return max(1, number)


def session_alive(session_id: str) -> bool:
    """Whether the browser session is still connected (True outside a real server, e.g. under AppTest)."""
    from streamlit import runtime

    if not runtime.exists():
        return True
    return runtime.get_instance().is_active_session(session_id)


def current_session_id() -> str:
    """This run's session id ('' outside a real session)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def _watch(queue: TrainingQueue, period: float = 5.0) -> None:
    """Server-wide watchdog: a workspace's training stops (its model kept) once no page of the workspace has
    been open for the teacher's idle time (default 15 min); a session's own training 15 s after it ended."""
    from lib.ui import workspace

    registry = workspace.workspace_jobs()
    idle = {"seconds": 15 * 60.0, "read_at": -1e9}

    def idle_seconds() -> float:
        if time.monotonic() - idle["read_at"] > 60:  # the teacher's setting, read once a minute
            idle["read_at"] = time.monotonic()
            with contextlib.suppress(Exception):  # the database unreachable: the last value holds
                idle["seconds"] = 60.0 * float(workspace.store().class_setting("idle_minutes"))
        return idle["seconds"]

    def owner_alive(job_owner: str) -> bool:
        workspace_owned = any(j.owner == job_owner and j.workspace_id for j in queue.jobs())
        if workspace_owned:
            return registry.workspace_open(job_owner, session_alive)
        return session_alive(job_owner)

    def grace(job) -> float:
        return idle_seconds() if job.workspace_id else SESSION_GRACE_S

    while True:
        time.sleep(period)
        try:
            queue.reap(owner_alive, grace)
            registry.prune(session_alive)  # ended trainings of closed workspaces: memory back, models in the store
        except Exception:  # the watchdog must outlive a surprise; the next round tries again
            import logging

            logging.getLogger(__name__).exception("training watchdog")


@st.cache_resource(show_spinner=False)
def training_queue() -> TrainingQueue:
    """The one queue that orders and limits trainings on this server, with its session watchdog."""
    queue = TrainingQueue(training_setting("parallel"), at_once=training_setting("at_once"))
    threading.Thread(target=_watch, args=(queue,), name="training-watchdog", daemon=True).start()
    return queue


@st.cache_resource(show_spinner=False, ttl=600, max_entries=16)
def training_speed(model: str, batch_size: int):
    """This server's training speed for a model and batch size, measured now and again every ten minutes
    (so it follows the server's load); a few short real trainings, about a second."""
    from lib.noise import preset
    from lib.presets import measure_speed

    return measure_speed(model, batch_size, preset("B"), train_digits(), device())


def plotly_ready() -> None:
    """Call before building a plotly figure: makes sure pandas is fully imported in this process.

    plotly checks `sys.modules` for pandas without importing it; while another session's thread is halfway
    through importing pandas, that finds a half-initialised module and the page fails (AttributeError:
    partially initialized module 'pandas'). A real import statement waits until the import has finished.
    """
    import pandas  # noqa: F401


def png_tile(image: np.ndarray, size: int) -> bytes:
    """A [0, 1] image (H, W) enlarged to size×size with crisp pixels, as PNG bytes ready for st.image.

    Streamlit would encode an array as JPEG (blurred edges around the digit's pixels), then decode it twice
    and resize it to the requested width; a PNG of exactly that width passes through untouched.
    """
    arr = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    rows = np.arange(size) * arr.shape[0] // size  # nearest-neighbour source row of each output row
    cols = np.arange(size) * arr.shape[1] // size
    pixels = (arr[rows][:, cols] * 255.0).round().astype(np.uint8)  # (size, size)
    buf = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


@st.cache_resource(show_spinner=False, max_entries=256)
def lab_triples(model_key: str, _model: nn.Module, indices: tuple[int, ...], noise: NoiseConfig, seed: int) -> Triples:
    """Noise-lab triples of a shipped model, shared by every session that asks for the same ones (read-only)."""
    return make_triples(_model, test_digits().images[list(indices)], noise, seed, device())
