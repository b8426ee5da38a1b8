"""One training loop for the CLI and the app: preloaded uint8 tensors, noise made on the fly."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from lib.augment import augment_digits, blind_noise
from lib.checkpoint import Checkpoint
from lib.data import Digits
from lib.metrics import psnr
from lib.models import build_model, default_config, set_dropout_generator
from lib.noise import NoiseConfig, add_noise, make_generator, mix_mask, to_unit


@dataclass(frozen=True)
class TrainConfig:
    """Textbook defaults (Appendix 1): Adam lr 0.003, MSE, batch 32, ≤120 epochs, stop at loss 0.0063."""

    model: str = "seed"
    epochs: int = 120
    lr: float = 0.003
    batch_size: int = 32
    stop_loss: float = 0.0063
    seed: int = 0
    limit: int | None = None  # use only the first N training digits (a quick classroom run)
    fresh_noise: bool = True  # new noise every epoch; False freezes it once, as the textbook did
    channels_last: bool = True  # faster convolutions on CPU; same model, same numbers up to rounding
    val_size: int = 2000  # per-epoch validation digits, held out of the training split
    schedule: str = "constant"  # "constant" (textbook) or "onecycle": warm up to lr, anneal to ~0 by the last epoch
    augment: bool = False  # lib.augment: varied strokes/contrast/blur/slant/shifts and noise of random strength

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch size must be at least 1")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"learning rate must be > 0, got {self.lr}")
        if self.schedule not in ("constant", "onecycle"):
            raise ValueError(f"unknown schedule {self.schedule!r}; use constant or onecycle")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be ≥ 1, got {self.limit}")
        if self.augment and not self.fresh_noise:
            raise ValueError("augmentation makes new digits every epoch; it cannot use frozen noise")


@dataclass
class Progress:
    """What the callback sees: where training is and how it goes."""

    epoch: int  # 1-based
    epochs: int
    step: int  # steps done in this epoch
    steps_per_epoch: int
    loss: float  # mean training loss of this epoch so far
    elapsed: float  # seconds since start
    epoch_done: bool = False
    val: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    model: nn.Module | None = None  # the live model (for benchmarks that evaluate mid-epoch)

    @property
    def fraction(self) -> float:
        """Share of the planned work done, 0..1."""
        return ((self.epoch - 1) * self.steps_per_epoch + self.step) / (self.epochs * self.steps_per_epoch)

    @property
    def eta(self) -> float:
        """Seconds left at the current pace (for the planned number of epochs)."""
        f = self.fraction
        return self.elapsed * (1 - f) / f if f > 0 else float("nan")


ProgressCallback = Callable[[Progress], None]


@dataclass
class ValidationSet:
    """Fixed noisy validation images (seeded once) and which of them got Gaussian noise."""

    clean: torch.Tensor  # (N, 1, 28, 28) in [0, 1]
    noisy: torch.Tensor  # (N, 1, 28, 28) model input
    gaussian: torch.Tensor  # (N,) bool

    @classmethod
    def make(cls, digits: Digits, noise: NoiseConfig, seed: int, device: torch.device) -> ValidationSet:
        """Noise the validation digits once with their own generator."""
        g = make_generator(seed)
        clean = digits.images.float()  # (N, 28, 28) 0..255
        mask = mix_mask(len(digits), g) if noise.kind == "mix" else torch.full((len(digits),), noise.kind == "gaussian")
        noisy = add_noise(clean, noise, g, gaussian_mask=mask)
        return cls(to_unit(clean).unsqueeze(1).to(device), to_unit(noisy).unsqueeze(1).to(device), mask)


@torch.no_grad()
def predict(model: nn.Module, noisy: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Model output for (N, 1, 28, 28) inputs, in eval mode, batched."""
    model.eval()
    outs = [model(noisy[i : i + batch_size]) for i in range(0, noisy.shape[0], batch_size)]
    return torch.cat(outs) if outs else noisy.new_zeros(noisy.shape)


def validate(model: nn.Module, val: ValidationSet) -> dict[str, float]:
    """Mean PSNR of the cleaned validation images, overall and per noise type."""
    out = predict(model, val.noisy).squeeze(1).cpu().numpy()  # (N, 28, 28)
    values = psnr(val.clean.squeeze(1).cpu().numpy(), out)
    mask = val.gaussian.cpu().numpy()
    result = {"val_psnr": float(values.mean())}
    if mask.any():
        result["val_psnr_gaussian"] = float(values[mask].mean())
    if (~mask).any():
        result["val_psnr_speckle"] = float(values[~mask].mean())
    return result


