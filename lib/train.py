"""One training loop for the CLI, the app and torchrun: preloaded uint8 tensors, noise made on the fly per batch."""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from lib import distributed
from lib.augment import augment_digits, blind_noise
from lib.checkpoint import Checkpoint
from lib.data import Digits
from lib.inference import predict
from lib.metrics import psnr
from lib.models import build_model, default_config, set_dropout_generator
from lib.noise import NoiseConfig, add_noise, make_generator, mix_mask, to_unit
from lib.optim import Adam, OneCycle

SCHEDULES = ("constant", "onecycle")


class NoTrainingDigits(ValueError):
    """The training set (after the digit limit) has fewer digits than there are processes."""


@dataclass(frozen=True)
class TrainConfig:
    """Textbook defaults (Appendix 1): Adam lr 0.003, MSE, batch 32, ≤120 epochs, stop at loss 0.0063."""

    model: str = "table1"
    epochs: int = 120
    lr: float = 0.003
    batch_size: int = 32  # per process; under torchrun the effective batch is this × the number of processes
    stop_loss: float = 0.0063
    seed: int = 0
    limit: int | None = None  # use only the first N training digits (a quick classroom run)
    fresh_noise: bool = True  # new noise every epoch; False freezes it once, as the textbook did
    channels_last: bool = True  # faster convolutions on CPU; same model, same numbers up to rounding
    val_size: int = 2000  # per-epoch validation digits, held out of the training split
    schedule: str = "constant"  # "constant" (textbook) or "onecycle": warm up to lr, anneal to ~0 by the last epoch
    warmup: float = 0.3  # one-cycle: share of the steps spent warming up
    augment: bool = False  # vary the digits every epoch and the noise strength per image (lib.augment)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch size must be at least 1")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"learning rate must be > 0, got {self.lr}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; use constant or onecycle")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be ≥ 1, got {self.limit}")
        if not 0.0 < self.warmup < 1.0:
            raise ValueError(f"warm-up share must be between 0 and 1, got {self.warmup}")


# The textbook's recipe (Appendix 1) and the fast one (chosen with bench/time_to_quality.py): batch 128,
# one-cycle up to lr 0.03 over 6 epochs. The fast one runs its whole schedule (no loss criterion: annealing to
# the end is what gives the quality).
TEXTBOOK = TrainConfig()
FAST = TrainConfig(epochs=6, lr=0.03, batch_size=128, stop_loss=0.0, schedule="onecycle", warmup=0.3)
# The Train page's short runs (6,000 digits × 5 epochs = 30,000 images): the same schedule with batch 64 and
# lr 0.02 — twice the steps of batch 128 — reaches the textbook settings' validation PSNR (bench/train_share.py).
CLASSROOM = TrainConfig(epochs=5, lr=0.02, batch_size=64, stop_loss=0.0, schedule="onecycle", warmup=0.3)
RECIPES = {"fast": FAST, "classroom": CLASSROOM, "textbook": TEXTBOOK}


def recipe(name: str, **overrides: Any) -> TrainConfig:
    """A named recipe ('fast', 'classroom' or 'textbook') with some fields replaced."""
    base = RECIPES.get(name)
    if base is None:
        raise ValueError(f"unknown recipe {name!r}; use one of {', '.join(RECIPES)}")
    return replace(base, **overrides)


