"""Background training for the app: a job per workspace, a fair queue per server, a bounded number computing at once.

A job given a store writes its progress (a heartbeat every few seconds), a resumable state after every whole
epoch and finally its model into the workspace store, so a reload, another tab or a restarted server finds it.
"""

from __future__ import annotations

import io
import logging
import math
import os
import secrets
import socket
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from lib.checkpoint import Checkpoint
from lib.data import Digits
from lib.model_names import canonical_model
from lib.noise import NoiseConfig
from lib.store.api import PICKED_MODEL_SETTING, model_picker_key
from lib.train import NoTrainingDigits, Progress, TrainConfig, train

log = logging.getLogger(__name__)

# A first guess of one core's training speed (seconds per image, Table 1 model, the page's default
# classroom recipe at batch 64, validation included: 6,000 digits × 5 epochs in ≈ 5 s, bench/train_share.py)
# until this server has measured its own; every finished epoch updates the estimate.
PRIOR_SECONDS_PER_IMAGE = 0.0002
CURVE_POINTS = 4000  # loss points kept per job (older ones are thinned, the curve keeps its shape)
HEARTBEAT_S = 3.0  # a job in the store writes its progress this often (its heartbeat)
STALE_S = 20.0  # a queued or running training without a heartbeat this long was cut off (server stopped)
# This server process, as written into the trainings it runs (host, pid and a random part: pids repeat).
RUNNER = f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(4)}"


def state_to_bytes(state: dict[str, Any]) -> bytes:
    """A training's per-epoch state (lib.train's on_epoch_state) as bytes for the store."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def state_from_bytes(data: bytes) -> dict[str, Any]:
    """The per-epoch state back (weights_only: stored bytes never run code)."""
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def training_settings(config: TrainConfig, noise: NoiseConfig) -> dict[str, Any]:
    """What the store keeps of a training's settings (JSON): the train and noise configs."""
    from dataclasses import asdict

    return {"train": asdict(config), "noise": asdict(noise)}


def settings_configs(settings: dict[str, Any]) -> tuple[TrainConfig, NoiseConfig]:
    """The train and noise configs back from `training_settings` (a model's former name gives today's)."""
    train = dict(settings["train"])
    if "model" in train:
        train["model"] = canonical_model(train["model"])
    return TrainConfig(**train), NoiseConfig(**settings["noise"])


def best_psnr(history: list[dict[str, float]]) -> float | None:
    """The best validation PSNR in a history (None without validation)."""
    values = [row["val_psnr"] for row in history if isinstance(row.get("val_psnr"), (int, float))]
    return max(values) if values else None


