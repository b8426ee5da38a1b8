"""Server-wide matters shared by all sessions: the training settings, the training queue and its watchdog,
and which browser sessions are still connected."""

from __future__ import annotations

import contextlib
import os
import threading
import time

import streamlit as st

from lib.jobs import TrainingQueue

# Server-wide training settings a teacher can change: environment variable, or a [training] table in
# .streamlit/secrets.toml (see docs/deploy.md). max_images caps one run at epochs × training digits.
TRAINING_DEFAULTS = {"max_images": 400_000, "parallel": 2, "at_once": 2, "threads": 1}
SESSION_GRACE_S = 15.0  # a closed tab's training stops this long after its session ended (a reload reconnects)


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
