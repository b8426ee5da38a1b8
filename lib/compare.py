"""Models vs classical filters on the same noisy test digits; the textbook's section 5 experiment; sweeps."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from lib.baselines import BASELINES, SLOW_BASELINES
from lib.data import Digits
from lib.evaluate import evaluate_baseline, evaluate_model, evaluate_noisy, noisy_test_set
from lib.inference import cleaned
from lib.metrics import psnr
from lib.noise import NoiseConfig, preset

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


# The textbook's section 5 on outside digits (Figs. 9–10): linear vs convolutional, Group A vs Group B training.
SECTION5_MODELS = ("linear_A", "linear_B", "table1_A", "table1_B")  # the textbook's four
BEYOND_MODELS = ("table1_B_aug", "bfunet")  # the same architecture with augmented data; the modern denoiser
SECTION5_KINDS = ("gaussian", "speckle", "none")


def noise_setting(digits: Digits, kind: str, seed: int, limit: int | None = None):
    """One test setting on some digits: Group B Gaussian or speckle (seeded), or the digits as they are."""
    from lib.evaluate import clean_test_set

    if kind == "none":
        return clean_test_set(digits, limit)
    return noisy_test_set(digits, preset("B"), kind, seed=seed, limit=limit)


def outside_table(
    models: dict[str, nn.Module],
    sets: dict[str, Digits],
    seed: int,
    device: torch.device | str = "cpu",
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Every model on every set and setting: rows {set, kind, method, n, psnr, stroke_psnr, ssim}."""
    rows: list[dict[str, Any]] = []
    for set_name, digits in sets.items():
        for kind in SECTION5_KINDS:
            data = noise_setting(digits, kind, seed, limit)
            base = {"set": set_name, "kind": kind, "n": len(data.clean)}
            if kind != "none":
                rows.append(base | {"method": "noisy", **evaluate_noisy(data)})
            for name, model in models.items():
                rows.append(base | {"method": name, **evaluate_model(model, data, device)})
    return rows


def pick(rows: list[dict[str, Any]], set_name: str, kind: str, method: str) -> float | None:
    """PSNR of one method on one set and setting, or None when it was not measured."""
    for r in rows:
        if r["set"] == set_name and r["kind"] == kind and r["method"] == method:
            return float(r["psnr"])
    return None


def outside_findings(rows: list[dict[str, Any]], set_name: str = "outside") -> dict[str, Any]:
    """The section 5 questions answered from the numbers on one set, averaged over Gaussian-B and speckle.

    conv_gain: table1 − linear (dB) per training group; group_b_gain: Group B − Group A model per architecture;
    over_noisy: each model minus the noisy input; clean_change: PSNR of each model's output on clean digits.
    """
    kinds = ("gaussian", "speckle")

    def mean_psnr(method: str) -> float | None:
        values = [pick(rows, set_name, k, method) for k in kinds]
        return None if any(v is None for v in values) else float(np.mean(values))

    methods = sorted({r["method"] for r in rows if r["set"] == set_name and r["method"] != "noisy"})
    avg = {m: mean_psnr(m) for m in methods}
    noisy = mean_psnr("noisy")
    out: dict[str, Any] = {"set": set_name, "mean_psnr": avg, "noisy": noisy}
    out["conv_gain"] = {
        g: avg[f"table1_{g}"] - avg[f"linear_{g}"]
        for g in ("A", "B")
        if avg.get(f"table1_{g}") is not None and avg.get(f"linear_{g}") is not None
    }
    out["group_b_gain"] = {
        a: avg[f"{a}_B"] - avg[f"{a}_A"]
        for a in ("linear", "table1")
        if avg.get(f"{a}_A") is not None and avg.get(f"{a}_B") is not None
    }
    out["over_noisy"] = {
        m: {k: pick(rows, set_name, k, m) - pick(rows, set_name, k, "noisy") for k in kinds}
        for m in methods
        if all(pick(rows, set_name, k, m) is not None for k in kinds)
    }
    out["clean_change"] = {m: pick(rows, set_name, "none", m) for m in methods}
    return out