class Turns:
    """At most `holders` trainings compute at once, each for a time slice of steps, first come first served.

    Slices rather than single steps: every hand-over wakes another thread and refills the caches, and with
    steps of a few milliseconds handing over after each one cost about a quarter of the trainings' time.
    """

    def __init__(
        self, holders: int = 1, slice_seconds: float = 0.1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if holders < 1:
            raise ValueError("at least one training must be able to compute")
        self.holders = holders
        self.slice_seconds = slice_seconds
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()
        self._since: dict[int, float] = {}  # id(holder) → when it got its turn

    def acquire(self, who: object) -> None:
        """Wait until it is `who`'s turn."""
        with self._cond:
            self._queue.append(who)
            while len(self._since) >= self.holders or self._queue[0] is not who:
                self._cond.wait()
            self._queue.popleft()
            self._since[id(who)] = self._clock()
            self._cond.notify_all()  # the next in line may fit too

    def release(self, who: object) -> None:
        """End `who`'s turn (no-op if it does not hold one)."""
        with self._cond:
            if self._since.pop(id(who), None) is not None:
                self._cond.notify_all()

    def yield_turn(self, who: object) -> None:
        """Between two steps: once `who`'s slice is used up and someone waits, let them run, then continue."""
        with self._cond:
            since = self._since.get(id(who))
            if not self._queue or since is None or self._clock() - since < self.slice_seconds:
                return
        self.release(who)
        self.acquire(who)


@dataclass(frozen=True)
class QueueInfo:
    """What a student sees about their job: place in the queue, trainings running, seconds until it starts."""

    place: int  # 1-based among the waiting jobs, 0 when running or not queued
    running: int
    waiting: int
    capacity: int
    start_in: float  # seconds until a slot is expected to be free for this job (0 when running)


class TrainingQueue:
    """Server-wide: at most `capacity` trainings hold a slot, the rest wait in order of arrival.

    Of those holding a slot, at most `at_once` compute at the same moment (`Turns`, in time slices), each on
    torch's intra-op threads (a process-wide setting); the pages keep the rest of the machine.
    """

    def __init__(self, capacity: int = 2, seconds_per_image: float = PRIOR_SECONDS_PER_IMAGE, at_once: int = 1) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.at_once = max(1, min(at_once, capacity))
        self.turns = Turns(self.at_once)
        self._cond = threading.Condition()
        self._waiting: list[TrainingJob] = []
        self._running: list[TrainingJob] = []
        self._seconds_per_image = seconds_per_image  # one training alone, this server, measured
        self._gone_since: dict[int, float] = {}  # id(job) → when its session was first seen gone

    # slots ------------------------------------------------------------------------------------------
    def enter(self, job: TrainingJob) -> None:
        """Join the end of the queue."""
        with self._cond:
            self._waiting.append(job)
            self._cond.notify_all()

    def wait_for_slot(self, job: TrainingJob, poll: float = 0.2, timeout: float | None = None) -> bool:
        """Block until `job` is first in line and a slot is free; False if it was stopped while waiting, or
        (still in line) when `timeout` seconds passed."""
        until = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if until is not None and time.monotonic() >= until and not job.stop_event.is_set():
                    return False
                if job.stop_event.is_set():
                    if job in self._waiting:
                        self._waiting.remove(job)
                    self._cond.notify_all()
                    return False
                if self._waiting and self._waiting[0] is job and len(self._running) < self.capacity:
                    self._waiting.pop(0)
                    self._running.append(job)
                    return True
                self._cond.wait(poll)

    def leave(self, job: TrainingJob) -> None:
        """Free the job's slot (or its place in line)."""
        with self._cond:
            if job in self._running:
                self._running.remove(job)
            if job in self._waiting:
                self._waiting.remove(job)
            self._gone_since.pop(id(job), None)
            self._cond.notify_all()

    def load(self) -> tuple[int, int]:
        """(running, waiting) right now."""
        with self._cond:
            return len(self._running), len(self._waiting)

    def jobs(self) -> list[TrainingJob]:
        """Running jobs, then waiting ones in order."""
        with self._cond:
            return [*self._running, *self._waiting]

    # time estimates --------------------------------------------------------------------------------
    @property
    def seconds_per_image(self) -> float:
        """One training's measured time per image when it runs alone."""
        return self._seconds_per_image

    def observe(self, seconds: float, images: int, sharing: int) -> None:
        """Update the speed estimate from `images` trained in `seconds` while `sharing` trainings ran."""
        if images <= 0 or seconds <= 0:
            return
        solo = seconds / images / self.slowdown(sharing)
        with self._cond:
            self._seconds_per_image = 0.7 * self._seconds_per_image + 0.3 * solo

    def slowdown(self, sharing: int) -> float:
        """How much slower each of `sharing` running trainings goes than one alone: they share `at_once` turns."""
        return max(1.0, sharing / self.at_once)

    def expected_seconds(self, images: int, sharing: int | None = None) -> float:
        """How long `images` training steps' worth of images take while `sharing` trainings run."""
        if sharing is None:
            running, _ = self.load()
            sharing = min(self.capacity, running + 1)
        return images * self._seconds_per_image * self.slowdown(sharing)

    def info(self, job: TrainingJob) -> QueueInfo:
        """The job's place in line and when it is expected to start."""
        with self._cond:
            running, waiting = list(self._running), list(self._waiting)
        if job not in waiting:
            return QueueInfo(0, len(running), len(waiting), self.capacity, 0.0)
        place = waiting.index(job) + 1
        # Slots free up as running jobs finish; each job ahead then takes the first free slot.
        free_at = sorted(j.remaining_seconds(self) for j in running)
        free_at += [0.0] * (self.capacity - len(free_at))
        for ahead in waiting[: place - 1]:
            start = free_at.pop(0)
            free_at.append(start + self.expected_seconds(ahead.planned_images, self.capacity))
            free_at.sort()
        return QueueInfo(place, len(running), len(waiting), self.capacity, free_at[0])

    # sessions that are gone -----------------------------------------------------------------------
    def reap(self, session_alive: Callable[[str], bool], grace: float | Callable[[TrainingJob], float] = 15.0,
             now: float | None = None) -> list:  # fmt: skip
        """Stop jobs whose owner (a session, or a workspace with no open session) has been gone for `grace`
        seconds (a number, or a function of the job: a workspace's training waits the teacher's idle time)."""
        now = time.monotonic() if now is None else now
        stopped = []
        for job in self.jobs():
            if not job.owner or session_alive(job.owner):
                self._gone_since.pop(id(job), None)
                continue
            since = self._gone_since.setdefault(id(job), now)
            limit = grace(job) if callable(grace) else grace
            if now - since >= limit and not job.stop_event.is_set():
                job.stop(reason="session_ended")
                stopped.append(job)
        return stopped


def _utcnow() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc)