@dataclass(kw_only=True)
class Progress:
    """What the callback sees: where training is and how it goes."""

    epoch: int  # 1-based
    epochs: int
    step: int  # steps done in this epoch
    steps_per_epoch: int
    loss: float  # mean training loss of this epoch so far
    batch_loss: float  # the last batch's loss (this process's)
    elapsed: float  # seconds since start
    epoch_done: bool = False
    val: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    model: nn.Module | None = None  # the live model (for benchmarks that evaluate mid-epoch)
    images: int = 0  # training images seen so far, all processes together
    train_seconds: float = 0.0  # seconds spent in training steps only (no validation)

    @property
    def fraction(self) -> float:
        """Share of the planned work done, 0..1."""
        return ((self.epoch - 1) * self.steps_per_epoch + self.step) / (self.epochs * self.steps_per_epoch)

    @property
    def epochs_done(self) -> float:
        """Epochs done so far, fractional within an epoch (1.11 = 11% into the second)."""
        return self.epoch - 1 + self.step / self.steps_per_epoch

    @property
    def eta(self) -> float:
        """Seconds left at the current pace (for the planned number of epochs, validation included)."""
        f = self.fraction
        return self.elapsed * (1 - f) / f if f > 0 else float("nan")

    @property
    def images_per_second(self) -> float:
        """Training throughput so far (validation time not counted)."""
        return self.images / self.train_seconds if self.train_seconds > 0 else float("nan")

    @property
    def epoch_seconds(self) -> float:
        """Time one epoch takes at the current pace (validation included)."""
        done = self.epochs_done
        return self.elapsed / done if done > 0 else float("nan")


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


def validate(model: nn.Module, val: ValidationSet) -> dict[str, float]:
    """Mean PSNR of the cleaned validation images, overall and per noise type."""
    # Small batches: at 1,000 the activations of one validation pass took ~100 MB, held by the allocator after.
    out = predict(model, val.noisy, batch_size=200).squeeze(1).cpu().numpy()  # (N, 28, 28)
    values = psnr(val.clean.squeeze(1).cpu().numpy(), out)
    mask = val.gaussian.cpu().numpy()
    result = {"val_psnr": float(values.mean())}
    if mask.any():
        result["val_psnr_gaussian"] = float(values[mask].mean())
    if (~mask).any():
        result["val_psnr_speckle"] = float(values[~mask].mean())
    return result


def batch_noise(clean: torch.Tensor, noise: NoiseConfig, generator: torch.Generator) -> torch.Tensor:
    """The textbook's noise for one batch (B, 28, 28) in 0..255, drawing one normal per pixel.

    Same distributions as lib.noise.add_noise (Gaussian x + μ + √D·z, speckle x + x·s·z, the mix gives
    Gaussian to exactly half of the batch), but one random draw per pixel instead of one per noise type.
    """
    b = clean.shape[0]
    dev = clean.device
    if noise.kind == "mix":
        gauss = mix_mask(b, generator, dev)  # (B,) bool
    else:
        gauss = torch.full((b,), noise.kind == "gaussian", device=dev)
    z = torch.randn(clean.shape, generator=generator, device=dev)  # (B, 28, 28)
    g = gauss.view(-1, 1, 1)
    # Gaussian: x + (μ + √D z); speckle: x + x (s z). Per image one of the two scales multiplies z.
    scale = torch.where(g, math.sqrt(noise.var), noise.speckle * clean)  # (B, 28, 28)
    shift = torch.where(g, noise.mean, 0.0)  # (B, 1, 1)
    noisy = torch.addcmul(clean + shift, scale, z)
    return noisy.clamp_(0.0, 255.0) if noise.clip else noisy


def rank_seed(seed: int, rank: int) -> int:
    """A seed for one process's noise and dropout, derived from the run's seed (distinct per rank)."""
    return int(np.random.SeedSequence([int(seed), int(rank), 0x5EED]).generate_state(1, np.uint64)[0] >> 1)


def _autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA GPUs that support it (tensor cores); full fp32 elsewhere."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@dataclass
class TrainingRun:
    """What a run builds before its first epoch: model, optimiser, schedule, digits, validation set, generators."""

    model: nn.Module
    net: nn.Module  # the model, or its DistributedDataParallel wrapper under torchrun
    model_config: Any
    optimizer: Adam
    schedule: OneCycle | None  # None: the constant learning rate
    criterion: nn.Module
    generator: torch.Generator  # weight init and data order: the same in every process
    generator_local: torch.Generator  # noise and dropout: this process's own
    images: torch.Tensor  # (N, 28, 28) uint8 on the device, converted per batch
    frozen: torch.Tensor | None  # (N, 28, 28) noisy once for every epoch; None when each batch gets new noise
    val: ValidationSet | None
    memory_format: torch.memory_format
    device: torch.device
    rank: int
    world: int
    share: int  # digits per process per epoch (the remainder sits out a random epoch's turn)
    steps: int  # batches per epoch


