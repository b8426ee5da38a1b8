"""The student's hand-in (textbook task 7): a PNG sheet of all triples and a ZIP with everything, in the UI's language."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from lib.i18n import format_number, t
from lib.lab import CleanedDigit
from lib.noise import NoiseConfig
from lib.safe_names import clean_name, csv_cell, file_part

CELL = 112  # each 28×28 image drawn ×4
PAD = 8
LABEL_H = 34  # room for a column header above, and a score line under, each image
NAME_W = 200
FONT_PATH = (
    Path(__file__).resolve().parent.parent / "fonts" / "DejaVuSans.ttf"
)  # has Cyrillic; Pillow's default does not
FONT_SIZE = 12
LINE_H = 17
# Russian Excel opens a CSV with ';' between fields and a decimal comma; a UTF-8 byte-order mark makes it read
# the Cyrillic correctly. English keeps the plain comma-separated form.
CSV_DIALECT = {"ru": ";", "en": ","}


@dataclass(frozen=True)
class ReportItem:
    """One processed digit, where it came from and exactly what was done to it."""

    name: str
    result: CleanedDigit
    source: str = "photo"  # "drawn" | "photo"
    noise: NoiseConfig | None = None  # the noise applied (None: cleaned as it is)
    seed: int | None = None  # the seed of the noise generator
    steps: Any = None  # the preprocess.MnistSteps that made the digit
    settings: dict[str, Any] = field(default_factory=dict)  # preparation settings (invert, threshold, contrast)


@cache
def font(size: int = FONT_SIZE) -> ImageFont.FreeTypeFont:
    """The shipped DejaVu Sans at this size (read once)."""
    return ImageFont.truetype(str(FONT_PATH), size)


def _to_pil(image: np.ndarray, size: int = CELL) -> Image.Image:
    arr = (np.clip(np.asarray(image, dtype=np.float64), 0, 1) * 255).round().astype(np.uint8)
    return Image.fromarray(arr, mode="L").resize((size, size), Image.Resampling.NEAREST)


def has_noisy_column(items: list[ReportItem]) -> bool:
    """Whether any digit got noise added: only then is there a noisy image and a noise-free reference."""
    return any(item.result.noise_added for item in items)


def _columns(item: ReportItem, noisy_column: bool) -> list[tuple[str, np.ndarray | None]]:
    """(method, image) per column; a digit cleaned as it is has no noisy image (None) in a sheet that has the column."""
    cols: list[tuple[str, np.ndarray | None]] = [("original", item.result.clean)]
    if noisy_column:
        cols.append(("noisy", item.result.noisy if item.result.noise_added else None))
    cols += [(name, out) for name, out in item.result.outputs.items()]
    return cols


def column_title(method: str, lang: str, noise_added: bool = True) -> str:
    """'original' and 'noisy' in the UI's language; model and filter names are already translated labels."""
    if method == "original":
        return t("lab.original" if noise_added else "upload.input", lang)
    if method == "noisy":
        return t("lab.noisy", lang)
    return method


def score_text(item: ReportItem, method: str, lang: str) -> str:
    """The line under an image: PSNR and SSIM, 'no noise' when the noise changed nothing, '' for the original."""
    result = item.result
    if method == "original":
        return ""
    if method == "noisy" and (not result.noise_added or result.untouched):
        return t("report.sheet.no_noise" if result.noise_added else "report.sheet.not_noised", lang)
    score = result.scores.get(method)
    return t("report.sheet.score", lang, **score) if score else ""


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int) -> str:
    """The text cut with '…' so it fits `width` pixels in the sheet's font."""
    if draw.textlength(text, font=font()) <= width:
        return text
    while text and draw.textlength(text + "…", font=font()) > width:
        text = text[:-1]
    return text + "…"


