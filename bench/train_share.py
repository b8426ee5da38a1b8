"""The classroom run and two trainings sharing the CPU: wall time and images per second.

Run: python -m bench.train_share --json bench/results_train_share.json
* classroom: the Train page's run (6,000 digits, 5 epochs, 1,000 validation digits) through lib.jobs, the
  page's own path, with its default (the classroom recipe) and with the textbook's settings (batch 32,
  lr 0.003, stop 0.0063).
* sharing: one training alone, then two at once — as two threads of one server through the app's training
  queue (they take turns in time slices), as two threads without it, and as two processes.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import threading
import time

import torch

from bench import report
from lib.data import Digits, load_split, train_val_split
from lib.jobs import TrainingJob, TrainingQueue
from lib.noise import preset
from lib.train import recipe, train


def classroom(kind: str, digits: Digits, val: Digits, subset: int, epochs: int) -> dict[str, float]:
    """One page-sized run through the app's job queue; wall time from Start to the finished model."""
    config = recipe(kind, epochs=epochs, limit=subset, val_size=val.images.shape[0])  # textbook: the old defaults
    job = TrainingJob(config, preset("B"), digits, val, TrainingQueue())
    t0 = time.perf_counter()
    job.start()
    job.join()
    wall = time.perf_counter() - t0
    info = job.result.train
    return {"seconds": wall, "epochs_run": info["epochs_run"], "images": info["images_seen"],
            "images_per_s": info["images_per_s"], "val_psnr": job.result.metrics.get("val_psnr")}  # fmt: skip


def _images_per_s(digits: Digits, subset: int, epochs: int, seed: int) -> float:
    config = recipe("fast", epochs=epochs, limit=subset, seed=seed)
    return float(train(config, preset("B"), digits).train["images_per_s"])


def _process(args: tuple) -> float:
    digits, subset, epochs, seed, threads = args
    torch.set_num_threads(threads)
    return _images_per_s(digits, subset, epochs, seed)


def sharing(digits: Digits, subset: int, epochs: int) -> dict[str, object]:
    """Throughput of one training alone and of each of two at once, several ways."""
    solo = _images_per_s(digits, subset, epochs, 0)
    out: dict[str, object] = {"solo_images_per_s": solo}

    rates: dict[int, float] = {}

    def run(i: int) -> None:
        rates[i] = _images_per_s(digits, subset, epochs, i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    out["two_threads"] = [rates[0], rates[1]]

    queue = TrainingQueue()
    val = Digits(digits.images[-200:], digits.labels[-200:])
    jobs = [TrainingJob(recipe("fast", epochs=epochs, limit=subset, seed=i), preset("B"), digits, val, queue)
            for i in range(2)]  # fmt: skip
    for job in jobs:
        job.start()
    for job in jobs:
        job.join()
    out["two_app_jobs_taking_turns"] = [float(j.result.train["images_per_s"]) for j in jobs]

    ctx = mp.get_context("spawn")
    for per in (1, torch.get_num_threads()):
        with ctx.Pool(2) as pool:
            out[f"two_processes_{per}_thread"] = pool.map(
                _process, [(digits, subset, epochs, i, per) for i in range(2)]
            )
    out["share_of_solo"] = {k: [r / solo for r in v] for k, v in out.items() if isinstance(v, list)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    digits, val = train_val_split(load_split("train"), 1000)  # the page's split
    result: dict[str, object] = {"threads": torch.get_num_threads(), "subset": args.subset, "epochs": args.epochs}
    for kind in ("classroom", "textbook"):
        result[f"classroom_{kind}"] = row = classroom(kind, digits, val, args.subset, args.epochs)
        print(f"classroom {kind:9} {row['seconds']:6.1f} s  {row['images_per_s']:7.0f} img/s  "
              f"{row['epochs_run']} epochs  val {row['val_psnr']:.2f} dB", flush=True)  # fmt: skip
    result["sharing"] = share = sharing(digits, args.subset, 2)
    for key, value in share["share_of_solo"].items():
        print(f"{key:32} " + "  ".join(f"{v:.0%}" for v in value), flush=True)
    report(result, args.json)


if __name__ == "__main__":
    main()
