"""The workspace store: everything a student makes, kept in SQLite (default) or PostgreSQL (by URL).

    store = Store.open()                        # migrates the schema to the newest revision
    ws = store.create_workspace()               # ws.id goes into the page address
    store.add_model(ws.id, display_name="Моя модель 1", checkpoint=checkpoint.to_bytes(ckpt), ...)
    store.models(ws.id); store.model_checkpoint(ws.id, model_id)

See lib/store/api.py for the full API and docs/workspace.md for how it is deployed and backed up.
"""

from lib.store.api import (
    ACTIVE,
    CLASS_DEFAULTS,
    MODEL_PICKER_PREFIX,
    PICKED_MODEL_SETTING,
    TRAIN_MODEL_SETTING,
    HandinInfo,
    ImageInfo,
    ModelInfo,
    Quota,
    QuotaExceeded,
    ReportItemInfo,
    Store,
    StoreError,
    TrainingBusy,
    TrainingInfo,
    UnknownWorkspace,
    Usage,
    WorkspaceInfo,
    WorkspaceSummary,
    model_picker_key,
    new_workspace_id,
    short_id,
    valid_workspace_id,
)
from lib.store.engine import data_dir, make_engine, migrate, resolve_url

__all__ = [
    "ACTIVE",
    "MODEL_PICKER_PREFIX",
    "PICKED_MODEL_SETTING",
    "TRAIN_MODEL_SETTING",
    "CLASS_DEFAULTS",
    "HandinInfo",
    "ImageInfo",
    "ModelInfo",
    "Quota",
    "QuotaExceeded",
    "ReportItemInfo",
    "Store",
    "StoreError",
    "TrainingBusy",
    "TrainingInfo",
    "UnknownWorkspace",
    "Usage",
    "WorkspaceInfo",
    "WorkspaceSummary",
    "data_dir",
    "make_engine",
    "migrate",
    "model_picker_key",
    "new_workspace_id",
    "resolve_url",
    "short_id",
    "valid_workspace_id",
]
