"""Plotly figures for number grids and signals."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from lib.i18n import format_number
from lib.ui.cache import plotly_ready

# One colour-blind-safe diverging scale for every signed grid (kernels, convolution results, differences):
# orange below 0, white at 0, blue above, so "0" and "−3" look the same in a kernel and in the map beside it.
# Orange against blue (the Okabe–Ito pair) keeps two different hues under deuteranopia, protanopia and
# tritanopia (a red end turns near-black for protanopes), and every cell also has its number written in it.
DIVERGING = [[0.0, "#b35806"], [0.25, "#f1a340"], [0.5, "#f7f7f7"], [0.75, "#67a9cf"], [1.0, "#2166ac"]]
SEQUENTIAL = "Blues"  # grids of non-negative numbers (pixel values, counts): white is 0


def grid_scale(values: np.ndarray, colorscale: str | None) -> tuple[str | list, float, float]:
    """The colour scale and its range for a grid: signed values on DIVERGING, symmetric about 0; non-negative ones
    on the given scale or SEQUENTIAL from 0.
    """
    finite = values[np.isfinite(values)]
    top = float(np.abs(finite).max()) if finite.size else 1.0
    top = top or 1.0  # an all-zero grid: white, not an undefined range
    signed = bool(finite.size) and float(finite.min()) < 0
    if signed:
        return DIVERGING, -top, top
    return colorscale or SEQUENTIAL, 0.0, top


def grid_number(value: float, lang: str, fmt: str | None = None) -> str:
    """A cell's number the language's way ("2,11", "−1"): by default whole from 100 up and two decimals below, so
    it fits its cell (the editor beside it keeps the exact value); fmt ("{:.3g}") asks for a spec of its own."""
    if fmt:
        spec = fmt.removeprefix("{:").removesuffix("}")
        return format_number(round(float(value), 4) + 0.0, lang, spec)
    rounded = round(float(value)) if abs(value) >= 100 else round(float(value), 2)
    return format_number(rounded + 0.0, lang, "g")  # + 0.0: -0.0 (and rounded float dust) is written 0, not −0


# A figure takes ~35 kB (256 grids ~9 MB): each cache is bounded, the least recently used figures go first.
@st.cache_resource(show_spinner=False, max_entries=256)
def grid(values: np.ndarray, title: str = "", highlight: list[tuple[int, int]] | None = None, fmt: str | None = None,
         colorscale: str | None = None, height: int | None = None, offset: tuple[int, int] = (0, 0),
         scale: float = 1.0, lang: str = "en") -> go.Figure:  # fmt: skip
    """A matrix as a heatmap with its numbers written in, optional highlighted cells (row, col).

    Signed grids share one diverging scale centred on 0 (grid_scale); colorscale picks the sequential scale of
    a non-negative grid. Built once per server for the same arguments (every student opens the explainer with
    the same grids): the figure is shared, so nobody may change it (st.plotly_chart only reads it).
    scale: 1 on a laptop (16 px numbers in 48 px rows); the projector setting's 1.35 makes rows and numbers
    larger so they read from the back of a room.
    """
    values = np.asarray(values, dtype=float)
    h, w = values.shape
    # NaN: not computed yet; fmt "" writes no numbers; numbers are written the UI language's way (grid_number)
    text = [["" if np.isnan(v) or fmt == "" else grid_number(v, lang, fmt) for v in row] for row in values]
    shapes = []
    for r, c in highlight or []:
        r, c = r - offset[0], c - offset[1]
        if 0 <= r < h and 0 <= c < w:
            # black and white dashes: the highlight does not depend on seeing one hue against the cell colours
            shapes.append(dict(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5,
                               line=dict(color="#000000", width=4)))  # fmt: skip
            shapes.append(dict(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5,
                               line=dict(color="#ffffff", width=2, dash="dot")))  # fmt: skip
    side = height or max(180, round(48 * scale) * h + 60)
    colors, zmin, zmax = grid_scale(values, colorscale)
    plotly_ready()
    # One constructor call: plotly validates the whole figure once instead of once per update
    heatmap = dict(type="heatmap", z=values, text=text, texttemplate="%{text}", colorscale=colors, zmin=zmin,
                   zmax=zmax, showscale=False, xgap=2, ygap=2, hoverinfo="skip",
                   textfont=dict(size=round(16 * scale)))  # fmt: skip
    layout = dict(title=dict(text=title), height=side, margin=dict(l=5, r=5, t=40 if title else 5, b=5),
                  yaxis=dict(autorange="reversed", showticklabels=False, scaleanchor="x", showgrid=False,
                             zeroline=False),
                  xaxis=dict(showticklabels=False, showgrid=False, zeroline=False))  # fmt: skip
    if shapes:
        layout["shapes"] = shapes
    return go.Figure(data=[heatmap], layout=layout)


@st.cache_resource(show_spinner=False, max_entries=64)
def signals(x: np.ndarray, y: np.ndarray, names: tuple[str, str], offset: float = 0.0, stride: int = 1,
            lang: str = "en") -> go.Figure:  # fmt: skip
    """Input signal and filtered output on one time axis (output i at input position i·stride + offset, its
    window centre), numbers written the language's way. Cached like grid(): shared, read-only.
    """
    plotly_ready()
    fig = go.Figure()
    fig.add_scatter(x=np.arange(len(x)), y=x, name=names[0], mode="lines")
    fig.add_scatter(x=np.arange(len(y)) * stride + offset, y=y, name=names[1], mode="lines")
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=20, b=10), legend=dict(orientation="h"))
    return number_style(fig, lang)


# Trace colours a colour-blind student tells apart (Okabe–Ito, ordered so neighbours differ in lightness too:
# dark blue, light orange, green, pink …), and for lines a second, colour-free mark: a dash and a marker symbol.
# Plotly's default blue and red look alike under deuteranopia. (Bars get no fill patterns: plotly draws them as
# url(#…) references, which Streamlit's <base href> breaks; the charts' numbers are in tables beside them.)
# The palette's yellow (#F0E442, 1.2:1 on white) would be all but invisible on a projector: a mid grey stands in.
TRACE_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#767676")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "cross", "star", "hexagon")


def distinct_traces(fig: go.Figure) -> go.Figure:
    """Give every line, bar and histogram trace its own colour, and every line its own dash and marker symbol."""
    for i, trace in enumerate(fig.data):
        colour = TRACE_COLOURS[i % len(TRACE_COLOURS)]
        if trace.type == "scatter":
            trace.update(line=dict(color=colour, dash=DASHES[i % len(DASHES)]),
                         marker=dict(color=colour, symbol=SYMBOLS[i % len(SYMBOLS)], size=7))  # fmt: skip
        elif trace.type in ("bar", "histogram"):
            trace.update(marker=dict(color=colour))
    return fig


def number_style(fig: go.Figure, lang: str) -> go.Figure:
    """Axis, hover and tick numbers written the language's way ("0,5" and "1 000" in Russian), traces
    in colours a colour-blind student tells apart (distinct_traces): every chart of the app passes through here.
    """
    fig.update_layout(separators=",\u202f" if lang == "ru" else ".,")
    return distinct_traces(fig)


# The builders below are cached like grid(): one shared, read-only figure per server for the same arguments.


@st.cache_resource(show_spinner=False, max_entries=32)
def grouped_bars(traces: list[tuple[str, list[str], np.ndarray]], y_title: str, lang: str) -> go.Figure:
    """Grouped bars, one trace (name, x labels, heights) per colour, numbers written the language's way."""
    plotly_ready()
    fig = go.Figure()
    for name, x, y in traces:
        fig.add_bar(x=x, y=y, name=name)
    fig.update_layout(barmode="group", height=360, margin=dict(l=10, r=10, t=30, b=10), yaxis_title=y_title)
    return number_style(fig, lang)


