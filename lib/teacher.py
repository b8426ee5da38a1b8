"""The teacher's view without Streamlit: the password check and its lockout, the class table, the experiment board,
and all hand-ins as one ZIP."""

from __future__ import annotations

import datetime as dt
import hmac
import io
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lib.model_names import canonical_model
from lib.safe_names import file_part

ENV_PASSWORD = "CLASSROOM_TEACHER_PASSWORD"
# Class settings the teacher's page edits, beside the store's own (quotas, expiry_days, idle_minutes).
TEACHER_DEFAULTS: dict[str, Any] = {
    "course": "",
    "lab_title": "",
    "training_max_images": 400_000,  # digits × epochs one training may plan
    "training_parallel": 2,  # trainings holding a place at once (the rest queue)
    "training_at_once": 2,  # of those, computing at the same moment
}


def configured_password(secret: object, env: Mapping[str, str]) -> str | None:
    """The teacher password: secrets `[teacher] password`, else the environment; None when neither is set (no default)."""
    for value in (secret, env.get(ENV_PASSWORD)):
        if isinstance(value, str) and value.strip():
            return value
    return None


def password_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of the UTF-8 bytes (the time taken says nothing about how much matched)."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class Lockout:
    """Failed logins slow down: after `free` failures each further one locks the form for twice as long (≤ `cap` s).

    One per server process, shared by every session: guessing from many tabs meets the same wait.
    """

    def __init__(self, free: int = 3, base: float = 2.0, cap: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.free, self.base, self.cap = free, base, cap
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._until = 0.0

    def wait_left(self) -> float:
        """Seconds until the next try is accepted (0 when it is now)."""
        with self._lock:
            return max(0.0, self._until - self._clock())

    def failed(self) -> float:
        """Count a failure; returns the seconds the form is now locked."""
        with self._lock:
            self._failures += 1
            extra = self._failures - self.free
            wait = min(self.cap, self.base * 2 ** (extra - 1)) if extra > 0 else 0.0
            self._until = self._clock() + wait
            return wait

    def succeeded(self) -> None:
        """A correct password clears the count."""
        with self._lock:
            self._failures, self._until = 0, 0.0


def handin_name_parts(group: str, name: str) -> tuple[str, str]:
    """A hand-in's folder (the group, "-" without one) and file stem (the name) as file-name parts ("ИВТ-21")."""
    return file_part(group or "-", 60, keep="-"), file_part(name, 60, keep="-")


@dataclass(frozen=True)
class ClassRow:
    """One student in the teacher's table."""

    workspace_id: str
    name: str
    group: str
    class_code: str
    last_seen: dt.datetime
    models: int
    best_psnr: float | None
    handins: int  # the latest version's number (versions are numbered 1, 2, …)
    last_handin: dt.datetime | None


def class_rows(overview: Iterable[Any]) -> list[ClassRow]:
    """The store's overview as table rows."""
    return [
        ClassRow(
            w.id,
            w.display_name,
            w.group,
            w.class_code,
            w.last_seen_at,
            w.models,
            w.best_psnr,
            w.handins,
            w.last_handin_at,
        )  # fmt: skip
        for w in overview
    ]


@dataclass(frozen=True)
class BoardRow:
    """One training of the class: its settings and what came out (no student names: the board is projected)."""

    training_id: int
    workspace_id: str
    status: str
    model: str
    lr: float | None
    batch: int | None
    epochs: float
    epochs_total: int
    subset: int | None
    noise: dict[str, Any]  # the training noise: kind, mean, var, speckle, clip
    psnr_gaussian: float | None
    psnr_speckle: float | None
    digits_seen: int | None
    seconds: float | None
    created_at: dt.datetime


def _last(history: list[dict], key: str) -> float | None:
    for row in reversed(history or []):
        value = row.get(key) if isinstance(row, dict) else None
        if isinstance(value, (int, float)):
            return float(value)
    return None


def board_row(training: Any) -> BoardRow:
    """What the board shows of one stored training (settings and progress as the training page records them)."""
    settings = training.settings or {}
    config = settings.get("train", settings)  # the train config, nested or flat
    progress = training.progress or {}
    history = progress.get("history") or []
    seen = progress.get("images_seen") or config.get("images_seen")
    if not seen and history:  # digits seen: each epoch's row counts the run's digits so far
        seen = max((r.get("images") or 0 for r in history if isinstance(r, dict)), default=0)
    seconds = None
    if training.started_at is not None:
        end = training.finished_at or training.heartbeat_at
        if end is not None:
            seconds = (end - training.started_at).total_seconds()
    lr, batch, limit = config.get("lr"), config.get("batch_size"), config.get("limit")
    return BoardRow(
        training_id=training.id,
        workspace_id=training.workspace_id,
        status=training.status,
        model=str(canonical_model(config.get("model", ""))),  # a training stored before a rename: today's name
        lr=float(lr) if isinstance(lr, (int, float)) else None,
        batch=int(batch) if isinstance(batch, (int, float)) else None,
        epochs=float(training.epochs_done or 0.0),
        epochs_total=int(training.epochs_total or 0),
        subset=int(limit) if isinstance(limit, (int, float)) and limit else None,
        noise=dict(settings.get("noise") or {}) if isinstance(settings.get("noise"), dict) else {},
        psnr_gaussian=_last(history, "val_psnr_gaussian") or progress.get("val_psnr_gaussian"),
        psnr_speckle=_last(history, "val_psnr_speckle") or progress.get("val_psnr_speckle"),
        digits_seen=int(seen) if isinstance(seen, (int, float)) and seen else None,
        seconds=seconds,
        created_at=training.created_at,
    )


def handins_zip(latest: Iterable[tuple[ClassRow, int, Callable[[str], bytes | None]]]) -> bytes:
    """Every student's latest hand-in (PDF and DOCX) in one ZIP: `group/name_vN.pdf`.

    latest: (student, version number, read(kind) → the file's bytes) per student who handed in.
    """
    buf = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for row, version, read in latest:
            folder, stem = handin_name_parts(row.group, row.name or row.workspace_id[:8])
            base = f"{folder}/{stem}_v{version}"
            if base in used:  # two students with the same name in a group: keep both
                base = f"{base}_{row.workspace_id[:6]}"
            used.add(base)
            for kind in ("pdf", "docx"):
                data = read(kind)
                if data:
                    archive.writestr(f"{base}.{kind}", data)
    return buf.getvalue()
