"""The workspace store's API: everything a student makes, read and written in short transactions.

Every method that reaches a student's data takes the workspace id and filters by it, so one workspace never
reads another's rows. Methods return plain frozen dataclasses (never live ORM objects), safe to cache and
share between threads. Student text (names, file names) is bound as parameters, never spliced into SQL.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lib.i18n import t
from lib.model_names import canonical_model, canonical_stem
from lib.store import schema as s
from lib.store.blobs import array_to_bytes, bytes_to_array
from lib.store.engine import describe_url, make_engine, migrate, resolve_url

log = logging.getLogger(__name__)

ID_BYTES = 18  # 144 random bits → 24 URL-safe characters
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{22,64}")
ACTIVE = ("queued", "running")  # training states that hold the workspace's one training place
PICKED_MODEL_SETTING = "keep_model"  # the setting that holds the model picker's choice
MODEL_PICKER_PREFIX = "workspace:"  # a kept model's key in the picker: "workspace:<model id>"
SHIPPED_PICKER_PREFIX = "shipped:"  # a shipped model's key in the picker: "shipped:<file stem>"
TRAIN_MODEL_SETTING = "keep_train_model"  # the setting that holds the Train page's model (a registry name)
MB = 1024 * 1024

# Teacher settings (class_settings) and their defaults.
CLASS_DEFAULTS: dict[str, Any] = {
    "quota_models": 20,  # models kept per workspace
    "quota_images": 300,  # drawings + uploads per workspace
    "quota_mb": 60,  # megabytes of models, images and report pictures per workspace
    "expiry_days": 30,  # a workspace unused this long is deleted by the cleanup
    "idle_minutes": 15,  # a training whose workspace has no open page this long is stopped (model kept)
}


def model_picker_key(model_id: int) -> str:
    """The picker key of a workspace's kept model."""
    return f"{MODEL_PICKER_PREFIX}{model_id}"


def new_workspace_id() -> str:
    """A fresh unguessable workspace id (144 random bits, URL-safe)."""
    return secrets.token_urlsafe(ID_BYTES)


def valid_workspace_id(text: object) -> bool:
    """Whether the text has the shape of a workspace id (says nothing about whether it exists)."""
    return isinstance(text, str) and ID_PATTERN.fullmatch(text) is not None


def short_id(workspace_id: str) -> str:
    """The first characters only, for logs: an id written to a log in full would be a key left lying around."""
    return f"{workspace_id[:4]}…" if workspace_id else "-"


class StoreError(Exception):
    """A problem to tell the student: `key` (locale key `store.error.<key>`) and its parameters."""

    def __init__(self, message: str, key: str, **params: object) -> None:
        super().__init__(message)
        self.key = key
        self.params = params

    def text(self, lang: str) -> str:
        """The problem in the UI language."""
        return t(f"store.error.{self.key}", lang, **self.params)


class QuotaExceeded(StoreError):
    """The workspace is full (models, images or megabytes); nothing was written."""


class UnknownWorkspace(StoreError):
    """No workspace with that id (deleted, expired or never created)."""


class TrainingBusy(StoreError):
    """The workspace already has a training queued or running (one at a time per workspace)."""


# ------------------------------------------------------------------------------------------------ records
@dataclass(frozen=True)
class WorkspaceInfo:
    """A workspace's identity and profile."""

    id: str
    display_name: str
    group: str
    class_code: str
    created_at: dt.datetime
    last_seen_at: dt.datetime


@dataclass(frozen=True)
class Quota:
    """Per-workspace limits."""

    models: int
    images: int
    megabytes: float


@dataclass(frozen=True)
class Usage:
    """What a workspace holds now."""

    models: int
    images: int
    bytes: int

    @property
    def megabytes(self) -> float:
        """Bytes in MiB."""
        return self.bytes / MB


@dataclass(frozen=True)
class ModelInfo:
    """A kept model without its weights (`Store.model_checkpoint` reads those)."""

    id: int
    workspace_id: str
    display_name: str
    architecture: str
    source: str
    config: dict
    history: list
    metrics: dict
    best_psnr: float | None
    epochs: float
    training_id: int | None
    size_bytes: int
    created_at: dt.datetime


@dataclass(frozen=True)
class TrainingInfo:
    """A training's state (without its resume checkpoint, see `Store.resume_state`)."""

    id: int
    workspace_id: str
    status: str
    stop_reason: str
    settings: dict
    progress: dict
    epochs_done: float
    epochs_total: int
    resume_epoch: int
    has_resume_state: bool
    model_id: int | None
    error: str
    runner: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    finished_at: dt.datetime | None

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.status in ACTIVE


