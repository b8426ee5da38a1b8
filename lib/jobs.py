"""Background training for the app: a job per session, a fair queue per server, a bounded number computing at once."""

from __future__ import annotations

import math
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
from lib.noise import NoiseConfig
from lib.train import NoTrainingDigits, Progress, TrainConfig, train

# A first guess of one core's training speed (seconds per image, Table 1 model, the page's default
# classroom recipe at batch 64, validation included: 6,000 digits × 5 epochs in ≈ 5 s, bench/train_share.py)
# until this server has measured its own; every finished epoch updates the estimate.
PRIOR_SECONDS_PER_IMAGE = 0.0002
CURVE_POINTS = 4000  # loss points kept per job (older ones are thinned, the curve keeps its shape)


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

    def wait_for_slot(self, job: TrainingJob, poll: float = 0.2) -> bool:
        """Block until `job` is first in line and a slot is free; False if it was stopped while waiting."""
        with self._cond:
            while True:
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
    def reap(self, session_alive: Callable[[str], bool], grace: float = 15.0, now: float | None = None) -> list:
        """Stop jobs whose session has been gone for `grace` seconds (a reload reconnects within that)."""
        now = time.monotonic() if now is None else now
        stopped = []
        for job in self.jobs():
            if not job.owner or session_alive(job.owner):
                self._gone_since.pop(id(job), None)
                continue
            since = self._gone_since.setdefault(id(job), now)
            if now - since >= grace and not job.stop_event.is_set():
                job.stop(reason="session_ended")
                stopped.append(job)
        return stopped


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
    loss_points: list[tuple[float, float]] = field(default_factory=list)  # (epochs done, smoothed batch loss)
    stop_event: threading.Event = field(default_factory=threading.Event)
    started_at: float = 0.0  # when it got its slot (monotonic)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _smoothed: float = math.nan
    _last_mean: tuple[int, int, float] = (0, 0, 0.0)  # (epoch, step, running mean) of the last report

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

    def _on_progress(self, p: Progress) -> None:
        with self._lock:
            self.progress = p
            if not p.epoch_done:
                self._record_loss(p)
        if p.epoch_done:  # learn this server's speed (wall time while taking turns with `running` others)
            running, _ = self.queue.load()
            self.queue.observe(p.train_seconds or p.elapsed, p.images or p.epoch * p.steps_per_epoch *
                               self.config.batch_size, max(1, running))  # fmt: skip
        self.queue.turns.yield_turn(self)

    def _record_loss(self, p: Progress) -> None:
        """Per-batch loss recovered from the epoch's running mean, smoothed across epoch boundaries."""
        epoch, step, mean = self._last_mean
        same_epoch = epoch == p.epoch and step < p.step
        batch_loss = (p.loss * p.step - mean * step) / (p.step - step) if same_epoch else p.loss
        self._last_mean = (p.epoch, p.step, p.loss)
        # An exponential average over ~20 batches: the curve falls smoothly instead of restarting each epoch.
        self._smoothed = batch_loss if math.isnan(self._smoothed) else 0.95 * self._smoothed + 0.05 * batch_loss
        self.loss_points.append((p.epoch - 1 + p.step / p.steps_per_epoch, self._smoothed))
        if len(self.loss_points) > CURVE_POINTS:
            self.loss_points = self.loss_points[::2]

    def _run(self) -> None:
        if not self.queue.wait_for_slot(self):
            self.state = "stopped"
            return
        self.queue.turns.acquire(self)
        try:
            self.state = "running"
            self.started_at = time.monotonic()
            self.result = train(
                self.config, self.noise, self.train_digits, self.val_digits, self.device,
                self._on_progress, self.stop_event, report_every=1,
            )  # fmt: skip
            self.state = "stopped" if self.result.train.get("stopped_by_user") else "done"
        except Exception as exc:  # the page shows a message, never a traceback
            self.error = f"{type(exc).__name__}: {exc}"
            self.error_key = failure_key(exc)
            self.state = "failed"
            traceback.print_exc()
        finally:
            self.queue.turns.release(self)
            self.queue.leave(self)

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