@st.cache_resource(show_spinner=False, max_entries=32)
def line_chart(
    x: list[float], series: list[tuple[str, list[float]]], x_title: str, y_title: str, lang: str
) -> go.Figure:
    """One line with markers per (name, values) over the same x, numbers written the language's way."""
    plotly_ready()
    fig = go.Figure()
    for name, ys in series:
        fig.add_scatter(x=x, y=ys, name=name, mode="lines+markers")
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=x_title, yaxis_title=y_title)
    return number_style(fig, lang)


@st.cache_resource(show_spinner=False, max_entries=16)
def overlap_map(counts: np.ndarray, lang: str) -> go.Figure:
    """How many kernel copies a transposed convolution adds into each output pixel, as a Viridis image."""
    import plotly.express as px

    plotly_ready()
    rows, cols = counts.shape
    # the count in every cell; rows and columns numbered from 1, as the textbook numbers pixels
    fig = px.imshow(counts, x=list(range(1, cols + 1)), y=list(range(1, rows + 1)), color_continuous_scale="Viridis",
                    text_auto=True, aspect="equal")  # fmt: skip
    fig.update_traces(textfont_size=10)
    fig.update_layout(height=520, margin=dict(l=0, r=0, t=10, b=0))
    return number_style(fig, lang)


def correlation_figures(lang: str, flip: bool, scale: float = 1.0) -> tuple[list[go.Figure], np.ndarray, np.ndarray]:
    """The explainer's first tab: Fig. 2's input, the Sobel kernel as used, our result and torch's (cached grids).

    Also called by the start-up warm-up, so the first student to open the explainer finds them built.
    """
    from lib import convolution as cv
    from lib.i18n import t

    kernel = cv.KERNEL_PRESETS["sobel_x"]
    used = np.flip(kernel) if flip else kernel
    ours = cv.conv2d(cv.FIG2_INPUT, kernel, flip=flip)
    ref = cv.torch_reference(cv.FIG2_INPUT, kernel)
    figures = [
        grid(cv.FIG2_INPUT, t("conv.input", lang), scale=scale, lang=lang),
        grid(used, t("conv.kernel_used", lang), scale=scale, lang=lang),
        grid(ours, t("conv.ours_result", lang), scale=scale, lang=lang),
        grid(ref, t("conv.torch_result", lang), scale=scale, lang=lang),
    ]
    return figures, ours, ref
