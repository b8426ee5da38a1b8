"""Markdown table of the shipped weights' test-set metrics, from `python -m lib evaluate --json`.

Run: python -m bench.weights_table weights/table1_A.pt weights/table1_B.pt weights/linear_B.pt
"""

from __future__ import annotations

import json
import subprocess
import sys


def evaluate(path: str, group: str, bm3d_limit: int = 100, extra: tuple[str, ...] = ("--no-baselines",)) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "lib", "evaluate", "--weights", path, "--noise", group, "--bm3d-limit", str(bm3d_limit), "--json", *extra],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def main(paths: list[str]) -> None:
    print(
        "| weights | test noise | method | n | Gaussian PSNR | Gaussian SSIM | speckle PSNR | speckle SSIM | stroke PSNR G / S |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        for group in ("A", "B"):
            rows = evaluate(path, group)["rows"]
            by = {}
            for r in rows:
                by.setdefault(r["method"], {})[r["noise"]] = r
            for method, kinds in by.items():
                g, s = kinds["gaussian"], kinds["speckle"]
                print(f"| {path.split('/')[-1]} | {group} | {method} | {g['n']} | {g['psnr']:.2f} | {g['ssim']:.3f} | "
                      f"{s['psnr']:.2f} | {s['ssim']:.3f} | {g['stroke_psnr']:.2f} / {s['stroke_psnr']:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
