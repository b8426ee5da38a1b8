"""Plotly figures for number grids and signals."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lib.ui.cache import plotly_ready


def grid(values: np.ndarray, title: str = "", highlight: list[tuple[int, int]] | None = None, fmt: str = "{:g}",
         colorscale: str = "Blues", height: int | None = None, offset: tuple[int, int] = (0, 0),
         zmid: float | None = None) -> go.Figure:  # fmt: skip
    """A matrix as a heatmap with its numbers written in, optional highlighted cells (row, col).

    zmid pins that value to the middle colour of a diverging scale (kernels: 0 is white, not dark red).
    """
    values = np.asarray(values, dtype=float)
    h, w = values.shape
    # + 0.0 turns -0.0 (and rounded float dust) into 0, so no "-0" is written; NaN: not computed yet
    text = [["" if np.isnan(v) else fmt.format(round(v, 4) + 0.0).replace("-", "−") for v in row] for row in values]
    plotly_ready()
    fig = go.Figure(go.Heatmap(z=values, text=text, texttemplate="%{text}", colorscale=colorscale, showscale=False,
                               xgap=2, ygap=2, hoverinfo="skip", zmid=zmid))  # fmt: skip
    for r, c in highlight or []:
        r, c = r - offset[0], c - offset[1]
        if 0 <= r < h and 0 <= c < w:
            fig.add_shape(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5,
                          line=dict(color="#e4572e", width=3))  # fmt: skip
    side = height or max(180, 42 * h + 60)
    fig.update_layout(title=title, height=side, margin=dict(l=5, r=5, t=40 if title else 5, b=5),
                      yaxis=dict(autorange="reversed", showticklabels=False, scaleanchor="x", showgrid=False,
                                 zeroline=False),
                      xaxis=dict(showticklabels=False, showgrid=False, zeroline=False))  # fmt: skip
    return fig


def signals(x: np.ndarray, y: np.ndarray, names: tuple[str, str], offset: float = 0.0) -> go.Figure:
    """Input signal and filtered output on one time axis (output shifted to its window centre)."""
    plotly_ready()
    fig = go.Figure()
    fig.add_scatter(x=np.arange(len(x)), y=x, name=names[0], mode="lines")
    fig.add_scatter(x=np.arange(len(y)) + offset, y=y, name=names[1], mode="lines")
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=20, b=10), legend=dict(orientation="h"))
    return fig


def number_style(fig: go.Figure, lang: str) -> go.Figure:
    """Axis, hover and tick numbers written the language's way ("0,5" and "1 000" in Russian)."""
    fig.update_layout(separators=",\u202f" if lang == "ru" else ".,")
    return fig
