"""Widgets and renderers shared by several pages."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lib import a11y
from lib.i18n import LANGUAGES, format_number, read_number, t
from lib.noise import NOISE_KINDS, PRESETS, NoiseConfig
from lib.ui import cache
from lib.ui.frame import Frame, on_click_set
from lib.ui.plots import number_style

NOISE_DEFAULTS = {"kind": "mix", "mean": PRESETS["B"].mean, "var": PRESETS["B"].var, "speckle": 1.0, "clip": True}


def textbook_noise_settings(prefix: str) -> dict[str, object]:
    """The noise controls' values for the textbook's set-up (Group B, the 50/50 mix, clipping on), by widget key."""
    return {f"keep_{prefix}_{name}": value for name, value in NOISE_DEFAULTS.items()}


def upscale(image: np.ndarray, factor: int = 4) -> np.ndarray:
    """Nearest-neighbour enlargement of a [0, 1] image (H, W) or (H, W, C) to uint8 (crisp pixels)."""
    arr = np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0)
    big = np.repeat(np.repeat(arr, factor, axis=0), factor, axis=1)
    return (big * 255).round().astype(np.uint8)


Steps = tuple[tuple[float, float, float], ...]  # (from, to, step) pieces of a slider's range, in order
# Fine steps where the textbook's values lie (μ = −5,9 and −20; D = 35 and 600), coarser beyond: a few hundred
# steps instead of a thousand, so the arrow keys reach any value and every rerun sends a quarter of the labels.
MEAN_STEPS: Steps = ((-50.0, -10.0, 1.0), (-10.0, 10.0, 0.1), (10.0, 50.0, 1.0))
VAR_STEPS: Steps = ((0.0, 100.0, 1.0), (100.0, 1000.0, 5.0))
SPECKLE_STEPS: Steps = ((0.0, 2.0, 0.05),)


@functools.lru_cache(maxsize=64)
def slider_steps(steps: Steps, lang: str) -> tuple[tuple[float, ...], dict[float, str]]:
    """The values of a slider made of (from, to, step) pieces and each one's label in the language (made once)."""
    values: dict[float, None] = {}
    for lo, hi, step in steps:
        decimals = max(0, -int(np.floor(np.log10(step) + 1e-9)))  # 0.05 → 2, 0.1 → 1, 1 → 0
        for i in range(int(round((hi - lo) / step)) + 1):
            values[round(lo + i * step, decimals) + 0.0] = None  # a piece's end is the next one's start: kept once
    options = tuple(values)
    return options, {v: format_number(v, lang, "g") for v in options}


def number_slider(label: str, steps: Steps, key: str, lang: str, **kwargs) -> float:
    """A slider over the steps whose numbers are written the UI language's way ("−5,9", "0,05").

    Streamlit's own slider writes numbers by a printf format (always a decimal point) or by the browser's
    locale ("localized"), which is not the UI language when an English UI runs in a Russian browser. A select
    slider over the same steps shows labels made by format_number. A kept value between two steps snaps to
    the nearest one.
    """
    options, labels = slider_steps(steps, lang)
    value = st.session_state.get(key)
    if value is not None and value not in labels:
        st.session_state[key] = min(options, key=lambda o: abs(o - float(value)))
    return float(st.select_slider(label, options, key=key, persist_state="session", format_func=labels.__getitem__,
                                  **kwargs))  # fmt: skip