@dataclass
class RunState:
    """What a run carries from one epoch to the next; a per-epoch resume state restores it."""

    start: float  # time.perf_counter() at the start, moved back by a resumed run's time so far
    first_epoch: int = 1
    step_count: int = 0  # optimizer steps so far, for the schedule
    seen: int = 0  # images seen by all processes
    train_seconds: float = 0.0  # seconds spent in training steps only (no validation)
    history: list[dict[str, float]] = field(default_factory=list)
    stopped: bool = False  # the stop event ended the run
    overlap: int = 0  # most digits one epoch handed to two processes (should stay 0)
    rank_digits: list[int] = field(default_factory=list)  # digits per process in the first epoch trained


class EpochResult(NamedTuple):
    """How an epoch went: steps done (fewer when stopped), mean loss over all processes, last batch's loss."""

    steps: int
    mean_loss: float
    batch_loss: float


def build_run(
    config: TrainConfig,
    noise: NoiseConfig,
    train_digits: Digits,
    val_digits: Digits | None,
    device: torch.device,
    model_config: Any,
) -> TrainingRun:
    """The model, optimiser, schedule, digits on the device, validation set and generators of a fresh run."""
    rank, world = distributed.rank_and_world()
    g = make_generator(config.seed)  # weight init and data order: the same in every process
    g_local = make_generator(rank_seed(config.seed, rank), device)  # noise and dropout: this process's own
    model = build_model(model_config, g).to(device)
    set_dropout_generator(model, g_local)
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    net = distributed.wrap(model, device) if world > 1 else model  # gradients averaged across processes
    optimizer = Adam(model.parameters(), lr=config.lr)

    images = train_digits.images[: config.limit] if config.limit else train_digits.images
    images = images.to(device)  # (N, 28, 28) uint8, converted per batch
    n = images.shape[0]
    if n < world:
        raise NoTrainingDigits("no training digits to train on")
    share = n // world
    steps = math.ceil(share / config.batch_size)
    val = ValidationSet.make(val_digits, noise, config.seed + 1, device) if val_digits is not None else None
    # Frozen noise is drawn once from the shared generator, so every process holds the same noisy set.
    frozen = None if config.fresh_noise else add_noise(images.cpu(), noise, g).to(device)  # (N, 28, 28)

    schedule = OneCycle(config.lr, config.epochs * steps, config.warmup) if config.schedule == "onecycle" else None
    if schedule is not None:
        optimizer.lr, optimizer.beta1 = schedule.at(0)
    return TrainingRun(
        model=model, net=net, model_config=model_config, optimizer=optimizer, schedule=schedule,
        criterion=nn.MSELoss(), generator=g, generator_local=g_local, images=images, frozen=frozen, val=val,
        memory_format=memory_format, device=device, rank=rank, world=world, share=share, steps=steps,
    )  # fmt: skip


def start_state(run: TrainingRun, resume: dict[str, Any] | None) -> RunState:
    """Fresh counters, or the weights, optimiser, generators and counters of a per-epoch resume state."""
    state = RunState(start=time.perf_counter())
    if resume is None:
        return state
    # The run was rebuilt as at the start; now it continues where the resume state says.
    run.model.load_state_dict(resume["model"])
    run.optimizer.load_state_dict(resume["optimizer"])
    run.generator.set_state(resume["generator"])
    run.generator_local.set_state(resume["generator_local"])
    state.step_count, state.seen = int(resume["step_count"]), int(resume["seen"])
    state.train_seconds = float(resume["train_seconds"])
    state.history = [dict(row) for row in resume["history"]]
    state.start -= float(state.history[-1]["seconds"]) if state.history else 0.0
    state.first_epoch = int(resume["epoch"]) + 1
    return state


def noisy_batch(
    run: TrainingRun, clean: torch.Tensor, idx: torch.Tensor, noise: NoiseConfig, augment: bool
) -> torch.Tensor:
    """The noisy input (B, 28, 28) in 0..255 for the clean batch (B, 28, 28): frozen, blind or textbook noise."""
    if run.frozen is not None:
        return run.frozen[idx]
    if augment:
        return blind_noise(clean, noise, run.generator_local)
    return batch_noise(clean, noise, run.generator_local)


