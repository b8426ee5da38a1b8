"""Checkpoints: weights + model config + noise config + history + metrics, in one .pt file."""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lib.i18n import t
from lib.models import build_model, config_from_dict, config_to_dict
from lib.noise import NoiseConfig

FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used; the message names the file and the problem.

    `key` and `params` name the problem for the UI (locale key `ckpt.<key>`), so a student reads it in
    their language; `str(exc)` is the English message for the command line and logs.
    """

    def __init__(self, message: str, key: str, **params: object) -> None:
        super().__init__(message)
        self.key = key
        self.params = params

    def text(self, lang: str) -> str:
        """The problem in the UI language."""
        return t(f"ckpt.{self.key}", lang, **self.params)


@dataclass
class Checkpoint:
    """Everything saved with a trained model."""

    model_config: Any
    state_dict: dict[str, torch.Tensor]
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    train: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        """Plain-data dict that torch.load(weights_only=True) can read back."""
        return {
            "format_version": FORMAT_VERSION,
            "model_config": config_to_dict(self.model_config),
            "noise_config": asdict(self.noise),
            "train_config": dict(self.train),
            "history": [dict(row) for row in self.history],
            "metrics": dict(self.metrics),
            "state_dict": {k: v.detach().cpu() for k, v in self.state_dict.items()},
        }

    def build(self, device: torch.device | str = "cpu") -> nn.Module:
        """The model in eval mode, weights loaded strictly, convolution weights channels-last."""
        model = build_model(self.model_config)
        model.load_state_dict(self.state_dict, strict=True)
        # Channels-last halves the U-Net's CPU time per image (oneDNN's fast path); predict() feeds it likewise.
        return model.to(device, memory_format=torch.channels_last).eval()


def to_bytes(ckpt: Checkpoint) -> bytes:
    """The checkpoint serialised in memory (for downloads)."""
    buffer = io.BytesIO()
    torch.save(ckpt.to_payload(), buffer)
    return buffer.getvalue()


def save(ckpt: Checkpoint, path: str | Path) -> Path:
    """Write atomically: temp file in the same folder, then os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(to_bytes(ckpt))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _from_payload(payload: Any, name: str) -> Checkpoint:
    if not isinstance(payload, dict) or "state_dict" not in payload or "model_config" not in payload:
        raise CheckpointError(
            f"{name}: not a checkpoint of this app (no model config or weights inside)", "not_app", name=name
        )
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{name}: checkpoint format {version!r}, this app reads format {FORMAT_VERSION}",
            "version",
            name=name,
            version=str(version),
            expected=FORMAT_VERSION,
        )
    try:
        model_config = config_from_dict(dict(payload["model_config"]))
        noise = NoiseConfig(**payload.get("noise_config", {}))
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{name}: bad config inside: {exc}", "bad_config", name=name) from exc
    ckpt = Checkpoint(
        model_config=model_config,
        state_dict=payload["state_dict"],
        noise=noise,
        train=dict(payload.get("train_config", {})),
        history=list(payload.get("history", [])),
        metrics=dict(payload.get("metrics", {})),
    )
    try:
        build_model(model_config).load_state_dict(ckpt.state_dict, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        raise CheckpointError(
            f"{name}: weights do not match model '{model_config.name}': {detail}",
            "mismatch",
            name=name,
            model=model_config.name,
        ) from exc
    return ckpt


def load_bytes(data: bytes, name: str = "uploaded file") -> Checkpoint:
    """Read a checkpoint from bytes; any damage becomes a CheckpointError naming the file."""
    try:
        payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # untrusted bytes: torch raises many kinds (IndexError, UnpicklingError, …)
        raise CheckpointError(
            f"{name}: not a readable PyTorch checkpoint ({type(exc).__name__})", "unreadable", name=name
        ) from exc
    return _from_payload(payload, name)


def load(path: str | Path) -> Checkpoint:
    """Read a checkpoint file with weights_only=True and strict keys."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path.name}: file not found", "not_found", name=path.name)
    return load_bytes(path.read_bytes(), path.name)