def noise_controls(f: Frame, prefix: str, kinds: tuple[str, ...] = NOISE_KINDS) -> NoiseConfig:
    """Noise type, sliders, clipping and the Group A/B preset buttons; returns the config."""
    keys = {name: f"keep_{prefix}_{name}" for name in NOISE_DEFAULTS}
    for name, key in keys.items():
        st.session_state.setdefault(key, NOISE_DEFAULTS[name] if name != "kind" or "mix" in kinds else kinds[0])
    for group in ("A", "B"):
        cfg = PRESETS[group]
        st.button(
            f.t("noise.preset", group=f.t(f"noise.group.{group}"), mean=cfg.mean, var=int(cfg.var)),
            key=f"{prefix}_preset_{group}",
            on_click=on_click_set({keys["mean"]: cfg.mean, keys["var"]: cfg.var, keys["speckle"]: cfg.speckle}),
            width="stretch",
        )
    kind = st.radio(
        f.t("noise.kind"),
        kinds,
        key=keys["kind"],
        persist_state="session",
        format_func=lambda k: f.t(f"noise.kind.{k}"),
        horizontal=True,
    )
    # choices written by format_number: numbers follow the UI's language, not the browser's locale
    (_, _, coarse), (lo, hi, fine), _ = MEAN_STEPS  # the help says where the steps change
    mean = number_slider(f.t("noise.mean"), MEAN_STEPS, keys["mean"], f.lang, disabled=kind == "speckle",
                         help=f.t("noise.mean_help", lo=lo, hi=hi, fine=fine, coarse=coarse))  # fmt: skip
    (_, hi, fine), (_, _, coarse) = VAR_STEPS
    var = number_slider(f.t("noise.var"), VAR_STEPS, keys["var"], f.lang, disabled=kind == "speckle",
                        help=f.t("noise.var_help", hi=hi, fine=fine, coarse=coarse))  # fmt: skip
    speckle = number_slider(f.t("noise.speckle"), SPECKLE_STEPS, keys["speckle"], f.lang, disabled=kind == "gaussian")
    clip = st.toggle(f.t("noise.clip"), key=keys["clip"], persist_state="session", help=f.t("noise.clip_help"))
    return NoiseConfig(kind=kind, mean=float(mean), var=float(var), speckle=float(speckle), clip=bool(clip))


def delta_metric(column, label: str, value: str, delta: float, text: str) -> None:
    """A metric whose change arrow and colour follow the sign of delta (rounded as shown): up and green, down and red.

    Streamlit reads the direction from a leading hyphen-minus; shown numbers carry a true minus sign (U+2212),
    which it would take for a rise, so the direction is given explicitly.
    """
    if delta > 0:
        color, arrow = "green", "up"
    elif delta < 0:
        color, arrow = "red", "down"
    else:
        color, arrow = "gray", "off"
    column.metric(label, value, text, delta_color=color, delta_arrow=arrow)


def tex_number(value: float, lang: str, spec: str = "g", factor: bool = False) -> str:
    """A number for a LaTeX formula, written the UI language's way: "0{,}3" (no space after a decimal comma).

    factor: a negative number is put in parentheses, as a factor of a product is.
    """
    text = format_number(value + 0.0, lang, spec, minus="-")  # TeX sets "-" in a formula as a true minus sign
    text = text.replace(",", "{,}").replace("\u202f", "\\,")
    return f"({text})" if factor and value < 0 else text


def number_field(column, label: str, default: float, key: str, lang: str) -> float:
    """A text field for one number that shows and accepts the UI language's way of writing it ("0,3").

    Streamlit's number field always writes a decimal point ("0.30"); this one is a text field with the value
    written by format_number, read back by read_number. Anything else gets a message and the default.
    """
    st.session_state.setdefault(key, format_number(default, lang, "g"))
    kept, written = st.session_state[key], read_number(st.session_state[key])
    ours = "" if np.isnan(written) else format_number(written, lang, "g")
    # a number written the other language's way ("0,5" in English: a language switch, or a link opened in the other
    # language) is written this language's way; what the student typed in this language stays as typed
    if ours and kept != ours and any(kept == format_number(written, other, "g") for other in LANGUAGES):
        st.session_state[key] = ours
    text = column.text_input(label, key=key, persist_state="session")
    value = read_number(text)
    if np.isnan(value):
        column.caption(t("common.not_a_number", lang, value=format_number(default, lang, "g")))
        return default
    return value


def teacher_note(f: Frame, command: str) -> None:
    """The command behind precomputed numbers, folded away: a teacher may rerun it, a student need not read it."""
    with st.expander(f.t("common.teacher_note")):
        st.caption(f.t("common.teacher_command"))
        # plain and wrapped: highlighted shell text is under 4.5:1 contrast, and a scrolling box would need focus
        st.code(command, language=None, wrap_lines=True)


TILE = 112  # px: one picture of an image row (original, noisy, cleaned, preparation steps)


