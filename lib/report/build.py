"""Building the report's content from what the app has: the processed digits, the models and the class settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lib.i18n import t
from lib.noise import NoiseConfig
from lib.report.content import (
    AppliedNoise,
    ImageResult,
    ModelInfo,
    Preparation,
    PreparationStep,
    Report,
    TitleBlock,
)
from lib.report.sheet import ReportItem


def full_model_name(architecture: str, group: str | None, augmented: bool, lang: str, own: str | None = None) -> str:
    """The whole name of a model: architecture, the noise it was trained on, augmentation, and the student's name."""
    parts = [t(f"model.{architecture}", lang), t(f"noise.group.{group or 'custom'}", lang)]
    if augmented:
        parts.append(t("report.augmented", lang))
    name = " · ".join(parts)
    return t("report.own_model", lang, model=name, name=own) if own else name


def model_info(key: str, checkpoint: Any, lang: str, own_name: str | None = None) -> ModelInfo:
    """A model of the results from its checkpoint; own_name marks one the student trained or loaded."""
    from lib.noise import PRESETS

    noise = checkpoint.noise
    group = next((g for g, cfg in PRESETS.items() if (cfg.mean, cfg.var) == (noise.mean, noise.var)), None)
    arch = checkpoint.model_config.name
    augmented = bool(checkpoint.train.get("augment"))
    return ModelInfo(
        key=key,
        name=full_model_name(arch, group, augmented, lang, own_name),
        architecture=arch,
        own=own_name is not None,
        trained_on=noise,
        settings=dict(checkpoint.train),
        history=[dict(row) for row in checkpoint.history],
        metrics=dict(checkpoint.metrics),
    )


def noise_of_record(settings: dict[str, Any]) -> tuple[NoiseConfig | None, int | None]:
    """The noise and seed a stored report row records (`{"noise": {kind, mean, var, speckle, clip, seed}}`)."""
    record = settings.get("noise")
    if not isinstance(record, dict):
        return None, None
    fields = {k: record[k] for k in ("kind", "mean", "var", "speckle", "clip") if k in record}
    try:
        noise = NoiseConfig(**fields)
    except (TypeError, ValueError):
        return None, None
    seed = record.get("seed", settings.get("seed"))
    return noise, int(seed) if isinstance(seed, (int, float)) else None


def image_result(item: ReportItem) -> ImageResult:
    """One processed digit with the exact noise it got."""
    result = item.result
    noise = None
    if result.noise_added:
        if item.noise is None or item.seed is None:
            raise ValueError(f"{item.name}: noise was added but its settings were not recorded")
        noise = AppliedNoise.of(item.noise, item.seed)
    return ImageResult(
        name=item.name,
        source=item.source,
        noise=noise,
        clean=np.asarray(result.clean, dtype=np.float32),
        noisy=np.asarray(result.noisy, dtype=np.float32),
        outputs=dict(result.outputs),
        scores={k: dict(v) for k, v in result.scores.items()},
        untouched=result.untouched,
    )


def preparation(item: ReportItem) -> Preparation | None:
    """Task 3 from one digit: every picture the preparation made, then the noise it got."""
    steps = item.steps
    if steps is None:
        return None
    pictures = [
        PreparationStep(
            "report.prep.gray_inverted" if steps.inverted else "report.prep.gray",
            steps.gray / 255.0,
            {"h": steps.gray.shape[0], "w": steps.gray.shape[1]},
        ),  # fmt: skip
        PreparationStep("report.prep.stretched", steps.stretched),
        PreparationStep(
            "report.prep.cropped", steps.cropped, {"h": steps.cropped.shape[0], "w": steps.cropped.shape[1]}
        ),
        PreparationStep("report.prep.fitted", steps.fitted, {"h": steps.fitted.shape[0], "w": steps.fitted.shape[1]}),
        PreparationStep("report.prep.final", steps.final, {"dy": steps.shift[0], "dx": steps.shift[1]}),
    ]
    if item.result.noise_added:
        pictures.append(PreparationStep("report.prep.noise", np.clip(item.result.noisy, 0, 1)))
    return Preparation(item.name, item.source, pictures, dict(item.settings))


def kept_preparation(item: ReportItem) -> Preparation:
    """Task 3 for a digit kept without its intermediate pictures (a drawing read back): the result and its noise."""
    pictures = [PreparationStep("report.prep.prepared", np.asarray(item.result.clean))]
    if item.result.noise_added:
        pictures.append(PreparationStep("report.prep.noise", np.clip(item.result.noisy, 0, 1)))
    return Preparation(item.name, item.source, pictures, dict(item.settings))


def build_report(
    items: Sequence[ReportItem],
    models: Sequence[ModelInfo],
    title: TitleBlock,
    lang: str,
    conclusions: str = "",
) -> Report:
    """The report of these digits and models; task 3 is shown on the first photo (else the first drawing)."""
    if not items:
        raise ValueError("the report needs at least one image")
    ordered = sorted(items, key=lambda it: it.source != "photo")
    prep = next((p for p in (preparation(it) for it in ordered) if p is not None), None) or kept_preparation(items[0])
    used = {key for item in items for key in item.result.outputs}
    return Report(
        lang=lang,
        title=title,
        models=[m for m in models if m.key in used],
        images=[image_result(item) for item in items],
        preparation=prep,
        conclusions=conclusions.strip(),
    )
