"""Time-to-quality on CPU: our trainer vs the textbook's recipe (Appendix 1), same machine, same run.

Both train the Table 1 model on the first 58,000 training digits and are evaluated, with the clock
stopped, on the same held-out 2,000 digits (same noise draws, Gaussian-B and speckle separately)
until both targets are reached. Both wall-clock and CPU seconds are kept: on a shared machine other work
stretches the wall clock unevenly between the two, while the CPU time a one-thread run gets does not.
Run: python -m bench.time_to_quality --threads 1 (our side: the fast recipe of lib.train; each setting can
be overridden, e.g. --batch-size 64 --lr 0.005)
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from dataclasses import replace

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from lib.data import load_split, train_val_split
from lib.inference import predict
from lib.metrics import psnr
from lib.models import Table1Autoencoder, Table1Config
from lib.noise import NoiseConfig, make_generator, preset
from lib.train import FAST, SCHEDULES, Progress, TrainConfig, recipe, train

TARGET_GAUSSIAN = 26.0
TARGET_SPECKLE = 22.5


class HeldOut:
    """Held-out digits with one unclipped noise draw each; each model gets its own input units."""

    def __init__(self, images: torch.Tensor, seed: int) -> None:
        g = make_generator(seed)
        cfg = preset("B")
        clean = images.float()  # (N, 28, 28) 0..255
        self.clean = (clean / 255).numpy()
        gauss = clean + cfg.mean + cfg.var**0.5 * torch.randn(clean.shape, generator=g)
        speck = clean + clean * torch.randn(clean.shape, generator=g)
        self.raw = {"gaussian": gauss, "speckle": speck}  # unclipped, 0..255

    def score(self, model: nn.Module, units: str) -> dict[str, float]:
        """Mean PSNR per noise type; 'textbook' feeds raw 0..255, 'clipped' [0, 1], 'unclipped' raw / 255."""
        out = {}
        for kind, raw in self.raw.items():
            x = {"textbook": raw, "clipped": raw.clamp(0, 255) / 255, "unclipped": raw / 255}[units]
            pred = predict(model, x.unsqueeze(1)).squeeze(1).numpy()
            out[kind] = float(psnr(self.clean, pred).mean())
        model.train()
        return out


def reached(scores: dict[str, float]) -> bool:
    return scores["gaussian"] >= TARGET_GAUSSIAN and scores["speckle"] >= TARGET_SPECKLE


def textbook_add_noise(img: np.ndarray, noise_type: str, rng: np.random.Generator) -> np.ndarray:
    """Appendix 1's add_noise (Group B), one image at a time."""
    img = img.astype(np.float32)
    if noise_type == "gaussian":
        return img + rng.normal(-20, 600**0.5, img.shape)
    return img + img * rng.standard_normal(img.shape)


class NoisedDataset(Dataset):
    """Appendix 1's noisedDataset: per-sample ToTensor on numpy arrays."""

    def __init__(self, noisy, clean, labels, transform) -> None:
        self.noise, self.clean, self.labels, self.transform = noisy, clean, labels, transform

    def __len__(self) -> int:
        return len(self.noise)

    def __getitem__(self, idx):
        return self.transform(self.noise[idx]), self.transform(self.clean[idx]), self.labels[idx]


