"""The training curve of a student's model as a PNG: loss (left axis) and validation PSNR (right axis) per epoch."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw

from lib.i18n import format_number, t
from lib.report.sheet import font

WIDTH, HEIGHT = 1400, 620  # drawn large: sharp when printed 17 cm wide
LEFT, RIGHT, TOP, BOTTOM = 140, 140, 40, 120
LOSS_COLOUR = (31, 119, 180)
PSNR_COLOUR = (214, 95, 0)
TEXT = 22


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering low..high (1, 2 or 5 times a power of ten apart)."""
    if not math.isfinite(low) or not math.isfinite(high):
        return []
    if high <= low:
        high = low + (abs(low) or 1.0) * 0.1
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while not ticks or ticks[-1] < high - step * 1e-9:  # the last tick at or above the highest value
        ticks.append(round(value, 12))
        value += step
    return ticks


def curve_png(history: list[dict[str, float]], lang: str) -> bytes | None:
    """The curve, or None when the history has no epochs to draw."""
    rows = [r for r in history if "epoch" in r]
    if not rows:
        return None
    epochs = [float(r["epoch"]) for r in rows]
    loss = [float(r["train_loss"]) if r.get("train_loss") is not None else math.nan for r in rows]
    val = [float(r["val_psnr"]) if r.get("val_psnr") is not None else math.nan for r in rows]
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    big = font(TEXT)
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM
    draw.rectangle((x0, y0, x1, y1), outline=(80, 80, 80), width=2)
    # whole epochs on the axis (a run of one epoch is not marked 0,2 … 0,8), and room after the last point
    x_ticks = [e for e in nice_ticks(0.0, max(epochs), 6) if e == int(e)]
    if len(x_ticks) < 2:
        x_ticks = [0.0, max(1.0, math.ceil(max(epochs)))]
    x_max = max(x_ticks[-1], max(epochs)) * 1.05

    def sx(e: float) -> float:
        return x0 + (x1 - x0) * e / (x_max or 1.0)

    for e in x_ticks:
        draw.line((sx(e), y1, sx(e), y1 + 8), fill=(80, 80, 80), width=2)
        label = format_number(e, lang, "g")
        draw.text((sx(e), y1 + 12), label, fill="black", font=big, anchor="mt")
    draw.text(((x0 + x1) / 2, y1 + 48), t("train.epoch", lang), fill="black", font=big, anchor="mt")

    def axis(values: list[float], colour: tuple[int, int, int], right: bool, spec: str, title: str) -> None:
        finite = [v for v in values if math.isfinite(v)]
        if not finite:
            return
        low, high = min(finite), max(finite)
        # a margin around the values, so no point sits on the frame (one epoch: one value, in the middle)
        pad = (high - low) * 0.08 if high > low else (abs(high) * 0.05 or 1.0)
        ticks = nice_ticks(low - pad, high + pad, 5)
        lo, hi = ticks[0], ticks[-1]

        def sy(v: float) -> float:
            return y1 - (y1 - y0) * (v - lo) / ((hi - lo) or 1.0)

        for v in ticks:
            x = x1 if right else x0
            draw.line((x, sy(v), x + (8 if right else -8), sy(v)), fill=colour, width=2)
            if not right:
                draw.line((x0, sy(v), x1, sy(v)), fill=(230, 230, 230), width=1)
            draw.text((x + (12 if right else -12), sy(v)), format_number(v, lang, spec), fill=colour, font=big,
                      anchor="lm" if right else "rm")  # fmt: skip
        points = [(sx(e), sy(v)) for e, v in zip(epochs, values) if math.isfinite(v)]
        if len(points) > 1:
            draw.line(points, fill=colour, width=4, joint="curve")
        for x, y in points:
            draw.ellipse((x - 6, y - 6, x + 6, y + 6), fill=colour)
        tx = x1 + 100 if right else x0 - 100
        label = Image.new("RGBA", (int(draw.textlength(title, font=big)) + 4, TEXT + 10), (255, 255, 255, 0))
        ImageDraw.Draw(label).text((2, 2), title, fill=colour, font=big)
        label = label.rotate(90 if not right else -90, expand=True)
        image.paste(label, (int(tx - label.width / 2), int((y0 + y1) / 2 - label.height / 2)), label)

    axis(loss, LOSS_COLOUR, False, ".4f", t("train.loss", lang))
    axis(val, PSNR_COLOUR, True, ".1f", t("common.unit.psnr", lang))
    legend_y = HEIGHT - 34
    for n, (title, colour) in enumerate(((t("train.loss", lang), LOSS_COLOUR),
                                         (t("train.val_psnr", lang), PSNR_COLOUR))):  # fmt: skip
        lx = x0 + n * 520
        draw.line((lx, legend_y, lx + 40, legend_y), fill=colour, width=5)
        draw.text((lx + 52, legend_y), title, fill="black", font=big, anchor="lm")
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