def failure_key(exc: BaseException) -> str:
    """The translation key that explains a failed training to a student."""
    if isinstance(exc, NoTrainingDigits):
        return "train.error.no_digits"
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        return "train.error.memory"
    return "train.error.other"


@dataclass(eq=False)  # a job is itself, never equal to another job with the same settings
class TrainingJob:
    """One training run in a worker thread; the page reads `state`, `snapshot()` and `curve()` to draw."""

    config: TrainConfig
    noise: NoiseConfig
    train_digits: Digits
    val_digits: Digits
    queue: TrainingQueue
    device: torch.device | str = "cpu"
    owner: str = ""  # the session that started it; the job stops when that session is gone
    state: str = "new"  # new → queued → running → done | stopped | failed
    progress: Progress | None = None
    result: Checkpoint | None = None
    error: str | None = None  # the exception as text, for the log and the page's details
    error_key: str = ""  # the translation key of the student's explanation
    stop_reason: str = ""  # "user" or "session_ended"
    name: str = ""  # the model's name in the picker once it has joined it
    store: Any = None  # lib.store.Store: where progress, per-epoch state and the model are kept
    workspace_id: str = ""
    training_id: int | None = None  # its row in the store
    resume: dict[str, Any] | None = None  # a per-epoch state to continue from (lib.train's `resume`)
    model_id: int | None = None  # the kept model's id in the store, once kept
    number: int = 0  # "My model <number>": the name is shown in the page's language, so the number is kept
    _beat_at: float = 0.0
    loss_points: list[tuple[float, float]] = field(default_factory=list)  # (epochs done, smoothed batch loss)
    stop_event: threading.Event = field(default_factory=threading.Event)
    started_at: float = 0.0  # when it got its slot (monotonic)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _smoothed: float = math.nan

    @property
    def planned_images(self) -> int:
        """Images the run goes through if it is not stopped early: epochs × training digits."""
        n = len(self.train_digits) if self.config.limit is None else min(self.config.limit, len(self.train_digits))
        return self.config.epochs * n

    def start(self) -> None:
        """Queue the job and run it in a daemon thread so the page stays responsive."""
        self.state = "queued"
        self.queue.enter(self)
        self._thread = threading.Thread(target=self._run, name="training", daemon=True)
        self._thread.start()

    def _save(self, **values: Any) -> None:
        """Write to the job's training row; a database hiccup is logged, the training goes on."""
        if self.store is None or self.training_id is None:
            return
        try:
            self.store.update_training(self.training_id, **values)
        except Exception:
            log.exception("training %s: could not write its progress", self.training_id)

    def beat(self, force: bool = False) -> None:
        """Heartbeat: the progress so far into the store, at most every HEARTBEAT_S seconds."""
        now = time.monotonic()
        if self.store is None or (not force and now - self._beat_at < HEARTBEAT_S):
            return
        self._beat_at = now
        p = self.snapshot()
        values: dict[str, Any] = {"status": self.state if self.state in ("queued", "running") else "running"}
        if p is not None:
            values["epochs_done"] = float(p.epochs_done)
            values["progress"] = {"epoch": p.epoch, "epochs": p.epochs, "step": p.step, "steps": p.steps_per_epoch,
                                  "loss": float(p.loss), "history": [dict(r) for r in p.history]}  # fmt: skip
        self._save(**values)
        self._teacher_stop()

    def _teacher_stop(self) -> None:
        """The teacher's page (any server process) marks a training stop_reason = "teacher": stop here then."""
        try:
            row = self.store.training(self.workspace_id, self.training_id) if self.store is not None else None
        except Exception:  # the next heartbeat asks again
            return
        if row is not None and row.stop_reason == "teacher" and not self.stop_event.is_set():
            self.stop("teacher")

    def _on_epoch_state(self, state: dict[str, Any]) -> None:
        """After every whole epoch: model + optimiser state into the store (resume point)."""
        self._save(resume_state=state_to_bytes(state), resume_epoch=int(state["epoch"]),
                   epochs_done=float(state["epoch"]))  # fmt: skip

    def _keep_result(self, final: str) -> None:
        """The finished ('done') or stopped model into the workspace's store, before the page is told it is there."""
        if self.store is None or self.result is None:
            return
        from lib.checkpoint import to_bytes

        ckpt = self.result
        partial = final == "stopped"
        try:
            kept = self.store.add_model(
                self.workspace_id, display_name=self.name, checkpoint=to_bytes(ckpt),
                architecture=ckpt.model_config.name, source="partial" if partial else "trained",
                config=training_settings(self.config, self.noise) | {"name": self.name, "number": self.number},
                history=ckpt.history, metrics=ckpt.metrics,
                best_psnr=best_psnr(ckpt.history), epochs=float(ckpt.train.get("epochs_run", 0.0)),
                training_id=self.training_id, enforce_quota=False,
            )  # fmt: skip
            self.model_id = kept.id
            # a tab opened later (a reload, the link on another device) shows the new model picked, even when
            # no page of this workspace was open to see the training finish
            self.store.set_settings(self.workspace_id, {PICKED_MODEL_SETTING: model_picker_key(kept.id)})
        except Exception:
            log.exception("training %s: could not keep its model", self.training_id)

    def _on_progress(self, p: Progress) -> None:
        with self._lock:
            self.progress = p
            if not p.epoch_done:
                self._record_loss(p)
        self.beat()
        if p.epoch_done:  # learn this server's speed (wall time while taking turns with `running` others)
            running, _ = self.queue.load()
            self.queue.observe(p.train_seconds or p.elapsed, p.images or p.epoch * p.steps_per_epoch *
                               self.config.batch_size, max(1, running))  # fmt: skip
        self.queue.turns.yield_turn(self)

    def _record_loss(self, p: Progress) -> None:
        """The batch's loss, smoothed across epoch boundaries, as the next point of the curve."""
        # An exponential average over ~20 batches: the curve falls smoothly instead of restarting each epoch.
        loss = p.batch_loss
        self._smoothed = loss if math.isnan(self._smoothed) else 0.95 * self._smoothed + 0.05 * loss
        self.loss_points.append((p.epoch - 1 + p.step / p.steps_per_epoch, self._smoothed))
        if len(self.loss_points) > CURVE_POINTS:
            self.loss_points = self.loss_points[::2]

    def _run(self) -> None:
        while not self.queue.wait_for_slot(self, timeout=HEARTBEAT_S if self.store is not None else None):
            if self.stop_event.is_set():
                self._save(status="stopped", stop_reason=self.stop_reason or "user", finished_at=_utcnow())
                self.state = "stopped"
                return
            self.beat(force=True)  # still in line: tell the store this server is alive and holds the job
        self.queue.turns.acquire(self)
        try:
            self._save(status="running", started_at=_utcnow(), runner=RUNNER)
            self.state = "running"
            self.started_at = time.monotonic()
            self.result = train(
                self.config, self.noise, self.train_digits, self.val_digits, self.device,
                self._on_progress, self.stop_event, report_every=1,
                on_epoch_state=self._on_epoch_state if self.store is not None else None, resume=self.resume,
            )  # fmt: skip
            final = "stopped" if self.result.train.get("stopped_by_user") else "done"
            self._keep_result_as(final)
            self.state = final
        except Exception as exc:  # the page shows a message, never a traceback
            self.error = f"{type(exc).__name__}: {exc}"
            self.error_key = failure_key(exc)
            self._save(status="failed", error=self.error[:2000], finished_at=_utcnow())
            self.state = "failed"
            traceback.print_exc()
        finally:
            self.queue.turns.release(self)
            self.queue.leave(self)

    def _keep_result_as(self, final: str) -> None:
        """Keep the model, then mark the training row finished (the model first: nothing shown is unsaved)."""
        self._keep_result(final)
        train_info, history = self.result.train, [dict(row) for row in self.result.history]
        # The last heartbeat may be seconds old: the row gets the whole history, so the teacher's board has every
        # epoch's PSNR and the digits seen of a training shorter than one heartbeat too.
        progress = {"epoch": len(history), "epochs": self.config.epochs, "history": history,
                    "images_seen": int(train_info.get("images_seen", 0))}  # fmt: skip
        self._save(status=final, stop_reason=self.stop_reason if final == "stopped" else "",
                   epochs_done=float(train_info.get("epochs_run", 0.0)), resume_state=None, progress=progress,
                   finished_at=_utcnow(), model_id=self.model_id)  # fmt: skip

    def stop(self, reason: str = "user") -> None:
        """Ask the loop to finish after the current batch (the model so far is kept), or leave the queue."""
        if not self.stop_reason:
            self.stop_reason = reason
        self.stop_event.set()

    def snapshot(self) -> Progress | None:
        """The latest progress report."""
        with self._lock:
            return self.progress

    def curve(self) -> list[tuple[float, float]]:
        """A copy of the smoothed loss points so far: (epochs done as a fraction, loss)."""
        with self._lock:
            return list(self.loss_points)

    def remaining_seconds(self, queue: TrainingQueue | None = None) -> float:
        """Seconds until this job is expected to finish (its own measured pace once it runs)."""
        queue = queue or self.queue
        p = self.snapshot()
        if self.state == "running" and p is not None and p.fraction > 0.02:
            return p.eta
        if self.state == "running" and p is not None:
            return queue.expected_seconds(round(self.planned_images * (1 - p.fraction)))
        return queue.expected_seconds(self.planned_images)

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.state in ("queued", "running")

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def summary(self) -> dict[str, Any]:
        """Short dict for logs and tests."""
        return {"state": self.state, "epochs": self.result.train.get("epochs_run", 0.0) if self.result else 0.0, "error": self.error,
                "stop_reason": self.stop_reason}  # fmt: skip


