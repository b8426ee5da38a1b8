"""The report laid out as a list of blocks in its language: the PDF and DOCX renderers draw the same blocks."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from PIL import Image

from lib.i18n import format_number, t
from lib.report.content import AppliedNoise, ImageResult, ModelInfo, Report, findings, summary
from lib.report.curve import curve_png

TILE_FACTOR = 8  # a 28×28 digit is embedded at 224×224 pixels, each pixel a crisp square at any zoom
MAX_SIDE = 600  # larger preparation pictures (a phone photo) are embedded at most this many pixels wide or high
TILES_PER_ROW = 5


@dataclass(frozen=True)
class Heading:
    """A section title; level 0 is the report's title."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Para:
    """A paragraph; style "note" is smaller and grey, "quote" is the student's own text."""

    text: str
    style: str = "normal"


@dataclass(frozen=True)
class Bullets:
    """A list; numbered when `numbered`."""

    items: list[str]
    numbered: bool = False


@dataclass(frozen=True)
class Table:
    """A table of text; `widths` are relative column widths; a table without header is label | value pairs."""

    rows: list[list[str]]
    header: list[str] | None = None
    widths: list[float] | None = None


@dataclass(frozen=True)
class Tile:
    """One picture with a title above (wrapped, never cut) and a caption below; a text-only tile has no picture."""

    title: str
    png: bytes | None
    caption: str = ""
    text: str = ""  # shown in place of the picture when there is none


@dataclass(frozen=True)
class Tiles:
    """Pictures side by side in rows of `per_row`."""

    tiles: list[Tile]
    per_row: int = TILES_PER_ROW


@dataclass(frozen=True)
class Picture:
    """A wide picture (a chart) with its caption."""

    png: bytes
    caption: str = ""
    width_share: float = 1.0  # of the text width


@dataclass(frozen=True)
class PageBreak:
    """Start a new page."""


Block = Heading | Para | Bullets | Table | Tiles | Picture | PageBreak


@dataclass
class Document:
    """The blocks of one report and the words the renderers need (file metadata)."""

    title: str
    author: str
    lang: str
    blocks: list[Block] = field(default_factory=list)


