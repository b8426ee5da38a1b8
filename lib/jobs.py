"""Background training for the app: a job per session, a few slots per server, a queue for the rest."""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass, field
from typing import Any

import torch

from lib.checkpoint import Checkpoint
from lib.data import Digits
from lib.noise import NoiseConfig
from lib.train import Progress, TrainConfig, train


class TrainingSlots:
    """How many trainings may run at once on this server (one object shared by all sessions)."""

    def __init__(self, capacity: int = 2) -> None:
        self.capacity = capacity
        self._sem = threading.BoundedSemaphore(capacity)
        self._lock = threading.Lock()
        self._running = 0
        self._waiting = 0

    def acquire(self, stop: threading.Event, poll: float = 0.2) -> bool:
        """Wait for a free slot; False if stopped while waiting."""
        with self._lock:
            self._waiting += 1
        try:
            while not stop.is_set():
                if self._sem.acquire(timeout=poll):
                    with self._lock:
                        self._running += 1
                    return True
            return False
        finally:
            with self._lock:
                self._waiting -= 1

    def release(self) -> None:
        with self._lock:
            self._running -= 1
        self._sem.release()

    def load(self) -> tuple[int, int]:
        """(running, waiting) right now."""
        with self._lock:
            return self._running, self._waiting


@dataclass
class TrainingJob:
    """One training run in a worker thread; the page reads `state` and `progress` to draw."""

    config: TrainConfig
    noise: NoiseConfig
    train_digits: Digits
    val_digits: Digits
    slots: TrainingSlots
    device: torch.device | str = "cpu"
    state: str = "new"  # new → queued → running → done | stopped | failed
    progress: Progress | None = None
    result: Checkpoint | None = None
    error: str | None = None
    name: str = ""  # the model's name in the picker once it has joined it
    loss_points: list[tuple[float, float]] = field(default_factory=list)  # (epochs done, running loss)
    stop_event: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        """Run in a daemon thread so the page stays responsive."""
        self.state = "queued"
        self._thread = threading.Thread(target=self._run, name="training", daemon=True)
        self._thread.start()

    def _on_progress(self, p: Progress) -> None:
        with self._lock:
            self.progress = p
            if not p.epoch_done and len(self.loss_points) < 5000:
                self.loss_points.append((p.epoch - 1 + p.step / p.steps_per_epoch, p.loss))

    def _run(self) -> None:
        if not self.slots.acquire(self.stop_event):
            self.state = "stopped"
            return
        try:
            self.state = "running"
            self.result = train(
                self.config, self.noise, self.train_digits, self.val_digits, self.device,
                self._on_progress, self.stop_event, report_every=10,
            )  # fmt: skip
            self.state = "stopped" if self.result.train.get("stopped_by_user") else "done"
        except Exception as exc:  # the page shows a message, never a traceback
            self.error = f"{type(exc).__name__}: {exc}"
            self.state = "failed"
            traceback.print_exc()
        finally:
            self.slots.release()

    def stop(self) -> None:
        """Ask the loop to finish after the current batch (the model so far is kept)."""
        self.stop_event.set()

    def snapshot(self) -> Progress | None:
        """The latest progress report."""
        with self._lock:
            return self.progress

    def curve(self) -> list[tuple[float, float]]:
        """A copy of the running-loss points so far."""
        with self._lock:
            return list(self.loss_points)

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.state in ("queued", "running")

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def summary(self) -> dict[str, Any]:
        """Short dict for logs and tests."""
        return {"state": self.state, "epochs": len(self.result.history) if self.result else 0, "error": self.error}
