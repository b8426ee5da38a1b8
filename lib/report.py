"""The student's hand-in (textbook task 7): a PNG sheet of all triples and a ZIP with everything."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from lib.lab import CleanedDigit

CELL = 112  # each 28×28 image drawn ×4
PAD = 8
LABEL_H = 30


@dataclass(frozen=True)
class ReportItem:
    """One processed digit and where it came from."""

    name: str
    result: CleanedDigit


def _to_pil(image: np.ndarray, size: int = CELL) -> Image.Image:
    arr = (np.clip(np.asarray(image, dtype=np.float64), 0, 1) * 255).round().astype(np.uint8)
    return Image.fromarray(arr, mode="L").resize((size, size), Image.Resampling.NEAREST)


def _columns(item: ReportItem) -> list[tuple[str, np.ndarray]]:
    cols = [("original", item.result.clean), ("noisy", item.result.noisy)]
    cols += [(name, out) for name, out in item.result.outputs.items()]
    return cols


def sheet_png(items: list[ReportItem], headers: dict[str, str] | None = None) -> bytes:
    """All items as rows of original | noisy | cleaned-by-each-model, with PSNR under every image."""
    if not items:
        raise ValueError("nothing to put on the sheet")
    headers = headers or {}
    ncols = max(len(_columns(it)) for it in items)
    width = PAD + ncols * (CELL + PAD) + 160
    height = PAD + LABEL_H + len(items) * (CELL + LABEL_H + PAD)
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for c, (name, _) in enumerate(_columns(items[0])):
        draw.text((PAD + c * (CELL + PAD), PAD), headers.get(name, name)[:22], fill="black", font=font)
    for r, item in enumerate(items):
        top = PAD + LABEL_H + r * (CELL + LABEL_H + PAD)
        for c, (name, image) in enumerate(_columns(item)):
            left = PAD + c * (CELL + PAD)
            sheet.paste(_to_pil(image).convert("RGB"), (left, top))
            score = item.result.scores.get(name)
            if score:
                draw.text(
                    (left, top + CELL + 2), f"{score['psnr']:.1f} dB / {score['ssim']:.2f}", fill="black", font=font
                )
        draw.text((PAD + ncols * (CELL + PAD), top + CELL // 2), item.name[:24], fill="black", font=font)
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    return buf.getvalue()


def metrics_csv(items: list[ReportItem]) -> str:
    """One row per (digit, method): PSNR and SSIM against the un-noised digit."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["image", "method", "psnr_db", "ssim"])
    for item in items:
        for method, score in item.result.scores.items():
            writer.writerow([item.name, method, f"{score['psnr']:.3f}", f"{score['ssim']:.4f}"])
    return buf.getvalue()


def report_zip(items: list[ReportItem], parameters: dict[str, Any], headers: dict[str, str] | None = None) -> bytes:
    """ZIP: sheet.png, every image as PNG, metrics.csv and parameters.json."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sheet.png", sheet_png(items, headers))
        for i, item in enumerate(items, 1):
            stem = f"{i:02d}_{''.join(ch if ch.isalnum() else '_' for ch in item.name)[:40]}"
            for name, image in _columns(item):
                png = io.BytesIO()
                _to_pil(image, 28).save(png, format="PNG")
                zf.writestr(f"images/{stem}_{name}.png", png.getvalue())
        zf.writestr("metrics.csv", metrics_csv(items))
        zf.writestr("parameters.json", json.dumps(parameters, indent=1, ensure_ascii=False, default=str))
    return buf.getvalue()
