"""The workspace store's tables (SQLAlchemy 2 declarative models); migrations in lib/store/migrations create them.

Every row a student makes hangs off one `workspaces` row and goes with it (ON DELETE CASCADE). Times are UTC.
Blobs (checkpoints ≤ ~1.3 MB, PNG pictures, hand-in files) live in the database: one place to back up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints: Alembic can alter them later on SQLite (batch mode) and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Now, timezone-aware UTC."""
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator):
    """A UTC moment: stored without a zone (SQLite has none), always read back timezone-aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.timezone.utc)


class Base(DeclarativeBase):
    """Declarative base with the naming convention."""

    metadata = MetaData(naming_convention=NAMING)


def _ws_fk() -> Any:
    return ForeignKey("workspaces.id", ondelete="CASCADE")


class Workspace(Base):
    """A student's workspace: reachable only by its unguessable id (the page address carries it)."""

    __tablename__ = "workspaces"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(80), default="")
    group_name: Mapped[str] = mapped_column(String(80), default="")
    class_code: Mapped[str] = mapped_column(String(40), default="", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Model(Base):
    """A trained, partly trained or uploaded model: checkpoint bytes plus what the lists show without loading them."""

    __tablename__ = "models"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(64), _ws_fk(), index=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    architecture: Mapped[str] = mapped_column(String(40), default="")
    source: Mapped[str] = mapped_column(String(20), default="trained")  # trained | partial | uploaded
    config: Mapped[dict] = mapped_column(JSON, default=dict)  # model, noise and training settings
    history: Mapped[list] = mapped_column(JSON, default=list)  # per-epoch rows
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)
    best_psnr: Mapped[float | None] = mapped_column(Float, nullable=True)  # dB, validation
    epochs: Mapped[float] = mapped_column(Float, default=0.0)  # fractional when stopped mid-epoch
    training_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    checkpoint: Mapped[bytes] = mapped_column(LargeBinary)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Training(Base):
    """A training run owned by a workspace: settings, progress and a resumable checkpoint after each epoch."""

    __tablename__ = "trainings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(64), _ws_fk(), index=True)
    # queued | running | done | stopped | failed | interrupted | kept
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    stop_reason: Mapped[str] = mapped_column(String(20), default="")
    settings: Mapped[dict] = mapped_column(JSON, default=dict)  # train config + noise config
    progress: Mapped[dict] = mapped_column(JSON, default=dict)  # last progress report, history so far
    epochs_done: Mapped[float] = mapped_column(Float, default=0.0)
    epochs_total: Mapped[int] = mapped_column(Integer, default=0)
    resume_epoch: Mapped[int] = mapped_column(Integer, default=0)  # whole epochs in `resume_state`
    resume_state: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # model + optimiser state
    model_id: Mapped[int | None] = mapped_column(ForeignKey("models.id", ondelete="SET NULL"), nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    runner: Mapped[str] = mapped_column(String(64), default="")  # the server process running it
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Image(Base):
    """A digit the student drew or photographed: the prepared 28×28, strokes or a bounded original, the noise."""

    __tablename__ = "images"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(64), _ws_fk(), index=True)
    source: Mapped[str] = mapped_column(String(10))  # drawn | photo
    name: Mapped[str] = mapped_column(String(200), default="")  # file name or "drawing 3": data, never markup
    prepared: Mapped[bytes] = mapped_column(LargeBinary)  # 28×28 float32 .npy
    strokes: Mapped[Any | None] = mapped_column(JSON, nullable=True)  # the canvas' drawing (fabric.js JSON)
    original: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # PNG, longest side bounded
    preprocessing: Mapped[dict] = mapped_column(JSON, default=dict)
    noise: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # kind, mean (μ), var (D), speckle (s), clip, seed
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportItem(Base):
    """One row of the student's report: which image, which models, the settings and the computed result."""

    __tablename__ = "report_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(64), _ws_fk(), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(20), default="")  # drawn | photo | lab | …
    name: Mapped[str] = mapped_column(String(200), default="")
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"), nullable=True)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)  # noise, seed, models, scores
    result: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # .npz of the pictures
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Text(Base):
    """A text the student wrote (conclusions, notes), one per key."""

    __tablename__ = "texts"
    workspace_id: Mapped[str] = mapped_column(String(64), _ws_fk(), primary_key=True)
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Setting(Base):
    """A workspace's remembered choice (chosen model, lab settings), one JSON value per key."""

    __tablename__ = "workspace_settings"
    workspace_id: Mapped[str] = mapped_column(String(64), _ws_fk(), primary_key=True)
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Handin(Base):
    """A handed-in report version: immutable, numbered 1, 2, … per workspace."""

    __tablename__ = "handins"
    __table_args__ = (UniqueConstraint("workspace_id", "version", name="uq_handins_workspace_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(64), _ws_fk(), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON, default=dict)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    docx: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClassSetting(Base):
    """A teacher's setting for the whole class (quotas, expiry days, idle minutes), one JSON value per key."""

    __tablename__ = "class_settings"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
