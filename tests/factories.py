"""Small real things the tests build: a PNG of an MNIST test digit, a Table 1 checkpoint with random weights, a
class of named workspaces with finished trainings."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import torch
from PIL import Image

from lib import checkpoint as ckpt_io
from lib.models import build_model, default_config
from lib.store import Store


def png_bytes(test_digits, index=0) -> bytes:
    """A test digit as a student's photo: dark ink on white, 140×140 PNG."""
    buf = io.BytesIO()
    Image.fromarray(255 - test_digits.images[index].numpy()).resize((140, 140)).save(buf, format="PNG")
    return buf.getvalue()


def small_checkpoint(seed: int = 0) -> bytes:
    """A real Table 1 model's checkpoint bytes (random weights)."""
    torch.manual_seed(seed)
    config = default_config("table1")
    model = build_model(config)
    return ckpt_io.to_bytes(ckpt_io.Checkpoint(config, model.state_dict(), history=[{"epoch": 1, "val_psnr": 20.5}]))


def seed_class(db: Store, workspaces: int, trainings: int, rng: np.random.Generator) -> list[str]:
    """Workspaces with names, groups and class codes, and finished trainings with their settings and results."""
    ids = []
    for n in range(workspaces):
        ws = db.create_workspace(f"Студент {n:02d}", f"ИВТ-{21 + n % 3}", "morning" if n % 2 else "evening")
        ids.append(ws.id)
    start = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.timezone.utc)
    for n in range(trainings):
        ws = ids[n % workspaces]
        lr = float(rng.choice([0.001, 0.003, 0.01, 0.03]))
        batch = int(rng.choice([32, 64, 128]))
        limit = int(rng.choice([3000, 6000, 12000]))
        epochs = int(rng.integers(1, 6))
        tr = db.create_training(ws, settings={"train": {"model": "table1", "lr": lr, "batch_size": batch,
                                                        "limit": limit, "epochs": epochs},
                                              "noise": {"kind": "mix", "mean": -20.0, "var": 600.0, "speckle": 1.0}},
                                epochs_total=epochs, check_room=False)  # fmt: skip
        history = [{"epoch": e + 1.0, "images": float(limit * (e + 1)), "val_psnr_gaussian": 20 + 2 * np.log1p(e) + lr * 50,
                    "val_psnr_speckle": 18 + np.log1p(e)} for e in range(epochs)]  # fmt: skip
        db.update_training(tr.id, status="done", epochs_done=float(epochs), progress={"history": history},
                           started_at=start + dt.timedelta(minutes=n), finished_at=start + dt.timedelta(minutes=n, seconds=40))  # fmt: skip
    return ids
