"""Models vs classical filters on the same noisy test digits; the textbook's section 5 experiment; sweeps."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from lib.baselines import BASELINES, SLOW_BASELINES
from lib.data import Digits
from lib.evaluate import evaluate_baseline, evaluate_model, evaluate_noisy, noisy_test_set
from lib.metrics import psnr
from lib.noise import NoiseConfig, preset
from lib.train import cleaned

KINDS = ("gaussian", "speckle")
# Start just above zero: with no noise the noisy input is perfect and its PSNR is capped at 100 dB.
SWEEP_VARS = [25.0] + [float(v) for v in range(100, 1001, 100)]
SWEEP_SPECKLE = [0.1] + [round(0.2 * i, 1) for i in range(1, 11)]
CHEAP_BASELINES = ("median3", "gaussian_blur")


def method_table(
    models: dict[str, nn.Module],
    digits: Digits,
    limit: int,
    bm3d_limit: int,
    seed: int,
    device: torch.device | str = "cpu",
) -> list[dict[str, Any]]:
    """Every method on Group A and Group B noise, Gaussian and speckle separately."""
    rows: list[dict[str, Any]] = []
    for group in ("A", "B"):
        for kind in KINDS:
            data = noisy_test_set(digits, preset(group), kind, seed=seed, limit=limit)
            base = {"group": group, "kind": kind}
            rows.append(base | {"method": "noisy", "n": limit, **evaluate_noisy(data)})
            for name, model in models.items():
                rows.append(base | {"method": name, "n": limit, **evaluate_model(model, data, device)})
            for name in BASELINES:
                n = bm3d_limit if name in SLOW_BASELINES else limit
                row = evaluate_baseline(name, data, limit=n)
                rows.append(base | {"method": name, "n": int(row.pop("n")), **row})
    return rows


def sweep(
    models: dict[str, nn.Module], digits: Digits, limit: int, seed: int, device: torch.device | str = "cpu"
) -> dict[str, Any]:
    """PSNR against Gaussian variance (μ = 0) and against speckle strength, models and cheap filters."""
    out: dict[str, Any] = {}
    settings = {
        "gaussian_var": [NoiseConfig(kind="gaussian", mean=0.0, var=v) for v in SWEEP_VARS],
        "speckle": [NoiseConfig(kind="speckle", speckle=s) for s in SWEEP_SPECKLE],
    }
    xs = {"gaussian_var": SWEEP_VARS, "speckle": SWEEP_SPECKLE}
    for axis, configs in settings.items():
        series: dict[str, list[float]] = {name: [] for name in ["noisy", *models, *CHEAP_BASELINES]}
        for cfg in configs:
            data = noisy_test_set(digits, cfg, cfg.kind, seed=seed, limit=limit)
            series["noisy"].append(evaluate_noisy(data)["psnr"])
            for name, model in models.items():
                series[name].append(float(np.mean(psnr(data.clean, cleaned(model, data.noisy, device)))))
            for name in CHEAP_BASELINES:
                series[name].append(evaluate_baseline(name, data)["psnr"])
        out[axis] = {"x": xs[axis], "series": series}
    return out


def section5(rows: list[dict[str, Any]], model_a: str, model_b: str) -> dict[str, dict[str, float]]:
    """PSNR of the Group A and Group B models on each noise setting: {model: {'A/gaussian': dB, …}}."""
    out: dict[str, dict[str, float]] = {model_a: {}, model_b: {}}
    for r in rows:
        if r["method"] in out:
            out[r["method"]][f"{r['group']}/{r['kind']}"] = r["psnr"]
    return out


def section5_finding(table: dict[str, dict[str, float]], model_a: str, model_b: str) -> dict[str, Any]:
    """Which model wins each setting and by how much (positive = Group B model better)."""
    settings = sorted(set(table[model_a]) & set(table[model_b]))
    return {s: table[model_b][s] - table[model_a][s] for s in settings}