def _wrap(draw: ImageDraw.ImageDraw, text: str, width: int) -> list[str]:
    """Words of the text in lines no wider than `width` pixels."""
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font()) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def sheet_png(items: list[ReportItem], lang: str = "en") -> bytes:
    """All items as rows of original | noisy | cleaned-by-each-model, with scores under the images, in `lang`.

    In "clean as it is" mode (no digit got noise) there is no noisy column, and the footnote says the
    scores compare each output with the input, because no noise-free reference exists.
    """
    if not items:
        raise ValueError("nothing to put on the sheet")
    noisy_column = has_noisy_column(items)
    ncols = max(len(_columns(it, noisy_column)) for it in items)
    width = PAD + ncols * (CELL + PAD) + NAME_W
    note = t("report.sheet.note_reference" if noisy_column else "report.sheet.note_as_is", lang)
    if noisy_column and not all(item.result.noise_added for item in items):
        note += " " + t("report.sheet.note_mixed", lang)  # rows cleaned as they are compare with their input
    note_lines = _wrap(ImageDraw.Draw(Image.new("RGB", (1, 1))), note, width - 2 * PAD)
    footer = PAD + LINE_H * len(note_lines)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    titles = [_wrap(measure, column_title(name, lang, noisy_column), CELL + PAD - 4) or [""]
              for name, _ in _columns(items[0], noisy_column)]  # fmt: skip
    head = max(LABEL_H, max(len(lines) for lines in titles) * LINE_H + 6)  # whole names, wrapped, never cut
    height = PAD + head + len(items) * (CELL + LABEL_H + PAD) + footer
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    for c, lines in enumerate(titles):
        for n, line in enumerate(lines):
            draw.text((PAD + c * (CELL + PAD), PAD + n * LINE_H), line, fill="black", font=font())
    for r, item in enumerate(items):
        top = PAD + head + r * (CELL + LABEL_H + PAD)
        for c, (name, image) in enumerate(_columns(item, noisy_column)):
            left = PAD + c * (CELL + PAD)
            if image is None:  # no noisy picture: say why where it would be
                draw.rectangle((left, top, left + CELL - 1, top + CELL - 1), outline="#bbbbbb")
                reason = _wrap(draw, t("report.noise.none_photo_short", lang), CELL - 10)
                for n, line in enumerate(reason):
                    y = top + (CELL - len(reason) * LINE_H) // 2 + n * LINE_H
                    draw.text((left + CELL // 2, y), line, fill="#555555", font=font(), anchor="ma")
            else:
                sheet.paste(_to_pil(image).convert("RGB"), (left, top))
            text = score_text(item, name, lang) if image is not None else ""  # the box itself says it
            if text:
                draw.text((left, top + CELL + 3), _fit(draw, text, CELL + PAD - 2), fill="black", font=font())
        draw.text((PAD + ncols * (CELL + PAD), top + CELL // 2), _fit(draw, clean_name(item.name), NAME_W - PAD), fill="black",
                  font=font())  # fmt: skip
    for n, line in enumerate(note_lines):
        draw.text((PAD, height - footer + n * LINE_H), line, fill="#333333", font=font())
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    return buf.getvalue()


def metrics_csv(items: list[ReportItem], lang: str = "en") -> str:
    """One row per (digit, method): PSNR and SSIM and what they compare with, headers and numbers in `lang`'s style."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=CSV_DIALECT[lang], lineterminator="\r\n")
    writer.writerow([t(f"report.sheet.csv.{col}", lang) for col in ("image", "method", "psnr", "ssim", "reference")])
    for item in items:
        result = item.result
        reference = t("report.sheet.ref_clean" if result.noise_added else "report.sheet.ref_input", lang)
        for method, score in result.scores.items():
            if method == "noisy" and (not result.noise_added or result.untouched):
                continue  # no noisy image, or one identical to the reference: its "100 dB" would be meaningless
            title = column_title(method, lang, result.noise_added)
            psnr = format_number(score["psnr"], lang, ".3f", minus="-")  # a spreadsheet reads "-" as a sign
            ssim = format_number(score["ssim"], lang, ".4f", minus="-")
            writer.writerow([csv_cell(item.name), csv_cell(title), psnr, ssim, csv_cell(reference)])
    return "\ufeff" + buf.getvalue()


def report_parameters(
    lang: str, noise: NoiseConfig | None, seed: int, models: list[str], preprocessing: dict[str, Any],
    images: list[str],
) -> dict[str, Any]:  # fmt: skip
    """The settings behind the report as a JSON-ready dict with keys (and word values) in `lang`."""

    def key(name: str) -> str:
        return t(f"report.sheet.param.{name}", lang)

    if noise is None:
        noise_part: Any = t("upload.mode.as_is", lang)
    else:
        noise_part = {
            key("kind"): t(f"noise.kind.{noise.kind}", lang),
            key("mean"): noise.mean,
            key("var"): noise.var,
            key("speckle"): noise.speckle,
            key("clip"): noise.clip,
        }
    prep = {key(name): value for name, value in preprocessing.items()}
    if "invert" in preprocessing:
        prep[key("invert")] = t(f"upload.invert.{preprocessing['invert']}", lang)
    return {
        key("noise"): noise_part,
        key("seed"): int(seed),
        key("models"): list(models),
        key("preprocessing"): prep,
        key("images"): [clean_name(name) for name in images],
    }


def report_zip(items: list[ReportItem], parameters: dict[str, Any], lang: str = "en") -> bytes:
    """ZIP: sheet.png, every image as PNG, metrics.csv and parameters.json, all in `lang`."""
    noisy_column = has_noisy_column(items)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sheet.png", sheet_png(items, lang))
        for i, item in enumerate(items, 1):
            stem = f"{i:02d}_{file_part(item.name)}"
            for name, image in _columns(item, noisy_column):
                if image is None:
                    continue
                png = io.BytesIO()
                _to_pil(image, 28).save(png, format="PNG")
                title = file_part(column_title(name, lang, item.result.noise_added), 30)
                number = _column_number(item, name, noisy_column)
                zf.writestr(f"images/{stem}_{number:02d}_{title}.png", png.getvalue())
        zf.writestr("metrics.csv", metrics_csv(items, lang).encode("utf-8"))
        zf.writestr("parameters.json", json.dumps(parameters, indent=1, ensure_ascii=False, default=str))
    return buf.getvalue()


def _column_number(item: ReportItem, method: str, noisy_column: bool) -> int:
    """The column number of a method in the item's row (keeps file names unique and in sheet order)."""
    return [name for name, _ in _columns(item, noisy_column)].index(method) + 1
