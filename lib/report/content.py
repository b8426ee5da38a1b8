"""The hand-in's content: what the student did, as plain data that the PDF and DOCX renderers both read."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lib.noise import PRESETS, NoiseConfig

SOURCES = ("drawn", "photo")


@dataclass(frozen=True)
class TitleBlock:
    """The report's title block: course and lab from the class settings, who handed it in and when."""

    course: str = ""
    lab: str = ""
    student: str = ""
    group: str = ""
    date: str = ""  # ISO date (YYYY-MM-DD); the renderers write it the language's way


@dataclass(frozen=True)
class AppliedNoise:
    """The exact noise one image got: kind, parameters in pixel units 0..255, clipping and the generator's seed."""

    kind: str  # "gaussian" | "speckle" | "mix"
    mean: float
    var: float
    speckle: float
    clip: bool
    seed: int

    @classmethod
    def of(cls, noise: NoiseConfig, seed: int) -> AppliedNoise:
        """The noise config and the seed the image's generator was made from."""
        return cls(noise.kind, float(noise.mean), float(noise.var), float(noise.speckle), bool(noise.clip), int(seed))

    @property
    def group(self) -> str | None:
        """'A' or 'B' when the Gaussian parameters are a textbook group's."""
        for name, cfg in PRESETS.items():
            if (cfg.mean, cfg.var) == (self.mean, self.var):
                return name
        return None


@dataclass(frozen=True)
class ModelInfo:
    """One model of the results: its full name and, for the student's own, how it was trained."""

    key: str  # the name its outputs carry in the image results
    name: str  # the full display name (never shortened)
    architecture: str  # registry name: "table1", "linear", "bfunet"
    own: bool  # trained (or loaded) by the student
    trained_on: NoiseConfig = field(default_factory=NoiseConfig)
    settings: dict[str, Any] = field(default_factory=dict)  # the checkpoint's train record
    history: list[dict[str, float]] = field(default_factory=list)  # per epoch: epoch, train_loss, val_psnr, …
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def group(self) -> str | None:
        """'A' or 'B' when it was trained on a textbook group's noise."""
        for name, cfg in PRESETS.items():
            if (cfg.mean, cfg.var) == (self.trained_on.mean, self.trained_on.var):
                return name
        return None

    @property
    def augmented(self) -> bool:
        """Trained on varied digits as well (shifted, rotated, thickened)."""
        return bool(self.settings.get("augment"))


@dataclass(frozen=True)
class ImageResult:
    """One of the student's digits: where it came from, the noise it got, and every model's output with scores."""

    name: str
    source: str  # "drawn" | "photo"
    noise: AppliedNoise | None  # None: cleaned as it is (a photo that is already noisy)
    clean: np.ndarray  # (28, 28) [0, 1] the prepared digit
    noisy: np.ndarray  # (28, 28) the model's input
    outputs: dict[str, np.ndarray]  # model key → (28, 28)
    scores: dict[str, dict[str, float]]  # "noisy" and model keys → {"psnr", "ssim"}
    untouched: bool = False  # noise was asked for but changed nothing

    @property
    def noised(self) -> bool:
        """Noise was added and changed the image: only then do the scores compare with a noise-free reference."""
        return self.noise is not None and not self.untouched


@dataclass(frozen=True)
class PreparationStep:
    """One picture of the data preparation (task 3), with a locale key naming it and the key's parameters."""

    key: str
    image: np.ndarray  # (H, W) [0, 1]
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Preparation:
    """Task 3, generated from what was done to one of the student's images."""

    image_name: str
    source: str
    steps: list[PreparationStep]
    settings: dict[str, Any] = field(default_factory=dict)  # invert, threshold, contrast (photos)


@dataclass(frozen=True)
class Report:
    """Everything the hand-in says, in one language."""

    lang: str
    title: TitleBlock
    models: list[ModelInfo]
    images: list[ImageResult]
    preparation: Preparation | None = None
    conclusions: str = ""

    def model(self, key: str) -> ModelInfo | None:
        """The model whose outputs carry this key."""
        return next((m for m in self.models if m.key == key), None)


@dataclass(frozen=True)
class SummaryRow:
    """One model's means over the student's images: PSNR and SSIM, and the gain over the noisy input."""

    model: ModelInfo
    psnr: float
    ssim: float
    gain: float | None  # mean PSNR gain over the noisy input, on the noised images only; None when none was noised
    count: int  # images averaged


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else math.nan