def train_step(run: TrainingRun, inputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """One optimiser step on a batch (B, 1, 28, 28); returns the batch's loss (a 0-d tensor, not synced)."""
    with _autocast(run.device):
        out = run.net(inputs)  # (B, 1, 28, 28)
    loss = run.criterion(out.float(), target)
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    run.optimizer.step()
    return loss


def train_epoch(
    run: TrainingRun,
    state: RunState,
    config: TrainConfig,
    noise: NoiseConfig,
    epoch: int,
    callback: ProgressCallback | None,
    stop_event: threading.Event | None,
    report_every: int,
) -> EpochResult:
    """Train one epoch, or until the stop event is set, reporting to the callback every `report_every` steps."""
    run.net.train()
    n = run.images.shape[0]
    order = torch.randperm(n, generator=run.generator)  # the same permutation in every process
    mine = order[run.rank * run.share : (run.rank + 1) * run.share].to(run.device)  # this process's disjoint share
    if run.world > 1:
        counts, dupes = distributed.check_disjoint(mine)
        state.overlap = max(state.overlap, dupes)
        state.rank_digits = state.rank_digits or counts
    images = run.images  # (N, 28, 28) uint8
    epoch_images = augment_digits(images.cpu(), run.generator).to(run.device) if config.augment else images
    running = torch.zeros((), device=run.device)
    loss = torch.full((), math.nan, device=run.device)  # the last batch's
    t_epoch = time.perf_counter()
    step = 0
    for step in range(run.steps):
        idx = mine[step * config.batch_size : (step + 1) * config.batch_size]
        clean = epoch_images[idx].float()  # (B, 28, 28) 0..255
        noisy = noisy_batch(run, clean, idx, noise, config.augment)  # (B, 28, 28)
        inputs = to_unit(noisy).unsqueeze(1).contiguous(memory_format=run.memory_format)  # (B, 1, 28, 28)
        target = to_unit(clean).unsqueeze(1)  # (B, 1, 28, 28)
        loss = train_step(run, inputs, target)
        state.step_count += 1
        if run.schedule is not None and state.step_count < run.schedule.total_steps:
            run.optimizer.lr, run.optimizer.beta1 = run.schedule.at(state.step_count)
        running += loss.detach()  # no .item() per step: it would wait for the GPU every batch
        state.seen += idx.shape[0] * run.world
        if callback and (step + 1) % report_every == 0:
            now = time.perf_counter()
            callback(
                Progress(
                    epoch=epoch,
                    epochs=config.epochs,
                    step=step + 1,
                    steps_per_epoch=run.steps,
                    loss=running.item() / (step + 1),
                    batch_loss=loss.item(),  # the wait for the GPU is paid by running.item() already
                    elapsed=now - state.start,
                    history=state.history,
                    model=run.model,
                    images=state.seen,
                    train_seconds=state.train_seconds + now - t_epoch,
                )
            )
        if stop_event is not None and stop_event.is_set():
            state.stopped = True
            break
    done_steps = step + 1
    state.train_seconds += time.perf_counter() - t_epoch
    mean_loss = distributed.mean(running / done_steps)  # the same number in every process
    return EpochResult(done_steps, mean_loss, loss.item())


def epoch_row(run: TrainingRun, state: RunState, epoch: int, done_steps: int, mean_loss: float) -> dict[str, float]:
    """The epoch's history row: how far it got, images seen, mean loss, validation PSNR, time and speed."""
    partial = done_steps < run.steps
    # A stopped epoch is reported as what it is: 1.11 epochs, not a second whole one.
    row: dict[str, float] = {
        "epoch": round(epoch - 1 + done_steps / run.steps, 2) if partial else float(epoch),
        "images": float(state.seen),
        "train_loss": mean_loss,
    }
    if run.val is not None and run.rank == 0:
        row.update(validate(run.model, run.val))
    row["seconds"] = time.perf_counter() - state.start
    row["images_per_s"] = state.seen / state.train_seconds if state.train_seconds > 0 else float("nan")
    return row


def resume_state(run: TrainingRun, state: RunState, epoch: int) -> dict[str, Any]:
    """Everything needed to continue after this whole epoch (what `train`'s `resume` takes back)."""
    return {"epoch": epoch, "model": {k: v.detach().cpu().clone() for k, v in run.model.state_dict().items()},
            "optimizer": run.optimizer.state_dict(), "generator": run.generator.get_state(),
            "generator_local": run.generator_local.get_state().cpu(), "step_count": state.step_count,
            "seen": state.seen, "train_seconds": state.train_seconds,
            "history": [dict(r) for r in state.history]}  # fmt: skip


def finish(run: TrainingRun, state: RunState, config: TrainConfig, noise: NoiseConfig) -> Checkpoint:
    """The checkpoint of the trained model: last weights, history, final validation metrics, run details."""
    run.model.eval()
    set_dropout_generator(run.model, None)
    history = state.history
    final = {k: v for k, v in history[-1].items() if k.startswith("val_")} if history else {}
    epochs_run = history[-1]["epoch"] if history else 0.0
    train_info = asdict(config) | {
        "stopped_by_user": state.stopped,
        "epochs_run": epochs_run,
        "images_seen": state.seen,
        "images_per_s": state.seen / state.train_seconds if state.train_seconds > 0 else 0.0,
        "device": str(run.device),
        "processes": run.world,
    }
    if run.world > 1:
        train_info |= {"digits_per_process": state.rank_digits, "digits_seen_twice_in_an_epoch": state.overlap}
    return Checkpoint(
        model_config=run.model_config,
        state_dict={k: v.detach().cpu().contiguous().clone() for k, v in run.model.state_dict().items()},
        noise=noise,
        train=train_info,
        history=history,
        metrics=final,
    )


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
    on_epoch_state: Callable[[dict[str, Any]], None] | None = None,
    resume: dict[str, Any] | None = None,
) -> Checkpoint:
    """Train a registered model; returns a checkpoint with history (stops early on the loss criterion).

    on_epoch_state gets, after every whole epoch, everything needed to continue (`resume_state` layout:
    model and optimiser state, both generators, history); passing that dict back as `resume` continues
    from the next epoch with the same numbers an uninterrupted run would give.

    Under torchrun (torch.distributed initialised) every process trains its own share of each epoch's
    digits with its own noise, gradients are averaged by DistributedDataParallel, and every process
    returns the same weights.
    """
    device = torch.device(device)
    run = build_run(config, noise, train_digits, val_digits, device, model_config or default_config(config.model))
    state = start_state(run, resume)
    for epoch in range(state.first_epoch, config.epochs + 1):
        done = train_epoch(run, state, config, noise, epoch, callback, stop_event, report_every)
        row = epoch_row(run, state, epoch, done.steps, done.mean_loss)
        state.history.append(row)
        if callback:
            callback(
                Progress(
                    epoch=epoch,
                    epochs=config.epochs,
                    step=done.steps,
                    steps_per_epoch=run.steps,
                    loss=row["train_loss"],
                    batch_loss=done.batch_loss,
                    elapsed=row["seconds"],
                    epoch_done=True,
                    val=dict(row),
                    history=state.history,
                    model=run.model,
                    images=state.seen,
                    train_seconds=state.train_seconds,
                )
            )
        if on_epoch_state is not None and done.steps == run.steps and run.rank == 0:
            on_epoch_state(resume_state(run, state, epoch))
        if state.stopped or row["train_loss"] <= config.stop_loss:
            break
    return finish(run, state, config, noise)


def history_csv(history: list[dict[str, float]]) -> str:
    """Training history as CSV text (one row per epoch; a stopped epoch's row says how far it got)."""
    if not history:
        return "epoch\n"
    columns = list(dict.fromkeys(k for row in history for k in row))
    lines = [",".join(columns)]
    for row in history:
        lines.append(",".join("" if k not in row else f"{row[k]:.6g}" for k in columns))
    return "\n".join(lines) + "\n"