def run_textbook(images: np.ndarray, labels: np.ndarray, held: HeldOut, eval_every: int, max_seconds: float, seed: int):
    """The textbook's program (noise prep loop, DataLoader batch 32, Adam 0.003), clock without evaluation."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    log = []
    start = time.perf_counter()
    cpu_start = time.process_time()  # CPU time this process got: what other work on the machine cannot inflate
    paused = 0.0
    paused_cpu = 0.0
    half = len(images) // 2
    noisy = np.zeros(images.shape)
    for idx in range(len(images)):
        noisy[idx] = textbook_add_noise(images[idx], "gaussian" if idx < half else "speckle", rng)
    loader = DataLoader(
        NoisedDataset(noisy, images, labels, transforms.Compose([transforms.ToTensor()])),
        batch_size=32,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    model = Table1Autoencoder(Table1Config())
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.003)
    seen = 0
    for _epoch in range(120):
        for dirty, clean, _label in loader:
            dirty = dirty.view(dirty.size(0), 1, 28, 28).type(torch.FloatTensor)
            clean = clean.view(clean.size(0), 1, 28, 28).type(torch.FloatTensor)
            loss = criterion(model.forward(dirty), clean)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            seen += dirty.size(0)
            if seen % eval_every < 32:
                t0, c0 = time.perf_counter(), time.process_time()
                elapsed, cpu = t0 - start - paused, c0 - cpu_start - paused_cpu
                scores = held.score(model, "textbook")
                paused += time.perf_counter() - t0
                paused_cpu += time.process_time() - c0
                log.append({"images": seen, "seconds": elapsed, "cpu_seconds": cpu, **scores})
                print(
                    f"textbook {seen:>7} imgs {elapsed:7.1f}s  G {scores['gaussian']:.2f}  S {scores['speckle']:.2f}",
                    flush=True,
                )
                if reached(scores) or elapsed > max_seconds:
                    return log
    return log


def run_ours(train_digits, held: HeldOut, cfg: TrainConfig, noise: NoiseConfig, eval_every: int, max_seconds: float):
    """Our trainer with the given settings, evaluated every `eval_every` images, clock without evaluation."""
    log: list[dict[str, float]] = []
    stop = threading.Event()
    paused = [0.0, 0.0]  # wall and CPU seconds spent evaluating
    report = max(1, eval_every // cfg.batch_size)
    cpu_start = time.process_time()

    def on_progress(p: Progress) -> None:
        if p.epoch_done or p.model is None:
            return
        t0, c0 = time.perf_counter(), time.process_time()
        elapsed, cpu = p.elapsed - paused[0], c0 - cpu_start - paused[1]
        scores = held.score(p.model, "clipped" if noise.clip else "unclipped")
        paused[0] += time.perf_counter() - t0
        paused[1] += time.process_time() - c0
        seen = p.images
        log.append({"images": seen, "seconds": elapsed, "cpu_seconds": cpu, **scores})
        print(
            f"ours     {seen:>7} imgs {elapsed:7.1f}s  G {scores['gaussian']:.2f}  S {scores['speckle']:.2f}",
            flush=True,
        )
        if reached(scores) or elapsed > max_seconds:
            stop.set()

    train(cfg, noise, train_digits, None, "cpu", on_progress, stop, report_every=report)
    return log


def first_hit(log: list[dict[str, float]], key: str = "seconds") -> float | None:
    for row in log:
        if reached(row):
            return row[key]
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=FAST.batch_size)
    parser.add_argument("--lr", type=float, default=FAST.lr)
    parser.add_argument("--schedule", choices=SCHEDULES, default=FAST.schedule)
    parser.add_argument("--epochs", type=int, default=FAST.epochs, help="epochs the one-cycle schedule spans")
    parser.add_argument("--warmup", type=float, default=FAST.warmup, help="one-cycle: share of steps warming up")
    parser.add_argument("--eval-every", type=int, default=6400, help="images between evaluations")
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-textbook", action="store_true")
    parser.add_argument("--skip-ours", action="store_true")
    parser.add_argument(
        "--no-clip", action="store_true", help="train and evaluate ours on unclipped noise, like the textbook"
    )
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    load_start = os.getloadavg()[0]  # other work on the machine slows both trainers; say how busy it was
    digits, held_digits = train_val_split(load_split("train"), 2000)
    held = HeldOut(held_digits.images, seed=999)
    cfg = recipe(
        "fast",
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        schedule=args.schedule,
        epochs=args.epochs,
        warmup=args.warmup,
    )
    noise = replace(preset("B"), clip=not args.no_clip)
    ours = [] if args.skip_ours else run_ours(digits, held, cfg, noise, args.eval_every, args.max_seconds)
    result = {
        "settings": {
            "batch_size": args.batch_size,
            "lr": args.lr,
            "channels_last": cfg.channels_last,
            "schedule": args.schedule,
            "epochs": args.epochs,
            "warmup": args.warmup,
            "threads": torch.get_num_threads(),
        },
        "ours_seconds": first_hit(ours),
        "ours_cpu_seconds": first_hit(ours, "cpu_seconds"),
        "ours_log": ours,
    }
    if not args.skip_textbook:
        book = run_textbook(
            digits.images.numpy(), digits.labels.numpy(), held, args.eval_every, args.max_seconds, args.seed
        )
        result |= {
            "textbook_seconds": first_hit(book),
            "textbook_cpu_seconds": first_hit(book, "cpu_seconds"),
            "textbook_log": book,
        }
        if result["ours_seconds"] and result["textbook_seconds"]:
            result["speedup"] = result["textbook_seconds"] / result["ours_seconds"]
            result["speedup_cpu"] = result["textbook_cpu_seconds"] / result["ours_cpu_seconds"]
    result["load_average_1min"] = {"start": load_start, "end": os.getloadavg()[0]}
    print(json.dumps({k: v for k, v in result.items() if not k.endswith("_log")}, indent=1))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
