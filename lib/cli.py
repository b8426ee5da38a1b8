"""Command line: python -m lib train | evaluate | compare | section5 | denoise."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from lib import checkpoint as ckpt_io
from lib.atomic import write_bytes_atomically
from lib.baselines import BASELINES, SLOW_BASELINES
from lib.data import load_split, train_val_split
from lib.device import DEVICE_CHOICES, pick_device
from lib.evaluate import clean_test_set, eval_digits, evaluate_baseline, evaluate_model, evaluate_noisy, noisy_test_set
from lib.inference import cleaned
from lib.model_names import canonical_model
from lib.models import REGISTRY
from lib.noise import NOISE_KINDS, NoiseConfig, add_noise, make_generator, preset, to_unit
from lib.preprocess import MAX_UPLOAD_BYTES, PreprocessError, open_image, to_mnist
from lib.safe_names import clean_name, csv_cell, file_part
from lib.train import SCHEDULES, Progress, recipe, train

EVAL_KINDS = ("gaussian", "speckle")


def add_noise_args(parser: argparse.ArgumentParser, allow_none: bool = False) -> None:
    """--noise A|B and fine-grained overrides."""
    parser.add_argument("--noise", choices=["A", "B", "a", "b"], help="textbook preset: Group A or Group B")
    parser.add_argument("--noise-kind", choices=NOISE_KINDS, help="gaussian, speckle or the half/half mix")
    parser.add_argument("--mean", type=float, help="Gaussian mean μ (pixel units 0..255)")
    parser.add_argument("--var", type=float, help="Gaussian variance D")
    parser.add_argument("--speckle", type=float, help="speckle strength s")
    parser.add_argument("--no-clip", action="store_true", help="keep values outside 0..255 (the textbook's variant)")
    if allow_none:
        parser.add_argument("--no-noise", action="store_true", help="clean the images as they are")


def noise_from_args(args: argparse.Namespace, base: NoiseConfig) -> NoiseConfig:
    """Start from a preset (or base) and apply explicit overrides."""
    cfg = preset(args.noise) if args.noise else base
    overrides = {
        k: v
        for k, v in {"kind": args.noise_kind, "mean": args.mean, "var": args.var, "speckle": args.speckle}.items()
        if v is not None
    }
    if args.no_clip:
        overrides["clip"] = False
    return replace(cfg, **overrides)


def metrics_on_test_split(
    model: torch.nn.Module, noise: NoiseConfig, device: torch.device, limit: int | None
) -> dict[str, float]:
    """Model PSNR/SSIM on the test set, one entry per noise type."""
    test = load_split("test")
    out: dict[str, float] = {}
    for kind in EVAL_KINDS:
        for key, value in evaluate_model(model, noisy_test_set(test, noise, kind, limit=limit), device).items():
            out[f"test_{kind}_{key}"] = value
    return out


def write_json_atomically(result: dict, out: Path) -> None:
    """Write a result file whole or not at all (temp file + rename), then say where."""
    write_bytes_atomically(out, json.dumps(result, indent=1).encode())
    print(f"wrote {out}")


def cmd_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from lib import distributed

    noise = noise_from_args(args, preset("B"))
    chosen = {"epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size, "stop_loss": args.stop_loss,
              "schedule": args.schedule}  # fmt: skip
    config = recipe(
        args.recipe,
        model=args.model,
        seed=args.seed,
        limit=args.limit,
        fresh_noise=not args.frozen_noise,
        val_size=args.val_size,
        augment=args.augment,
        **{k: v for k, v in chosen.items() if v is not None},
    )
    if args.threads:
        torch.set_num_threads(args.threads)
    ctx = distributed.init(pick_device(args.device))  # torchrun: one process per GPU (or per CPU share)
    device = ctx.device
    train_digits, val_digits = train_val_split(load_split("train"), config.val_size)
    quiet = args.quiet or not ctx.is_main
    bar = tqdm(total=config.epochs, unit="epoch", disable=quiet)
    inner = tqdm(unit="batch", leave=False, disable=quiet)

    def on_progress(p: Progress) -> None:
        inner.total = p.steps_per_epoch
        inner.n = p.step
        inner.set_postfix(loss=f"{p.loss:.4f}", img_s=f"{p.images_per_second:.0f}")
        inner.refresh()
        if p.epoch_done:
            bar.update(1)
            shown = {k: f"{v:.4g}" for k, v in p.val.items() if k in ("train_loss", "val_psnr")}
            bar.set_postfix(shown | {"img/s": f"{p.images_per_second:.0f}", "s/epoch": f"{p.epoch_seconds:.1f}"})
            inner.reset()

    result = train(config, noise, train_digits, val_digits, device, on_progress, report_every=20)
    inner.close()
    bar.close()
    if ctx.is_main:  # one process evaluates and writes the checkpoint (atomically)
        result.metrics |= metrics_on_test_split(result.build(device), noise, device, args.test_limit)
        path = ckpt_io.save(result, args.out)
        info = {k: result.train[k] for k in ("epochs_run", "images_seen", "images_per_s", "processes")}
        print(json.dumps({"out": str(path), **info, **result.metrics}, indent=1))
    distributed.finish()
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    loaded = ckpt_io.load(args.weights)  # a CheckpointError becomes a one-line error in main()
    device = pick_device(args.device)
    model = loaded.build(device)
    noise = noise_from_args(args, loaded.noise)
    test = eval_digits(args.set)
    rows: list[dict[str, object]] = []
    for kind in EVAL_KINDS:
        data = noisy_test_set(test, noise, kind, seed=args.seed, limit=args.limit)
        n = len(data.clean)
        rows.append({"noise": kind, "method": "noisy input", "n": n, **evaluate_noisy(data)})
        rows.append(
            {
                "noise": kind,
                "method": f"model ({loaded.model_config.name})",
                "n": n,
                **evaluate_model(model, data, device),
            }
        )
        if not args.no_baselines:
            for name in BASELINES:
                sub = args.bm3d_limit if name in SLOW_BASELINES else None
                row = evaluate_baseline(name, data, limit=sub)
                rows.append({"noise": kind, "method": name, "n": int(row.pop("n")), **row})
    data = clean_test_set(test, limit=args.limit)  # no noise: how much the model changes a clean digit
    rows.append(
        {"noise": "none", "method": f"model ({loaded.model_config.name})", "n": len(data.clean),
         **evaluate_model(model, data, device)}
    )  # fmt: skip
    if args.json:
        out = {"weights": str(args.weights), "set": args.set, "noise": noise.__dict__, "rows": rows}
        print(json.dumps(out, indent=1))
    else:
        print(f"{'noise':9} {'method':16} {'n':>6} {'PSNR':>7} {'stroke':>7} {'SSIM':>6}")
        for r in rows:
            print(
                f"{r['noise']:9} {r['method']:16} {r['n']:>6} {r['psnr']:7.2f} {r['stroke_psnr']:7.2f} {r['ssim']:6.3f}"
            )
    return 0


def _save_png(array: np.ndarray, path: Path) -> None:
    Image.fromarray((np.clip(array, 0, 1) * 255).round().astype(np.uint8), mode="L").save(path)


def prepare_file(path: Path) -> np.ndarray:
    """A picture file → (28, 28) MNIST digit; every problem is a PreprocessError with a plain one-line message."""
    try:
        size = path.stat().st_size
        if size > MAX_UPLOAD_BYTES:  # checked before the file is read into memory
            raise PreprocessError("too_big", f"file is {size} bytes, limit {MAX_UPLOAD_BYTES}", size=size,
                                  limit=MAX_UPLOAD_BYTES)  # fmt: skip
        data = path.read_bytes()
    except OSError as exc:
        raise PreprocessError("unreadable", f"cannot read the file ({exc.strerror or type(exc).__name__})") from None
    try:
        return to_mnist(open_image(data))
    except PreprocessError:
        raise
    except (OSError, ValueError, SyntaxError, MemoryError, Image.DecompressionBombError) as exc:
        raise PreprocessError("not_image", f"the image could not be prepared ({type(exc).__name__})") from None


def cmd_denoise(args: argparse.Namespace) -> int:
    from lib import metrics

    loaded = ckpt_io.load(args.weights)  # a CheckpointError becomes a one-line error in main()
    device = pick_device(args.device)
    model = loaded.build(device)
    noise = None if args.no_noise else noise_from_args(args, loaded.noise.with_kind("gaussian"))
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    g = make_generator(args.seed)
    failures = 0
    fields = ["file", "status", "psnr_noisy", "psnr_cleaned", "ssim_noisy", "ssim_cleaned", "message"]
    with open(out_dir / "metrics.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for name in args.images:
            path = Path(name)
            shown = clean_name(path.name)
            try:
                digit = prepare_file(path)  # (28, 28) in [0, 1]
            except PreprocessError as exc:
                failures += 1
                message = " ".join(str(exc).split())
                print(f"{shown}: {message}", file=sys.stderr)
                writer.writerow({"file": csv_cell(shown), "status": "error", "message": csv_cell(message)})
                continue
            clean = torch.from_numpy(digit * 255)
            noisy = to_unit(add_noise(clean, noise, g)).numpy() if noise else digit
            out = cleaned(model, noisy, device)
            stem = file_part(path.stem, 80)
            _save_png(digit, out_dir / f"{stem}_original.png")
            _save_png(noisy, out_dir / f"{stem}_noisy.png")
            _save_png(out, out_dir / f"{stem}_cleaned.png")
            noisy_c = np.clip(noisy, 0, 1)
            writer.writerow(
                {
                    "file": csv_cell(shown),
                    "status": "ok",
                    "psnr_noisy": f"{float(metrics.psnr(digit, noisy_c)):.3f}",
                    "psnr_cleaned": f"{float(metrics.psnr(digit, out)):.3f}",
                    "ssim_noisy": f"{float(metrics.ssim(digit, noisy_c)):.4f}",
                    "ssim_cleaned": f"{float(metrics.ssim(digit, out)):.4f}",
                    "message": "",
                }
            )
    print(f"{len(args.images) - failures} cleaned, {failures} failed → {out_dir}")
    return 1 if failures else 0


def cmd_compare(args: argparse.Namespace) -> int:
    from lib.compare import method_table, sweep

    device = pick_device(args.device)
    models = {Path(path).stem: ckpt_io.load(path).build(device) for path in args.weights}
    test = load_split("test")
    command = "python -m lib " + " ".join(sys.argv[1:])
    result = {
        "command": command,
        "limit": args.limit,
        "bm3d_limit": args.bm3d_limit,
        "seed": args.seed,
        "rows": method_table(models, test, args.limit, args.bm3d_limit, args.seed, device),
        "sweep": sweep(models, test, args.sweep_limit, args.seed, device),
        "sweep_limit": args.sweep_limit,
    }
    write_json_atomically(result, Path(args.out))
    return 0


def cmd_section5(args: argparse.Namespace) -> int:
    from lib.compare import outside_findings, outside_table
    from lib.outside import KINDS

    device = pick_device(args.device)
    models = {Path(path).stem: ckpt_io.load(path).build(device) for path in args.weights}
    sets = {"outside": eval_digits("outside")} | {f"outside:{k}": eval_digits(f"outside:{k}") for k in KINDS}
    sets["mnist"] = eval_digits("mnist")
    limits = {name: (args.limit if name == "mnist" else None) for name in sets}
    rows = []
    for name, digits in sets.items():
        rows += outside_table(models, {name: digits}, args.seed, device, limits[name])
    result = {
        "command": "python -m lib " + " ".join(sys.argv[1:]),
        "seed": args.seed,
        "mnist_limit": args.limit,
        "weights": list(args.weights),
        "rows": rows,
        "findings": {name: outside_findings(rows, name) for name in sets},
    }
    write_json_atomically(result, Path(args.out))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree of all commands."""
    parser = argparse.ArgumentParser(prog="python -m lib", description="Denoising autoencoder for MNIST digits")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a model and save a checkpoint")
    # type= runs before choices: the Table 1 model's former name "seed" still picks it
    p.add_argument("--model", type=canonical_model, choices=sorted(REGISTRY), default="table1")
    add_noise_args(p)
    p.add_argument(
        "--recipe",
        choices=["fast", "classroom", "textbook"],
        default="fast",
        help="fast: batch 128, one-cycle up to lr 0.03 over 6 epochs (default); classroom: batch 64, lr 0.02, "
        "5 epochs (short runs); textbook: Appendix 1's Adam 0.003, batch 32, ≤120 epochs, stop at loss 0.0063. "
        "The options below override single settings.",
    )
    p.add_argument("--epochs", type=int)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, help="per process (under torchrun the batch is this × processes)")
    p.add_argument("--lr", type=float)
    p.add_argument("--stop-loss", type=float, help="stop when the mean epoch loss is at most this (0: never)")
    p.add_argument("--limit", type=int, help="train on the first N digits only")
    p.add_argument("--val-size", type=int, default=2000)
    p.add_argument("--test-limit", type=int, help="test digits for the final metrics (default all 10,000)")
    p.add_argument("--frozen-noise", action="store_true", help="noise the training set once, as the textbook did")
    p.add_argument("--schedule", choices=SCHEDULES, help="learning-rate schedule")
    p.add_argument(
        "--augment", action="store_true", help="vary stroke width, contrast, blur, slant, shifts and noise strength"
    )
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    p.add_argument("--threads", type=int)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="PSNR/SSIM on the test set, with classical baselines")
    p.add_argument("--weights", required=True)
    p.add_argument(
        "--set", default="mnist", help="mnist (test split), outside, outside:pen|font|photo, or a folder of pictures"
    )
    add_noise_args(p)
    p.add_argument("--limit", type=int, help="first N test digits (default all 10,000)")
    p.add_argument("--bm3d-limit", type=int, default=200, help="BM3D is slow: first N digits only")
    p.add_argument("--no-baselines", action="store_true")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--json", action="store_true")
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("compare", help="models vs classical filters, section 5 and sweeps → JSON for the app")
    p.add_argument("--weights", nargs="+", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--limit", type=int, default=1000, help="test digits per noise setting")
    p.add_argument("--bm3d-limit", type=int, default=50)
    p.add_argument("--sweep-limit", type=int, default=300)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("section5", help="section 5 on outside digits: linear vs conv, Group A vs B → JSON for the app")
    p.add_argument("--weights", nargs="+", required=True, help="checkpoints; file names (stems) name the methods")
    p.add_argument("--out", required=True)
    p.add_argument("--limit", type=int, default=1000, help="MNIST test digits for the contrast (outside: all)")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    p.set_defaults(func=cmd_section5)

    p = sub.add_parser("denoise", help="preprocess your own images, add noise, clean them")
    p.add_argument("--weights", required=True)
    add_noise_args(p, allow_none=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    p.add_argument("images", nargs="+")
    p.set_defaults(func=cmd_denoise)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ValueError as exc:  # CheckpointError, PreprocessError, bad settings: their message is one plain line
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    except OSError as exc:  # a missing file, a folder that cannot be written: the reason and the path, no repr
        where = clean_name(exc.filename) if exc.filename else ""
        print(f"error: {exc.strerror or type(exc).__name__}{': ' + where if where else ''}", file=sys.stderr)
        return 2