def png(image: np.ndarray, factor: int = TILE_FACTOR) -> bytes:
    """A [0, 1] grayscale image as PNG bytes: small images enlarged by whole pixels (crisp), large ones shrunk."""
    arr = (np.clip(np.asarray(image, dtype=np.float64), 0, 1) * 255).round().astype(np.uint8)
    h, w = arr.shape
    picture = Image.fromarray(arr, mode="L")
    if max(h, w) * factor <= MAX_SIDE * 2:
        grow = max(1, min(factor, MAX_SIDE // max(h, w)))
        picture = picture.resize((w * grow, h * grow), Image.Resampling.NEAREST)
    else:
        scale = MAX_SIDE / max(h, w)
        picture = picture.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    picture.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def number(value: float, lang: str, spec: str = "g") -> str:
    """A parameter as the language writes it, with a true minus sign (format_number's own)."""
    return format_number(value, lang, spec)


def noise_text(noise: AppliedNoise | None, lang: str, source: str = "photo") -> str:
    """The noise an image got, every parameter that acted on it, and its seed; or why it got none."""
    if noise is None:
        return t("report.noise.none_photo" if source == "photo" else "report.noise.none", lang)
    parts = [t(f"noise.kind.{noise.kind}", lang)]
    if noise.kind in ("gaussian", "mix"):
        parts.append(t("report.noise.gaussian", lang, mean=number(noise.mean, lang), var=number(noise.var, lang)))
    if noise.kind in ("speckle", "mix"):
        parts.append(t("report.noise.speckle", lang, s=number(noise.speckle, lang)))
    parts.append(t("report.noise.clip_on" if noise.clip else "report.noise.clip_off", lang))
    parts.append(t("report.noise.seed", lang, seed=noise.seed))
    text = ", ".join(parts)
    if noise.kind != "speckle" and noise.group:
        text += f" ({t(f'noise.group.{noise.group}', lang)})"
    return text


def date_text(iso: str, lang: str) -> str:
    """An ISO date as the language writes it (03.12.2026 / 3 December 2026)."""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    if lang == "ru":
        return f"{day.day:02d}.{day.month:02d}.{day.year}"
    return f"{day.day} {day.strftime('%B')} {day.year}"


def db(value: float | None, lang: str) -> str:
    """A PSNR in dB, or a dash when there is none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{format_number(value, lang, '.2f')} {t('common.unit.db', lang)}"


def score_line(scores: dict[str, float], lang: str) -> str:
    """PSNR and SSIM under a picture."""
    return t("report.score", lang, psnr=scores["psnr"], ssim=scores["ssim"])


def _trained_noise_text(model: ModelInfo, lang: str) -> str:
    cfg = model.trained_on
    applied = AppliedNoise(cfg.kind, cfg.mean, cfg.var, cfg.speckle, cfg.clip, 0)
    text = noise_text(applied, lang)
    return text.rsplit(", ", 1)[0] + (f" ({t(f'noise.group.{applied.group}', lang)})" if applied.group else "")


def _settings_rows(model: ModelInfo, lang: str) -> list[list[str]]:
    """The own model's training settings as label | value rows."""
    s = model.settings
    yes, no = t("report.yes", lang), t("report.no", lang)
    rows = [
        [t("report.set.architecture", lang), t(f"model.{model.architecture}", lang)],
        [t("report.set.noise", lang), _trained_noise_text(model, lang)],
    ]
    if "epochs" in s:
        run = s.get("epochs_run", len(model.history))
        rows.append(
            [t("report.set.epochs", lang), t("report.set.epochs_value", lang, run=float(run), planned=s["epochs"])]
        )
    if "batch_size" in s:
        rows.append([t("report.set.batch", lang), str(s["batch_size"])])
    if "lr" in s:
        rows.append([t("report.set.lr", lang), number(s["lr"], lang)])
    if "schedule" in s:
        rows.append([t("report.set.schedule", lang), t(f"train.schedule.{s['schedule']}", lang)])
    if s.get("stop_loss"):
        rows.append([t("report.set.stop_loss", lang), number(s["stop_loss"], lang)])
    if "limit" in s:
        limit = s["limit"]
        rows.append([t("report.set.subset", lang),
                     t("report.set.all", lang) if not limit else format_number(limit, lang, ",")])  # fmt: skip
    if "fresh_noise" in s:
        rows.append([t("report.set.fresh_noise", lang), yes if s["fresh_noise"] else no])
    if "augment" in s:
        rows.append([t("report.set.augment", lang), yes if s["augment"] else no])
    if "seed" in s:
        rows.append([t("report.set.seed", lang), str(s["seed"])])
    if s.get("images_seen"):
        rows.append([t("report.set.images_seen", lang), format_number(int(s["images_seen"]), lang, ",")])
    seconds = sum(float(r.get("seconds", 0.0)) for r in model.history)
    if seconds:
        rows.append([t("report.set.time", lang), t("report.seconds", lang, s=seconds)])
    if s.get("stopped_by_user"):
        rows.append([t("report.set.stopped", lang), yes])
    m = model.metrics
    if "val_psnr" in m:
        rows.append([t("report.set.val_psnr", lang), db(m["val_psnr"], lang)])
    for kind in ("gaussian", "speckle"):
        if f"test_{kind}_psnr" in m:
            rows.append([t(f"report.set.test_{kind}", lang), db(m[f"test_{kind}_psnr"], lang)])
    return rows


def _task1(report: Report, lang: str) -> list[Block]:
    own = any(m.own for m in report.models)
    blocks: list[Block] = [Heading(t("report.task1", lang)),
                           Para(t("report.task1_text" if own else "report.task1_text_shipped", lang))]  # fmt: skip
    rows = []
    for number_, model in enumerate(report.models, 1):
        epochs = model.settings.get("epochs_run", len(model.history))
        rows.append([
            str(number_), model.name, _trained_noise_text(model, lang),
            format_number(float(epochs), lang, "g") if epochs else "—",
            db(model.metrics.get("val_psnr"), lang),
        ])  # fmt: skip
    header = [t(f"report.models.{c}", lang) for c in ("n", "name", "noise", "epochs", "val_psnr")]
    blocks.append(Table(rows, header, [0.5, 4.2, 4.2, 1.2, 1.6]))
    for model in report.models:
        if not model.own:
            continue
        blocks.append(Heading(t("report.own_model_heading", lang, name=model.name), 2))
        blocks.append(Table(_settings_rows(model, lang), None, [1.0, 1.4]))
        chart = curve_png(model.history, lang)
        if chart is not None:
            blocks.append(Picture(chart, t("report.curve_caption", lang), 0.9))
    return blocks


def _task2(report: Report, lang: str) -> list[Block]:
    rows = [
        [str(n), im.name, t(f"report.source.{im.source}", lang), noise_text(im.noise, lang, im.source)]
        for n, im in enumerate(report.images, 1)
    ]
    header = [t(f"report.images.{c}", lang) for c in ("n", "name", "source", "noise")]
    return [
        Heading(t("report.task2", lang)),
        Para(t("report.task2_text", lang)),
        Table(rows, header, [0.5, 2.6, 1.6, 6.0]),
    ]


def _task3(report: Report, lang: str) -> list[Block]:
    blocks: list[Block] = [Heading(t("report.task3", lang))]
    prep = report.preparation
    procedure = t("upload.procedure" if prep is None or prep.source == "photo" else "report.procedure_drawn", lang)
    blocks.append(Para(t("report.task3_text", lang)))
    blocks.append(Bullets([step.strip() for step in procedure.split(";") if step.strip()], numbered=True))
    if prep is None:
        return blocks
    blocks.append(Para(t("report.task3_example", lang, name=prep.image_name)))
    tiles = [
        Tile(f"{n}. {t(step.key, lang, **step.params)}", png(step.image), t(f"{step.key}.text", lang))
        for n, step in enumerate(prep.steps, 1)
    ]
    image = next((im for im in report.images if im.name == prep.image_name), None)
    if image is not None and image.noise is not None:
        tiles[-1] = Tile(tiles[-1].title, tiles[-1].png, noise_text(image.noise, lang, image.source))
    blocks.append(Tiles(tiles, per_row=3))
    if prep.settings:
        s = prep.settings
        rows = []
        if "invert" in s:
            rows.append([t("report.sheet.param.invert", lang), t(f"upload.invert.{s['invert']}", lang)])
        if "threshold" in s:
            rows.append([t("report.sheet.param.threshold", lang), number(float(s["threshold"]), lang)])
        if "contrast" in s:
            rows.append([t("report.sheet.param.contrast", lang), number(float(s["contrast"]), lang)])
        if rows:
            blocks.append(Table(rows, None, [1.0, 1.0]))
    return blocks


def _task4(report: Report, lang: str) -> list[Block]:
    tiles = []
    for n, im in enumerate(report.images, 1):
        tiles.append(Tile(f"{n}. {im.name}", png(im.clean), t(f"report.source.{im.source}", lang)))
        if im.noise is None:
            tiles.append(Tile(t("report.noisy_of", lang, n=n), None, "", t("report.noise.none_photo_short", lang)))
        else:
            tiles.append(
                Tile(t("report.noisy_of", lang, n=n), png(np.clip(im.noisy, 0, 1)), noise_text(im.noise, lang))
            )
    return [Heading(t("report.task4", lang)), Para(t("report.task4_text", lang)), Tiles(tiles, per_row=4)]


def _result_tiles(im: ImageResult, report: Report, lang: str) -> list[Tile]:
    first = "lab.original" if im.noise is not None else "upload.input"
    tiles = [Tile(t(first, lang), png(im.clean), "" if im.noise is not None else t("upload.no_reference", lang))]
    if im.noise is None:
        tiles.append(Tile(t("lab.noisy", lang), None, "", t("report.noise.none_photo_short", lang)))
    elif im.untouched:
        tiles.append(Tile(t("lab.noisy", lang), png(np.clip(im.noisy, 0, 1)), t("report.sheet.no_noise", lang)))
    else:
        tiles.append(Tile(t("lab.noisy", lang), png(np.clip(im.noisy, 0, 1)), score_line(im.scores["noisy"], lang)))
    for key, out in im.outputs.items():
        model = report.model(key)
        tiles.append(Tile(model.name if model else key, png(out), score_line(im.scores[key], lang)))
    return tiles


def _task56(report: Report, lang: str) -> list[Block]:
    blocks: list[Block] = [Heading(t("report.task56", lang)), Para(t("report.task56_text", lang))]
    if any(im.noise is None for im in report.images):
        blocks.append(Para(t("report.sheet.note_mixed" if any(im.noise for im in report.images)
                             else "report.sheet.note_as_is", lang), "note"))  # fmt: skip
    for n, im in enumerate(report.images, 1):
        blocks.append(Heading(f"{n}. {im.name}", 3))
        blocks.append(Para(f"{t(f'report.source.{im.source}', lang)}; {noise_text(im.noise, lang, im.source)}", "note"))
        blocks.append(Tiles(_result_tiles(im, report, lang)))
    rows = summary(report)
    if rows:
        noised = any(im.noised for im in report.images)
        blocks.append(Heading(t("report.summary", lang), 2))
        blocks.append(Para(t("report.summary_text" if noised else "report.summary_text_as_is", lang), "note"))
        header = [t(f"report.summary.{c}", lang) for c in ("model", "psnr", "ssim", "gain", "n")]
        table = [
            [r.model.name, db(r.psnr, lang), format_number(r.ssim, lang, ".3f"),
             "—" if r.gain is None else number(r.gain, lang, "+.2f"), str(r.count)]
            for r in sorted(rows, key=lambda r: -r.psnr)
        ]  # fmt: skip
        blocks.append(Table(table, header, [4.6, 1.5, 1.1, 1.5, 0.9]))
    return blocks


def finding_lines(report: Report) -> list[str]:
    """The computed findings as sentences in the report's language."""
    return [t(f"report.finding.{f.key}", report.lang, **f.params) for f in findings(report)]


def _task7(report: Report, lang: str) -> list[Block]:
    blocks: list[Block] = [Heading(t("report.task7", lang))]
    if report.conclusions:
        blocks += [Para(part.strip(), "quote") for part in report.conclusions.split("\n\n") if part.strip()]
    else:
        blocks.append(Para(t("report.no_conclusions", lang), "note"))
    lines = finding_lines(report)
    if lines:
        blocks.append(Heading(t("report.findings", lang), 2))
        blocks.append(Bullets(lines))
    return blocks


def layout(report: Report) -> Document:
    """The report as blocks: title block, tasks 1–7."""
    lang = report.lang
    title = report.title
    head = title.lab or t("report.default_lab", lang)
    blocks: list[Block] = []
    if title.course:
        blocks.append(Para(title.course, "note"))
    blocks.append(Heading(head, 0))
    blocks.append(Table([
        [t("report.title.student", lang), title.student or "—"],
        [t("report.title.group", lang), title.group or "—"],
        [t("report.title.date", lang), date_text(title.date, lang) if title.date else "—"],
    ], None, [1.0, 3.0]))  # fmt: skip
    for part in (_task1, _task2, _task3, _task4, _task56, _task7):
        blocks += part(report, lang)
    return Document(head, title.student, lang, blocks)