class WorkspaceJobs:
    """Server-wide: each workspace's live training job (one at most) and the sessions that show each workspace.

    A reload or a second tab finds the job here by the workspace id; the watchdog asks `workspace_open` whether
    any of a workspace's sessions is still connected.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, TrainingJob] = {}
        self._sessions: dict[str, set[str]] = {}

    def job(self, workspace_id: str) -> TrainingJob | None:
        """The workspace's latest job started on this server (running or ended), if any."""
        with self._lock:
            return self._jobs.get(workspace_id)

    def set_job(self, workspace_id: str, job: TrainingJob) -> None:
        """Make `job` the workspace's current one."""
        with self._lock:
            self._jobs[workspace_id] = job

    def forget_job(self, workspace_id: str, job: TrainingJob) -> None:
        """Drop an ended job (its model is in the store) so its memory is freed."""
        with self._lock:
            if self._jobs.get(workspace_id) is job and not job.active:
                del self._jobs[workspace_id]

    def prune(self, session_alive: Callable[[str], bool]) -> int:
        """Forget ended jobs of workspaces with no open session (their models are in the store); returns how many."""
        with self._lock:
            ended = [(ws, job) for ws, job in self._jobs.items() if not job.active]
        gone = 0
        for ws, job in ended:
            if not self.workspace_open(ws, session_alive):
                self.forget_job(ws, job)
                gone += 1
        return gone

    def seen(self, workspace_id: str, session_id: str) -> None:
        """A session shows this workspace now."""
        if not session_id:
            return
        with self._lock:
            self._sessions.setdefault(workspace_id, set()).add(session_id)

    def workspace_open(self, workspace_id: str, session_alive: Callable[[str], bool]) -> bool:
        """Whether any session that showed the workspace is still connected (ended sessions are forgotten)."""
        with self._lock:
            sessions = set(self._sessions.get(workspace_id, ()))
        alive = {sid for sid in sessions if session_alive(sid)}
        with self._lock:
            if alive != sessions:
                current = self._sessions.get(workspace_id, set())
                current -= sessions - alive
                if not current:
                    self._sessions.pop(workspace_id, None)
        return bool(alive)