def image_strip(images: list[np.ndarray | bytes], captions: list[str], alts: list[str], size: int = TILE) -> None:
    """Same-size images side by side in one element, each with its caption and its text alternative (an image is
    a [0, 1] array, or a tile already made by cache.png_tile)."""
    tiles = [image if isinstance(image, bytes) else cache.png_tile(image, size) for image in images]
    st.image(tiles, caption=captions, width=size, output_format="PNG", alt=alts)


def lab_alts(
    f: Frame, result, i: int, label: int, index: int, noise: NoiseConfig, group: str | None, model: str
) -> list[str]:
    """Text alternatives of one noise-lab example: the original, the noisy copy, the cleaned one (with scores)."""
    subject = a11y.digit(f.lang, label, index)
    kind = "gaussian" if result.gaussian[i] else "speckle"
    noisy_score = (
        f.t("alt.unchanged")
        if result.untouched[i]
        else a11y.scores(f.lang, float(result.psnr_noisy[i]), float(result.ssim_noisy[i]))
    )
    cleaned_score = a11y.scores(f.lang, float(result.psnr_cleaned[i]), float(result.ssim_cleaned[i]))
    return [
        a11y.original(f.lang, subject),
        a11y.noisy(f.lang, subject, a11y.noise_words(f.lang, noise, kind, group), noisy_score),
        a11y.cleaned(f.lang, subject, model, cleaned_score),
    ]


def row_alts(
    f: Frame, subject: str, noise: str | None, methods: list[str], scores: list[str] | None = None
) -> list[str]:
    """Text alternatives of a row: the original, the noisy copy (unless noise is None), then each method's output."""
    alts = [a11y.original(f.lang, subject)]
    if noise is not None:
        alts.append(a11y.noisy(f.lang, subject, noise, (scores or [""])[0]))
    outputs = (scores or [])[1:] if noise is not None else (scores or [])
    alts += [a11y.cleaned(f.lang, subject, m, outputs[i] if i < len(outputs) else "") for i, m in enumerate(methods)]
    return alts


def chart_table(f: Frame, table: pd.DataFrame, key: str) -> None:
    """A chart's numbers as a table in a closed expander under it: read by a screen reader, by keyboard, without colour."""
    with st.expander(f.t("common.data_table")):
        st.dataframe(table, key=key, hide_index=True, width="stretch")


def histogram_table(f: Frame, raw: np.ndarray, bins: int = 12) -> pd.DataFrame:
    """The histogram's counts in a few ranges of pixel value, before and after clipping to 0..255."""
    values = np.asarray(raw, dtype=np.float64).ravel()
    lo, hi = min(float(values.min()), 0.0), max(float(values.max()), 255.0)
    edges = np.unique(np.concatenate([np.linspace(lo, 0, 3), np.linspace(0, 255, bins + 1), np.linspace(255, hi, 3)]))
    before, _ = np.histogram(values, edges)
    after, _ = np.histogram(np.clip(values, 0, 255), edges)
    ranges = [f"{f.num(a, '.0f')} … {f.num(b, '.0f')}" for a, b in zip(edges[:-1], edges[1:])]
    return pd.DataFrame({f.t("lab.hist_x"): ranges, f.t("lab.hist_before"): before, f.t("lab.hist_after"): after})


def histogram_before_after_clip(f: Frame, raw: np.ndarray) -> go.Figure:
    """Pixel-value histograms of the noisy images before and after clipping to 0..255."""
    values = np.asarray(raw).ravel()
    cache.plotly_ready()
    fig = go.Figure()
    fig.add_histogram(x=values, name=f.t("lab.hist_before"), opacity=0.6, nbinsx=120)
    fig.add_histogram(x=np.clip(values, 0, 255), name=f.t("lab.hist_after"), opacity=0.6, nbinsx=120)
    fig.update_layout(
        barmode="overlay", height=300, margin=dict(l=10, r=10, t=30, b=10),
        xaxis_title=f.t("lab.hist_x"), yaxis_title=f.t("lab.hist_y"), yaxis_type="log",
    )  # fmt: skip
    fig.add_vline(x=0, line_dash="dash")
    fig.add_vline(x=255, line_dash="dash")
    return number_style(fig, f.lang)


def method_label(f: Frame, method: str) -> str:
    """The translated name of a method (noisy input, shipped model, filter), or the name itself."""
    key = f"method.{method}"
    text = f.t(key)
    return method if text == key else text


