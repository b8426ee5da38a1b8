"""The report's content as JSON (kept with every hand-in): the numbers and words, without the pictures."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from lib.report.content import Report, findings, summary

CONTENT_VERSION = 1


def _number(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), 4)


def to_json(report: Report) -> dict[str, Any]:
    """Title block, models (settings, history), images (source, noise as applied, scores), summary, findings, conclusions."""
    return {
        "content_version": CONTENT_VERSION,
        "lang": report.lang,
        "title": asdict(report.title),
        "models": [
            {
                "key": m.key,
                "name": m.name,
                "architecture": m.architecture,
                "own": m.own,
                "trained_on": asdict(m.trained_on),
                "settings": dict(m.settings),
                "history": list(m.history),
                "metrics": dict(m.metrics),
            }  # fmt: skip
            for m in report.models
        ],
        "images": [
            {
                "name": im.name,
                "source": im.source,
                "noise": asdict(im.noise) if im.noise else None,
                "untouched": im.untouched,
                "scores": {k: {n: _number(v) for n, v in s.items()} for k, s in im.scores.items()},
            }  # fmt: skip
            for im in report.images
        ],
        "summary": [
            {
                "model": r.model.name,
                "psnr": _number(r.psnr),
                "ssim": _number(r.ssim),
                "gain": _number(r.gain),
                "images": r.count,
            }  # fmt: skip
            for r in summary(report)
        ],
        "findings": [{"key": f.key, "params": f.params} for f in findings(report)],
        "conclusions": report.conclusions,
    }


def best_psnr(content: dict[str, Any]) -> float | None:
    """The best mean PSNR in a hand-in's summary (the teacher's table)."""
    values = [row["psnr"] for row in content.get("summary", []) if row.get("psnr") is not None]
    return max(values) if values else None