def train(
    config: TrainConfig,
    noise: NoiseConfig,
    train_digits: Digits,
    val_digits: Digits | None = None,
    device: torch.device | str = "cpu",
    callback: ProgressCallback | None = None,
    stop_event: threading.Event | None = None,
    report_every: int = 50,
    model_config: Any = None,
) -> Checkpoint:
    """Train a registered model; returns a checkpoint with history (stops early on the loss criterion)."""
    device = torch.device(device)
    g = make_generator(config.seed)  # weight init, dropout masks, data order and noise: never the global RNG
    model_config = model_config or default_config(config.model)
    model = build_model(model_config, g).to(device)
    set_dropout_generator(model, g if device.type == "cpu" else make_generator(config.seed, device))
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    criterion = nn.MSELoss()

    images = train_digits.images[: config.limit] if config.limit else train_digits.images
    images = images.to(device)  # (N, 28, 28) uint8, converted per batch
    n = images.shape[0]
    if n == 0:
        raise ValueError("no training digits to train on")
    steps = math.ceil(n / config.batch_size)
    val = ValidationSet.make(val_digits, noise, config.seed + 1, device) if val_digits is not None else None
    frozen = None if config.fresh_noise else add_noise(images.cpu(), noise, g).to(device)  # (N, 28, 28)

    scheduler = (
        torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=config.epochs * steps)
        if config.schedule == "onecycle"
        else None
    )
    history: list[dict[str, float]] = []
    start = time.perf_counter()
    stopped = False
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(n, generator=g).to(device)
        source = augment_digits(images.cpu(), g).to(device) if config.augment else images  # (N, 28, 28) uint8
        running = 0.0
        for step in range(steps):
            idx = order[step * config.batch_size : (step + 1) * config.batch_size]
            clean = source[idx].float()  # (B, 28, 28) 0..255
            if config.augment:
                noisy = blind_noise(clean.cpu(), noise, g).to(device)
            else:
                noisy = frozen[idx] if frozen is not None else add_noise(clean.cpu(), noise, g).to(device)
            inputs = to_unit(noisy).unsqueeze(1).contiguous(memory_format=memory_format)  # (B, 1, 28, 28)
            target = to_unit(clean).unsqueeze(1)  # (B, 1, 28, 28)
            loss = criterion(model(inputs), target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            running += loss.item()
            if callback and (step + 1) % report_every == 0:
                callback(
                    Progress(
                        epoch,
                        config.epochs,
                        step + 1,
                        steps,
                        running / (step + 1),
                        time.perf_counter() - start,
                        history=history,
                        model=model,
                    )
                )
            if stop_event is not None and stop_event.is_set():
                stopped = True
                break
        done_steps = step + 1
        row: dict[str, float] = {"epoch": float(epoch), "train_loss": running / done_steps}
        if val is not None:
            row.update(validate(model, val))
        row["seconds"] = time.perf_counter() - start
        history.append(row)
        if callback:
            callback(
                Progress(
                    epoch,
                    config.epochs,
                    done_steps,
                    steps,
                    row["train_loss"],
                    row["seconds"],
                    True,
                    dict(row),
                    history,
                    model,
                )
            )
        if stopped or row["train_loss"] <= config.stop_loss:
            break

    model.eval()
    set_dropout_generator(model, None)
    final = {k: v for k, v in history[-1].items() if k.startswith("val_")} if history else {}
    train_info = asdict(config) | {"stopped_by_user": stopped, "epochs_run": len(history), "device": str(device)}
    return Checkpoint(
        model_config=model_config,
        state_dict={k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()},
        noise=noise,
        train=train_info,
        history=history,
        metrics=final,
    )


def history_csv(history: list[dict[str, float]]) -> str:
    """Training history as CSV text (one row per epoch)."""
    if not history:
        return "epoch\n"
    columns = list(dict.fromkeys(k for row in history for k in row))
    lines = [",".join(columns)]
    for row in history:
        lines.append(",".join("" if k not in row else f"{row[k]:.6g}" for k in columns))
    return "\n".join(lines) + "\n"


def cleaned(model: nn.Module, noisy_unit: np.ndarray, device: torch.device | str = "cpu") -> np.ndarray:
    """Denoise (N, 28, 28) or (28, 28) float images in model units; same shape out."""
    arr = np.asarray(noisy_unit, dtype=np.float32)
    single = arr.ndim == 2
    x = torch.from_numpy(arr.reshape(-1, 1, 28, 28)).to(device)  # (N, 1, 28, 28)
    out = predict(model, x).cpu().numpy().reshape(-1, 28, 28)
    return out[0] if single else out