@dataclass(frozen=True)
class ImageInfo:
    """A drawn or photographed digit: its prepared 28×28 (float, 0..1) and what made it."""

    id: int
    workspace_id: str
    source: str
    name: str
    prepared: np.ndarray = field(repr=False)
    strokes: Any
    has_original: bool
    preprocessing: dict
    noise: dict | None
    size_bytes: int
    created_at: dt.datetime


@dataclass(frozen=True)
class ReportItemInfo:
    """A report row: the settings and, when asked for, the stored pictures (`result`, .npz bytes)."""

    id: int
    workspace_id: str
    position: int
    kind: str
    name: str
    image_id: int | None
    settings: dict
    result: bytes | None = field(repr=False)
    size_bytes: int
    created_at: dt.datetime


@dataclass(frozen=True)
class HandinInfo:
    """A handed-in version; `content` is the report's JSON, files via `Store.handin_file`."""

    id: int
    workspace_id: str
    version: int
    content: dict = field(repr=False)
    has_pdf: bool
    has_docx: bool
    size_bytes: int
    created_at: dt.datetime


@dataclass(frozen=True)
class WorkspaceSummary:
    """One line of the teacher's list."""

    id: str
    display_name: str
    group: str
    class_code: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    models: int
    best_psnr: float | None
    handins: int
    last_handin_at: dt.datetime | None


def _workspace(row: s.Workspace) -> WorkspaceInfo:
    return WorkspaceInfo(row.id, row.display_name, row.group_name, row.class_code, row.created_at, row.last_seen_at)


def _model(row: Any) -> ModelInfo:
    # rows kept before a model's rename name it the old way; readers see today's name
    return ModelInfo(row.id, row.workspace_id, row.display_name, canonical_model(row.architecture), row.source,
                     row.config or {}, row.history or [], row.metrics or {}, row.best_psnr, row.epochs, row.training_id,
                     row.size_bytes, row.created_at)  # fmt: skip


def _training(row: Any) -> TrainingInfo:
    return TrainingInfo(row.id, row.workspace_id, row.status, row.stop_reason, row.settings or {},
                        row.progress or {}, row.epochs_done, row.epochs_total, row.resume_epoch,
                        bool(row.has_resume_state), row.model_id, row.error, row.runner, row.created_at,
                        row.started_at, row.heartbeat_at, row.finished_at)  # fmt: skip


MODEL_COLUMNS = [c for c in s.Model.__table__.c if c.name != "checkpoint"]
TRAINING_COLUMNS = [c for c in s.Training.__table__.c if c.name != "resume_state"] + [
    s.Training.resume_state.is_not(None).label("has_resume_state")
]
IMAGE_COLUMNS = [c for c in s.Image.__table__.c if c.name != "original"] + [
    s.Image.original.is_not(None).label("has_original")
]


