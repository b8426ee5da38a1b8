"""CPU inference time per 28×28 image (batched, the path the app and evaluation use) and file size per checkpoint.

python -m bench.inference weights/table1_B.pt weights/bfunet.pt --json bench/results_inference.json
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

from bench import report
from lib import checkpoint as ckpt_io
from lib.data import load_split
from lib.inference import cleaned


def measure(path: Path, images: torch.Tensor, repeats: int) -> dict[str, float]:
    """Median over `repeats` passes of lib.inference.cleaned over the images, in ms per image."""
    model = ckpt_io.load(path).build("cpu")
    noisy = images.float().numpy() / 255.0  # (N, 28, 28)
    cleaned(model, noisy[:1000])  # warm-up: first-call allocations and kernel selection
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        cleaned(model, noisy)
        times.append(time.perf_counter() - start)
    per_image = [1000.0 * t / len(noisy) for t in times]
    return {
        "ms_per_image_median": statistics.median(per_image),
        "ms_per_image_min": min(per_image),
        "file_bytes": path.stat().st_size,
        "parameters": sum(v.numel() for v in ckpt_io.load(path).state_dict.values() if v.is_floating_point()),
    }


def main() -> None:
    """Measure every checkpoint given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("weights", nargs="+")
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, help="torch threads (default: PyTorch's choice)")
    parser.add_argument("--json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    images = load_split("test").images[: args.images]
    result = {
        "command": "python -m bench.inference " + " ".join(sys.argv[1:]),
        "threads": torch.get_num_threads(),
        "images": len(images),
        "batch": 1000,
        "models": {Path(p).name: measure(Path(p), images, args.repeats) for p in args.weights},
    }
    report(result, args.json)


if __name__ == "__main__":
    main()