def summary(report: Report) -> list[SummaryRow]:
    """Mean scores of every model over the noised images (over all images when none was noised)."""
    noised = [im for im in report.images if im.noised]
    use = noised or report.images
    rows = []
    for model in report.models:
        scored = [im for im in use if model.key in im.scores]
        if not scored:
            continue
        gains = [im.scores[model.key]["psnr"] - im.scores["noisy"]["psnr"] for im in scored if im.noised]
        rows.append(
            SummaryRow(
                model,
                _mean([im.scores[model.key]["psnr"] for im in scored]),
                _mean([im.scores[model.key]["ssim"] for im in scored]),
                _mean(gains) if gains else None,
                len(scored),
            )
        )
    return rows


@dataclass(frozen=True)
class Finding:
    """One computed fact to quote in the conclusions: a locale key (report.finding.<key>) and its numbers."""

    key: str
    params: dict[str, Any]


def _find(rows: list[SummaryRow], arch: str, group: str, own: bool = False) -> SummaryRow | None:
    for row in rows:
        m = row.model
        if m.architecture == arch and m.group == group and m.own == own and not m.augmented:
            return row
    return None


def findings(report: Report) -> list[Finding]:
    """The facts the student's own results show, computed from the scores (each compares two means)."""
    out: list[Finding] = []
    noised = [im for im in report.images if im.noised]
    rows = summary(report)
    if noised:
        a, b = _find(rows, "table1", "A"), _find(rows, "table1", "B")
        if a and b:
            key = "groups_b" if b.psnr >= a.psnr else "groups_a"
            out.append(Finding(key, {"a": a.psnr, "b": b.psnr, "diff": abs(b.psnr - a.psnr), "n": b.count}))
        conv, linear = _find(rows, "table1", "B"), _find(rows, "linear", "B")
        if conv and linear:
            key = "conv_better" if conv.psnr >= linear.psnr else "linear_better"
            out.append(
                Finding(
                    key,
                    {
                        "conv": conv.psnr,
                        "linear": linear.psnr,
                        "diff": abs(conv.psnr - linear.psnr),
                        "conv_ssim": conv.ssim,
                        "linear_ssim": linear.ssim,
                    },
                )  # fmt: skip
            )
        by_kind: dict[str, list[ImageResult]] = {}
        for im in noised:
            by_kind.setdefault(im.noise.kind, []).append(im)  # type: ignore[union-attr]
        if len(by_kind) > 1 and conv:
            means = {k: _mean([im.scores[conv.model.key]["psnr"] for im in ims]) for k, ims in by_kind.items()}
            g, s = means.get("gaussian"), means.get("speckle")
            if g is not None and s is not None:
                key = "kind_gaussian" if g >= s else "kind_speckle"
                out.append(Finding(key, {"model": conv.model.name, "gaussian": g, "speckle": s, "diff": abs(g - s)}))
        best = max(rows, key=lambda r: r.psnr, default=None)
        noisy = _mean([im.scores["noisy"]["psnr"] for im in noised])
        if best is not None:
            out.append(Finding("best", {"model": best.model.name, "psnr": best.psnr, "noisy": noisy,
                                        "gain": best.psnr - noisy, "n": best.count}))  # fmt: skip
        worse = [r.model.name for r in rows if r.gain is not None and r.gain < 0]
        if worse:
            out.append(Finding("worse_than_noisy", {"models": ", ".join(worse)}))
    for row in rows:
        if row.model.own and noised:
            ref = conv if (conv := _find(rows, "table1", "B")) else None
            params = {"model": row.model.name, "psnr": row.psnr, "gain": row.gain or 0.0}
            if ref is not None:
                diff = row.psnr - ref.psnr
                params.update(ref=ref.model.name, ref_psnr=ref.psnr, diff=abs(diff))
                out.append(Finding("own_above_ref" if diff >= 0 else "own_below_ref", params))
            else:
                out.append(Finding("own", params))
    photos = [im for im in report.images if im.noise is None]
    changes = [(m, _mean([im.scores[m.key]["psnr"] for im in photos if m.key in im.scores])) for m in report.models]
    changes = [(m, value) for m, value in changes if not math.isnan(value)]
    if changes:
        # the model that changed the photos least (highest PSNR against its input) kept them closest to what they were
        least = max(changes, key=lambda pair: pair[1])
        out.append(Finding("photos_as_is", {"n": len(photos), "model": least[0].name, "psnr": least[1]}))
    return out