def short_label(f: Frame, loaded) -> str:
    """A model's column header: its one display name, the picker's ("Табл. 1 · Б", "Моя модель 2")."""
    return f.name(loaded.key)


def comparison_models(f: Frame) -> dict[str, object]:
    """The selected model first, then the modern U-Net beside it, then the other shipped ones, by display name."""
    chosen = {f.name(f.model.key): f.model.model} if f.model else {}
    shipped = [(key, loaded) for key, loaded in f.models.items() if loaded.source == "shipped"]
    shipped.sort(key=lambda item: item[1].checkpoint.model_config.name != "bfunet")  # stable: otherwise by name
    for key, loaded in shipped:
        if f.model is None or key != f.model.key:
            chosen[f.name(key)] = loaded.model
    return chosen


def render_steps(f: Frame, steps) -> None:
    """The to_mnist steps side by side: grayscale, stretched, crop, 20×20, centred 28×28."""
    pictures = [
        (
            steps.gray / 255.0,
            f.t("common.steps.gray") + (f" · {f.t('common.steps.inverted')}" if steps.inverted else ""),
        ),
        (steps.stretched, f.t("common.steps.stretched")),
        (steps.cropped, f.t("common.steps.cropped", h=steps.cropped.shape[0], w=steps.cropped.shape[1])),
        (steps.fitted, f.t("common.steps.fitted", h=steps.fitted.shape[0], w=steps.fitted.shape[1])),
        (steps.final, f.t("common.steps.final", dy=steps.shift[0], dx=steps.shift[1])),
    ]
    shown, alts = [], []
    for n, (image, caption) in enumerate(pictures, 1):
        alts.append(f.t("alt.step", n=n, total=len(pictures), caption=caption))
        h, w = image.shape
        factor = max(1, TILE // max(h, w)) if max(h, w) < TILE else 1
        shown.append(upscale(image, factor) if factor > 1 else (np.clip(image, 0, 1) * 255).astype(np.uint8))
    # fixed-width tiles with a gap between them, in a row that wraps on narrow screens (captions stay whole)
    row = st.container(horizontal=True, wrap=True, gap="medium")
    for image, (_, caption), alt in zip(shown, pictures, alts):
        row.image(image, caption=caption, width=TILE, alt=alt)


def render_cleaned(
    f: Frame, result, noise_added: bool = True, key: str | None = None, subject: str | None = None
) -> None:
    """Original | noisy | each model's output, scored against the un-noised digit (or the input when none).

    key: unique on the page; lines the pictures up (titles get two lines) when given.
    subject: what the digit is called in the pictures' text alternatives (default "your digit").
    """
    subject = a11y.digit(f.lang, name=subject)
    if noise_added:
        images = [(result.clean, f.t("lab.original")), (result.noisy, f.t("lab.noisy"))]
        noisy_caption = "lab.no_noise" if result.untouched else None  # e.g. s = 0: not a "100 dB" score
        captions = ["", f.t(noisy_caption) if noisy_caption else f.t("lab.caption_scores", **result.scores["noisy"])]
        noisy_score = f.t("alt.unchanged") if result.untouched else a11y.scores(f.lang, **result.scores["noisy"])
        alts = [a11y.original(f.lang, subject), a11y.noisy(f.lang, subject, score=noisy_score)]
    else:
        images, captions = [(result.clean, f.t("upload.input"))], [f.t("upload.no_reference")]
        alts = [a11y.original(f.lang, subject)]
    for name, out in result.outputs.items():
        images.append((out, name))
        template = "lab.caption_scores" if noise_added else "upload.caption_change"
        captions.append(f.t(template, **result.scores[name]))
        against = "original" if noise_added else "input"
        alts.append(a11y.cleaned(f.lang, subject, name, a11y.scores(f.lang, **result.scores[name], against=against)))
    # fixed-width tiles in a wrapping row: on a phone they flow onto more lines, captions stay readable
    row = st.container(horizontal=True, wrap=True, gap="small", key=f"tiles_{key}" if key else None)
    for (image, title), caption, alt in zip(images, captions, alts):
        tile = row.container(width=TILE)
        tile.markdown(f"**{title}**")
        tile.image(upscale(image), caption=caption or None, width="stretch", alt=alt)