def checkpoint_from_state(settings: dict[str, Any], state: dict[str, Any]) -> Checkpoint:
    """The model as it was after the state's last whole epoch (Keep as it is, for an interrupted training)."""
    from dataclasses import asdict

    from lib.models import default_config

    config, noise = settings_configs(settings)
    history = [dict(row) for row in state.get("history", [])]
    metrics = {k: v for k, v in history[-1].items() if k.startswith("val_")} if history else {}
    train_info = asdict(config) | {"stopped_by_user": True, "epochs_run": float(state["epoch"]),
                                   "images_seen": int(state.get("seen", 0)), "interrupted": True}  # fmt: skip
    return Checkpoint(default_config(config.model), dict(state["model"]), noise, train_info, history, metrics)


def start_job(store: Any, workspace_id: str, config: TrainConfig, noise: NoiseConfig, train_digits: Digits,
              val_digits: Digits, queue: TrainingQueue, registry: WorkspaceJobs, name: str,
              device: torch.device | str = "cpu", resume_training: int | None = None,
              number: int = 0) -> TrainingJob:  # fmt: skip
    """Register a training in the store (or re-queue an interrupted one to resume it) and start it.

    Raises lib.store's TrainingBusy when the workspace already has a training queued or running (one per
    workspace, whatever the number of tabs) and QuotaExceeded when its model would not fit.
    """
    resume = None
    if resume_training is None:
        extra = {"name": name, "number": number}
        info = store.create_training(workspace_id, settings=training_settings(config, noise) | extra,
                                     epochs_total=config.epochs, runner=RUNNER)  # fmt: skip
    else:
        info = store.restart_training(workspace_id, resume_training, runner=RUNNER)
        config, noise = settings_configs(info.settings)
        number = int(info.settings.get("number", number))
        blob = store.resume_state(workspace_id, info.id) if info.has_resume_state else None
        resume = state_from_bytes(blob) if blob else None  # no whole epoch yet: it starts from the beginning
    job = TrainingJob(config, noise, train_digits, val_digits, queue, device, owner=workspace_id, name=name,
                      store=store, workspace_id=workspace_id, training_id=info.id, resume=resume,
                      number=number)  # fmt: skip
    registry.set_job(workspace_id, job)
    job.start()
    return job


def keep_interrupted(store: Any, workspace_id: str, training_id: int, name: str) -> int | None:
    """Keep an interrupted training's model as it was after its last whole epoch; returns the model id (None when
    no epoch had finished: nothing to keep). The training is marked 'kept' either way."""
    info = store.training(workspace_id, training_id)
    if info is None:
        return None
    blob = store.resume_state(workspace_id, training_id) if info.has_resume_state else None
    model_id = None
    if blob:
        from lib.checkpoint import to_bytes

        ckpt = checkpoint_from_state(info.settings, state_from_bytes(blob))
        kept = store.add_model(workspace_id, display_name=name, checkpoint=to_bytes(ckpt),
                               architecture=ckpt.model_config.name, source="partial", config=info.settings,
                               history=ckpt.history, metrics=ckpt.metrics, best_psnr=best_psnr(ckpt.history),
                               epochs=float(ckpt.train["epochs_run"]), training_id=training_id,
                               enforce_quota=False)  # fmt: skip
        model_id = kept.id
    store.update_training(training_id, status="kept", resume_state=None, model_id=model_id, finished_at=_utcnow())
    return model_id