# ------------------------------------------------------------------------------------------------ store
class Store:
    """The workspace store over one engine (SQLite file or PostgreSQL); thread-safe, one per server process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Reads begin deferred on SQLite (never queue behind a writer); see engine._sqlite_setup.
        self._read_engine = engine.execution_options(readonly=True)

    @classmethod
    def open(cls, url: str | None = None, *, upgrade: bool = True) -> Store:
        """Connect to `url` (or the configured/default database) and bring its schema up to date."""
        resolved = resolve_url(url)
        engine = make_engine(resolved)
        if upgrade:
            migrate(engine)
        log.info("workspace store: %s", describe_url(resolved))
        return cls(engine)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    @property
    def backend(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self._read_engine, expire_on_commit=False) as session, session.begin():
            yield session

    @staticmethod
    def _put(session: Session, table: Any, workspace_id: str, key: str, **values: Any) -> None:
        """Insert or update the row (workspace_id, key) of a keyed table (texts, settings), stamped now."""
        row = session.get(table, (workspace_id, key))
        if row is None:
            session.add(table(workspace_id=workspace_id, key=key, updated_at=s.utcnow(), **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = s.utcnow()

    @staticmethod
    def _lock_workspace(session: Session, workspace_id: str) -> s.Workspace:
        """The workspace row, locked for this transaction (PostgreSQL; SQLite's IMMEDIATE lock covers it)."""
        row = session.scalars(select(s.Workspace).where(s.Workspace.id == workspace_id).with_for_update()).first()
        if row is None:
            raise UnknownWorkspace(f"no workspace {short_id(workspace_id)}", "unknown_workspace")
        return row

    # workspaces ----------------------------------------------------------------------------------
    def create_workspace(self, display_name: str = "", group: str = "", class_code: str = "") -> WorkspaceInfo:
        """A new workspace with a fresh unguessable id."""
        now = s.utcnow()
        row = s.Workspace(id=new_workspace_id(), display_name=display_name[:80], group_name=group[:80],
                          class_code=class_code[:40], created_at=now, last_seen_at=now)  # fmt: skip
        with self._write() as session:
            session.add(row)
        log.info("workspace %s created", short_id(row.id))
        return _workspace(row)

    def workspace(self, workspace_id: object) -> WorkspaceInfo | None:
        """The workspace with this id, or None (unknown or malformed id)."""
        if not valid_workspace_id(workspace_id):
            return None
        with self._read() as session:
            row = session.get(s.Workspace, workspace_id)
            return _workspace(row) if row else None

    def touch(self, workspace_id: str, now: dt.datetime | None = None) -> bool:
        """Record that the workspace is in use now (call at most every minute or so); False if it is gone."""
        with self._write() as session:
            done = session.execute(update(s.Workspace).where(s.Workspace.id == workspace_id)
                                   .values(last_seen_at=now or s.utcnow()))  # fmt: skip
            return done.rowcount > 0

    def update_profile(self, workspace_id: str, *, display_name: str | None = None, group: str | None = None,
                       class_code: str | None = None) -> WorkspaceInfo:  # fmt: skip
        """Change the optional display name, group or class code (None leaves a field as it is)."""
        with self._write() as session:
            row = self._lock_workspace(session, workspace_id)
            if display_name is not None:
                row.display_name = display_name.strip()[:80]
            if group is not None:
                row.group_name = group.strip()[:80]
            if class_code is not None:
                row.class_code = class_code.strip()[:40]
            return _workspace(row)

    def delete_workspace(self, workspace_id: str) -> bool:
        """Delete the workspace and everything in it; False if there was none."""
        with self._write() as session:
            gone = session.execute(delete(s.Workspace).where(s.Workspace.id == workspace_id)).rowcount > 0
        if gone:
            log.info("workspace %s deleted", short_id(workspace_id))
        return gone

    def delete_expired(self, days: float | None = None, now: dt.datetime | None = None) -> int:
        """Delete workspaces unused for `days` (default: the teacher's `expiry_days`); returns how many went."""
        days = float(self.class_setting("expiry_days") if days is None else days)
        cutoff = (now or s.utcnow()) - dt.timedelta(days=days)
        with self._write() as session:
            busy = select(s.Training.workspace_id).where(s.Training.status.in_(ACTIVE))
            gone = session.execute(
                delete(s.Workspace).where(s.Workspace.last_seen_at < cutoff, s.Workspace.id.not_in(busy))
            ).rowcount
        if gone:
            log.info("cleanup: %d workspaces unused for %g days deleted", gone, days)
        return gone

    # quotas --------------------------------------------------------------------------------------
    def quota(self) -> Quota:
        """The per-workspace limits the teacher set (or the defaults)."""
        with self._read() as session:
            return self._quota(session)

    def _quota(self, session: Session) -> Quota:
        values = self._class_settings(session)  # in the caller's transaction: never a second connection
        return Quota(int(values["quota_models"]), int(values["quota_images"]), float(values["quota_mb"]))

    def usage(self, workspace_id: str) -> Usage:
        """How many models and images the workspace holds and their bytes."""
        with self._read() as session:
            return self._usage(session, workspace_id)

    @staticmethod
    def _usage(session: Session, workspace_id: str) -> Usage:
        def count_and_bytes(table: Any) -> tuple[int, int]:
            row = session.execute(select(func.count(), func.coalesce(func.sum(table.size_bytes), 0))
                                  .where(table.workspace_id == workspace_id)).one()  # fmt: skip
            return int(row[0]), int(row[1])

        models, model_bytes = count_and_bytes(s.Model)
        images, image_bytes = count_and_bytes(s.Image)
        _, item_bytes = count_and_bytes(s.ReportItem)
        return Usage(models, images, model_bytes + image_bytes + item_bytes)

    def _check_quota(self, session: Session, workspace_id: str, *, models: int = 0, images: int = 0,
                     size: int = 0) -> None:  # fmt: skip
        quota = self._quota(session)
        used = self._usage(session, workspace_id)
        if models and used.models + models > quota.models:
            raise QuotaExceeded("model quota reached", "quota_models", limit=quota.models)
        if images and used.images + images > quota.images:
            raise QuotaExceeded("image quota reached", "quota_images", limit=quota.images)
        if used.bytes + size > quota.megabytes * MB:
            raise QuotaExceeded("space quota reached", "quota_mb", limit=quota.megabytes,
                                used=used.bytes / MB)  # fmt: skip

    def check_room(self, workspace_id: str, *, models: int = 0, images: int = 0, size: int = 0) -> None:
        """Raise QuotaExceeded when adding this much would not fit (e.g. before starting a training)."""
        with self._read() as session:
            self._check_quota(session, workspace_id, models=models, images=images, size=size)

    # models --------------------------------------------------------------------------------------
    def add_model(self, workspace_id: str, *, display_name: str, checkpoint: bytes, architecture: str = "",
                  source: str = "trained", config: dict | None = None, history: list | None = None,
                  metrics: dict | None = None, best_psnr: float | None = None, epochs: float = 0.0,
                  training_id: int | None = None, enforce_quota: bool = True) -> ModelInfo:  # fmt: skip
        """Keep a model (checkpoint bytes as `lib.checkpoint.to_bytes` writes them); QuotaExceeded when full.

        `enforce_quota=False` is for a training's own result: its room was checked when it started.
        """
        row = s.Model(workspace_id=workspace_id, display_name=display_name[:120], architecture=architecture,
                      source=source, config=config or {}, history=history or [], metrics=metrics or {},
                      best_psnr=best_psnr, epochs=float(epochs), training_id=training_id, checkpoint=checkpoint,
                      size_bytes=len(checkpoint), created_at=s.utcnow())  # fmt: skip
        with self._write() as session:
            self._lock_workspace(session, workspace_id)
            if enforce_quota:
                self._check_quota(session, workspace_id, models=1, size=len(checkpoint))
            session.add(row)
            session.flush()
            if training_id is not None:
                session.execute(update(s.Training).where(s.Training.id == training_id,
                                                         s.Training.workspace_id == workspace_id)
                                .values(model_id=row.id))  # fmt: skip
            return _model(row)

    def models(self, workspace_id: str) -> list[ModelInfo]:
        """The workspace's models, oldest first, without weights."""
        with self._read() as session:
            rows = session.execute(select(*MODEL_COLUMNS).where(s.Model.workspace_id == workspace_id)
                                   .order_by(s.Model.created_at, s.Model.id)).all()  # fmt: skip
            return [_model(r) for r in rows]

    def model(self, workspace_id: str, model_id: int) -> ModelInfo | None:
        """One model's record (no weights)."""
        with self._read() as session:
            row = session.execute(select(*MODEL_COLUMNS).where(s.Model.workspace_id == workspace_id,
                                                               s.Model.id == model_id)).first()  # fmt: skip
            return _model(row) if row else None

    def model_checkpoint(self, workspace_id: str, model_id: int) -> bytes | None:
        """A model's checkpoint bytes (for `lib.checkpoint.load_bytes`), None if not in this workspace."""
        with self._read() as session:
            return session.scalar(select(s.Model.checkpoint).where(s.Model.workspace_id == workspace_id,
                                                                   s.Model.id == model_id))  # fmt: skip

    def rename_model(self, workspace_id: str, model_id: int, display_name: str) -> bool:
        """Give a model a new display name; False if it is not in this workspace."""
        with self._write() as session:
            return session.execute(update(s.Model).where(s.Model.workspace_id == workspace_id, s.Model.id == model_id)
                                   .values(display_name=display_name.strip()[:120])).rowcount > 0  # fmt: skip

    def delete_model(self, workspace_id: str, model_id: int) -> bool:
        """Delete a model; False if it is not in this workspace."""
        with self._write() as session:
            return session.execute(delete(s.Model).where(s.Model.workspace_id == workspace_id,
                                                         s.Model.id == model_id)).rowcount > 0  # fmt: skip

    # trainings -----------------------------------------------------------------------------------
    def create_training(self, workspace_id: str, *, settings: dict, epochs_total: int, runner: str = "",
                        check_room: bool = True) -> TrainingInfo:  # fmt: skip
        """Register a queued training; TrainingBusy if the workspace has one queued or running, QuotaExceeded if
        its model would not fit."""
        now = s.utcnow()
        with self._write() as session:
            self._lock_workspace(session, workspace_id)
            active = session.scalar(select(func.count()).where(s.Training.workspace_id == workspace_id,
                                                               s.Training.status.in_(ACTIVE)))  # fmt: skip
            if active:
                raise TrainingBusy("a training of this workspace is already queued or running", "training_busy")
            if check_room:
                self._check_quota(session, workspace_id, models=1)
            row = s.Training(workspace_id=workspace_id, status="queued", settings=settings,
                             epochs_total=int(epochs_total), runner=runner, created_at=now,
                             heartbeat_at=now)  # fmt: skip
            session.add(row)
            session.flush()
            training_id = row.id
        return self.training(workspace_id, training_id)  # type: ignore[return-value]

    def update_training(self, training_id: int, **values: Any) -> None:
        """Set training columns (status, progress, epochs_done, resume_state, resume_epoch, model_id, error,
        stop_reason, runner, started_at, finished_at); the heartbeat is set to now as well."""
        allowed = {c.name for c in s.Training.__table__.c} - {"id", "workspace_id", "created_at"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"not training columns: {sorted(unknown)}")
        values.setdefault("heartbeat_at", s.utcnow())
        with self._write() as session:
            session.execute(update(s.Training).where(s.Training.id == training_id).values(**values))

    def training(self, workspace_id: str, training_id: int) -> TrainingInfo | None:
        """One training of this workspace."""
        with self._read() as session:
            row = session.execute(select(*TRAINING_COLUMNS).where(s.Training.workspace_id == workspace_id,
                                                                  s.Training.id == training_id)).first()  # fmt: skip
            return _training(row) if row else None

    def trainings(self, workspace_id: str, statuses: tuple[str, ...] | None = None) -> list[TrainingInfo]:
        """The workspace's trainings, newest first (optionally only those in `statuses`)."""
        query = select(*TRAINING_COLUMNS).where(s.Training.workspace_id == workspace_id)
        if statuses:
            query = query.where(s.Training.status.in_(statuses))
        with self._read() as session:
            return [_training(r) for r in session.execute(query.order_by(s.Training.id.desc())).all()]

    def trainings_of(self, workspace_ids: list[str]) -> list[TrainingInfo]:
        """Every training of these workspaces (a class), oldest first, in one query per 500 workspaces."""
        found: list[TrainingInfo] = []
        with self._read() as session:
            for start in range(0, len(workspace_ids), 500):
                chunk = workspace_ids[start : start + 500]
                query = select(*TRAINING_COLUMNS).where(s.Training.workspace_id.in_(chunk))
                found += [_training(r) for r in session.execute(query).all()]
        return sorted(found, key=lambda info: info.id)

    def resume_state(self, workspace_id: str, training_id: int) -> bytes | None:
        """The model + optimiser state saved at the training's last whole epoch."""
        with self._read() as session:
            return session.scalar(select(s.Training.resume_state).where(s.Training.workspace_id == workspace_id,
                                                                        s.Training.id == training_id))  # fmt: skip

    def mark_interrupted(self, stale_seconds: float, now: dt.datetime | None = None,
                         keep_runner: str | None = None) -> int:  # fmt: skip
        """Trainings queued or running without a heartbeat for `stale_seconds` become 'interrupted' (their server
        stopped or crashed); those of `keep_runner` (this process) are left alone. Returns how many."""
        cutoff = (now or s.utcnow()) - dt.timedelta(seconds=stale_seconds)
        query = update(s.Training).where(s.Training.status.in_(ACTIVE), s.Training.heartbeat_at < cutoff)
        if keep_runner:
            query = query.where(s.Training.runner != keep_runner)
        with self._write() as session:
            return session.execute(query.values(status="interrupted")).rowcount

    def restart_training(self, workspace_id: str, training_id: int, runner: str = "") -> TrainingInfo:
        """Queue an interrupted training again (Resume); TrainingBusy if another one is queued or running."""
        with self._write() as session:
            self._lock_workspace(session, workspace_id)
            active = session.scalar(select(func.count()).where(s.Training.workspace_id == workspace_id,
                                                               s.Training.status.in_(ACTIVE)))  # fmt: skip
            if active:
                raise TrainingBusy("a training of this workspace is already queued or running", "training_busy")
            done = session.execute(update(s.Training).where(s.Training.workspace_id == workspace_id,
                                                            s.Training.id == training_id)
                                   .values(status="queued", runner=runner, heartbeat_at=s.utcnow(),
                                           finished_at=None)).rowcount  # fmt: skip
            if not done:
                raise UnknownWorkspace("no such training in this workspace", "unknown_training")
        return self.training(workspace_id, training_id)  # type: ignore[return-value]

    def interrupt_runner(self, runner: str) -> int:
        """Mark every queued or running training of a runner (a process that starts afresh) as interrupted."""
        with self._write() as session:
            return session.execute(update(s.Training).where(s.Training.status.in_(ACTIVE), s.Training.runner == runner)
                                   .values(status="interrupted")).rowcount  # fmt: skip

    # images --------------------------------------------------------------------------------------
    def add_image(self, workspace_id: str, *, source: str, prepared: np.ndarray, name: str = "",
                  strokes: Any = None, original: bytes | None = None, preprocessing: dict | None = None,
                  noise: dict | None = None) -> ImageInfo:  # fmt: skip
        """Keep a drawn ('drawn') or photographed ('photo') digit: the prepared 28×28 in [0, 1], the strokes or the
        bounded original PNG (`blobs.bounded_png`), and the noise applied; QuotaExceeded when full."""
        prepared = np.asarray(prepared, dtype=np.float32)
        if prepared.shape != (28, 28):
            raise ValueError(f"a prepared digit is 28×28, got {prepared.shape}")
        packed = array_to_bytes(prepared)
        size = len(packed) + len(original or b"")
        row = s.Image(workspace_id=workspace_id, source=source, name=name[:200], prepared=packed, strokes=strokes,
                      original=original, preprocessing=preprocessing or {}, noise=noise, size_bytes=size,
                      created_at=s.utcnow())  # fmt: skip
        with self._write() as session:
            self._lock_workspace(session, workspace_id)
            self._check_quota(session, workspace_id, images=1, size=size)
            session.add(row)
            session.flush()
            return ImageInfo(row.id, workspace_id, source, row.name, prepared, strokes, original is not None,
                             row.preprocessing, noise, size, row.created_at)  # fmt: skip

    def images(self, workspace_id: str, source: str | None = None) -> list[ImageInfo]:
        """The workspace's images, oldest first (prepared digits included, originals not)."""
        query = select(*IMAGE_COLUMNS).where(s.Image.workspace_id == workspace_id)
        if source:
            query = query.where(s.Image.source == source)
        with self._read() as session:
            rows = session.execute(query.order_by(s.Image.created_at, s.Image.id)).all()
        return [ImageInfo(r.id, r.workspace_id, r.source, r.name, bytes_to_array(r.prepared), r.strokes,
                          bool(r.has_original), r.preprocessing or {}, r.noise, r.size_bytes, r.created_at)
                for r in rows]  # fmt: skip

    def image_original(self, workspace_id: str, image_id: int) -> bytes | None:
        """An upload's bounded original (PNG bytes)."""
        with self._read() as session:
            return session.scalar(select(s.Image.original).where(s.Image.workspace_id == workspace_id,
                                                                 s.Image.id == image_id))  # fmt: skip

    def delete_image(self, workspace_id: str, image_id: int) -> bool:
        """Delete an image (report items that used it keep their pictures); False if not in this workspace."""
        with self._write() as session:
            return session.execute(delete(s.Image).where(s.Image.workspace_id == workspace_id,
                                                         s.Image.id == image_id)).rowcount > 0  # fmt: skip

    # report items --------------------------------------------------------------------------------
    def add_report_item(self, workspace_id: str, *, kind: str, name: str, settings: dict | None = None,
                        result: bytes | None = None, image_id: int | None = None) -> ReportItemInfo:  # fmt: skip
        """Append a row to the report (pictures as `blobs.arrays_to_bytes`); QuotaExceeded when full."""
        size = len(result or b"")
        with self._write() as session:
            self._lock_workspace(session, workspace_id)
            self._check_quota(session, workspace_id, size=size)
            last = session.scalar(select(func.max(s.ReportItem.position))
                                  .where(s.ReportItem.workspace_id == workspace_id))  # fmt: skip
            row = s.ReportItem(workspace_id=workspace_id, position=(last or 0) + 1, kind=kind, name=name[:200],
                               image_id=image_id, settings=settings or {}, result=result, size_bytes=size,
                               created_at=s.utcnow())  # fmt: skip
            session.add(row)
            session.flush()
            return ReportItemInfo(row.id, workspace_id, row.position, kind, row.name, image_id, row.settings, result,
                                  size, row.created_at)  # fmt: skip

    def report_items(
        self, workspace_id: str, kind: str | None = None, with_result: bool = True
    ) -> list[ReportItemInfo]:
        """The report's rows in order (optionally of one kind; pictures left out when `with_result` is False)."""
        columns = [c for c in s.ReportItem.__table__.c if with_result or c.name != "result"]
        query = select(*columns).where(s.ReportItem.workspace_id == workspace_id)
        if kind:
            query = query.where(s.ReportItem.kind == kind)
        with self._read() as session:
            rows = session.execute(query.order_by(s.ReportItem.position, s.ReportItem.id)).all()
        return [ReportItemInfo(r.id, r.workspace_id, r.position, r.kind, r.name, r.image_id, r.settings or {},
                               r.result if with_result else None, r.size_bytes, r.created_at)
                for r in rows]  # fmt: skip

    def delete_report_item(self, workspace_id: str, item_id: int) -> bool:
        """Remove one report row."""
        with self._write() as session:
            return session.execute(delete(s.ReportItem).where(s.ReportItem.workspace_id == workspace_id,
                                                              s.ReportItem.id == item_id)).rowcount > 0  # fmt: skip

    def clear_report(self, workspace_id: str, kind: str | None = None) -> int:
        """Remove the report's rows (of one kind, or all); returns how many."""
        query = delete(s.ReportItem).where(s.ReportItem.workspace_id == workspace_id)
        if kind:
            query = query.where(s.ReportItem.kind == kind)
        with self._write() as session:
            return session.execute(query).rowcount

    # texts and settings --------------------------------------------------------------------------
    def set_text(self, workspace_id: str, key: str, body: str) -> None:
        """Keep a text the student wrote (conclusions), replacing the earlier one under `key`."""
        with self._write() as session:
            self._lock_workspace(session, workspace_id)
            self._put(session, s.Text, workspace_id, key, body=body)

    def texts(self, workspace_id: str) -> dict[str, str]:
        """Every text of the workspace by key."""
        with self._read() as session:
            rows = session.execute(select(s.Text.key, s.Text.body).where(s.Text.workspace_id == workspace_id)).all()
            return {r.key: r.body for r in rows}

    def set_settings(self, workspace_id: str, values: dict[str, Any]) -> None:
        """Remember choices (JSON values) under their keys; other keys stay as they are."""
        if values and workspace_id not in self.set_settings_many({workspace_id: values}):
            raise UnknownWorkspace(f"no workspace {short_id(workspace_id)}", "unknown_workspace")

    def set_settings_many(self, batch: dict[str, dict[str, Any]]) -> set[str]:
        """Remember the choices of several workspaces in one transaction; the ids written (unknown ones are skipped)."""
        ids = sorted(w for w, values in batch.items() if values and valid_workspace_id(w))
        if not ids:
            return set()
        keys = {key for w in ids for key in batch[w]}
        with self._write() as session:
            known = set(session.scalars(select(s.Workspace.id).where(s.Workspace.id.in_(ids)).order_by(s.Workspace.id)
                                        .with_for_update()))  # fmt: skip
            # the rows about to change, read in one query: each _put below then finds its row without one
            session.scalars(select(s.Setting).where(s.Setting.workspace_id.in_(known), s.Setting.key.in_(keys))).all()
            for workspace_id in ids:
                if workspace_id in known:
                    for key, value in batch[workspace_id].items():
                        self._put(session, s.Setting, workspace_id, key, value=value)
        return known

    def settings(self, workspace_id: str) -> dict[str, Any]:
        """The workspace's remembered choices, models under their current names."""
        with self._read() as session:
            rows = session.execute(select(s.Setting.key, s.Setting.value)
                                   .where(s.Setting.workspace_id == workspace_id)).all()  # fmt: skip
        values = {r.key: r.value for r in rows}
        # Choices remembered before a model's rename name it the old way ("seed", "shipped:seed_B"): read as today's.
        picked = values.get(PICKED_MODEL_SETTING)
        if isinstance(picked, str) and picked.startswith(SHIPPED_PICKER_PREFIX):
            values[PICKED_MODEL_SETTING] = SHIPPED_PICKER_PREFIX + canonical_stem(picked[len(SHIPPED_PICKER_PREFIX) :])
        if TRAIN_MODEL_SETTING in values:
            values[TRAIN_MODEL_SETTING] = canonical_model(values[TRAIN_MODEL_SETTING])
        return values

    # hand-ins ------------------------------------------------------------------------------------
    def add_handin(self, workspace_id: str, *, content: dict, pdf: bytes | None = None,
                   docx: bytes | None = None) -> HandinInfo:  # fmt: skip
        """Record a new immutable hand-in version (numbered after the last one)."""
        size = len(pdf or b"") + len(docx or b"")
        with self._write() as session:
            self._lock_workspace(session, workspace_id)
            last = session.scalar(select(func.max(s.Handin.version)).where(s.Handin.workspace_id == workspace_id))
            row = s.Handin(workspace_id=workspace_id, version=(last or 0) + 1, content=content, pdf=pdf, docx=docx,
                           size_bytes=size, created_at=s.utcnow())  # fmt: skip
            session.add(row)
            session.flush()
            return HandinInfo(row.id, workspace_id, row.version, content, pdf is not None, docx is not None, size,
                              row.created_at)  # fmt: skip

    def handins(self, workspace_id: str) -> list[HandinInfo]:
        """The workspace's hand-ins, oldest version first."""
        columns = [s.Handin.id, s.Handin.workspace_id, s.Handin.version, s.Handin.content,
                   s.Handin.pdf.is_not(None).label("has_pdf"), s.Handin.docx.is_not(None).label("has_docx"),
                   s.Handin.size_bytes, s.Handin.created_at]  # fmt: skip
        with self._read() as session:
            rows = session.execute(select(*columns).where(s.Handin.workspace_id == workspace_id)
                                   .order_by(s.Handin.version)).all()  # fmt: skip
        return [HandinInfo(r.id, r.workspace_id, r.version, r.content or {}, bool(r.has_pdf), bool(r.has_docx),
                           r.size_bytes, r.created_at) for r in rows]  # fmt: skip

    def handin_file(self, workspace_id: str, handin_id: int, kind: str) -> bytes | None:
        """A hand-in's 'pdf' or 'docx' bytes."""
        column = {"pdf": s.Handin.pdf, "docx": s.Handin.docx}[kind]
        with self._read() as session:
            return session.scalar(select(column).where(s.Handin.workspace_id == workspace_id, s.Handin.id == handin_id))

    # class settings (the teacher's) --------------------------------------------------------------
    def class_settings(self) -> dict[str, Any]:
        """Every class setting, defaults filled in."""
        with self._read() as session:
            return self._class_settings(session)

    @staticmethod
    def _class_settings(session: Session) -> dict[str, Any]:
        rows = session.execute(select(s.ClassSetting.key, s.ClassSetting.value)).all()
        return {**CLASS_DEFAULTS, **{r.key: r.value for r in rows}}

    def class_setting(self, key: str, default: Any = None) -> Any:
        """One class setting (the built-in default for known keys, else `default`)."""
        return self.class_settings().get(key, default)

    def set_class_setting(self, key: str, value: Any) -> None:
        """Set a class setting (a JSON value)."""
        for _ in range(2):  # two servers inserting the same new key: the loser updates instead
            try:
                with self._write() as session:
                    row = session.get(s.ClassSetting, key)
                    if row is None:
                        session.add(s.ClassSetting(key=key, value=value, updated_at=s.utcnow()))
                    else:
                        row.value, row.updated_at = value, s.utcnow()
                return
            except IntegrityError:
                continue

    # the teacher's view --------------------------------------------------------------------------
    def overview(self, class_code: str | None = None) -> list[WorkspaceSummary]:
        """Every workspace (of one class code, if given) with last seen, models, best PSNR and hand-ins; most
        recently seen first. For the teacher's page only: never show it to a student."""
        models = (select(s.Model.workspace_id, func.count().label("n"), func.max(s.Model.best_psnr).label("best"))
                  .group_by(s.Model.workspace_id).subquery())  # fmt: skip
        handins = (select(s.Handin.workspace_id, func.count().label("n"), func.max(s.Handin.created_at).label("last"))
                   .group_by(s.Handin.workspace_id).subquery())  # fmt: skip
        query = (select(s.Workspace, models.c.n, models.c.best, handins.c.n, handins.c.last)
                 .outerjoin(models, models.c.workspace_id == s.Workspace.id)
                 .outerjoin(handins, handins.c.workspace_id == s.Workspace.id)
                 .order_by(s.Workspace.last_seen_at.desc()))  # fmt: skip
        if class_code is not None:
            query = query.where(s.Workspace.class_code == class_code)
        with self._read() as session:
            rows = session.execute(query).all()
        out = []
        for ws, n_models, best, n_handins, last in rows:
            last = last.replace(tzinfo=dt.timezone.utc) if last is not None and last.tzinfo is None else last
            out.append(WorkspaceSummary(ws.id, ws.display_name, ws.group_name, ws.class_code, ws.created_at,
                                        ws.last_seen_at, int(n_models or 0), best, int(n_handins or 0), last))  # fmt: skip
        return out
