"""Make the first histogram and the first visit to the explainer quick: warm what they need ahead of time.

Two kinds of one-time cost made those first actions slow (3.1 s and about 5 s on a fresh server):

* in the server, plotly's figure validators and the explainer's imports, built on first use, once per
  process: a thread warms them right after start-up (`warm_server`), before a student clicks;
* in the browser, the JavaScript of the chart, table and formula components, which Streamlit loads when
  the first such element appears: a session's first page carries a tiny hidden chart, table and formula
  (`preload_components`), so a student's browser loads them while the first page is being read.
"""

from __future__ import annotations

import gc
import threading

import streamlit as st

PRELOAD_KEY = "preload_components"
# Laid out off screen and invisible, not display: none: a browser loads a font (KaTeX's) and plotly measures
# its chart only for elements that are laid out; visibility: hidden also keeps it from screen readers.
HIDE = (f"<style>.st-key-{PRELOAD_KEY} {{ position: absolute !important; left: -10000px; top: 0; width: 320px;"
        " visibility: hidden; pointer-events: none; }</style>")  # fmt: skip


def _warm() -> None:
    """Build once what the first histogram and the explainer's first tab build (results are thrown away)."""
    import numpy as np
    import pandas  # noqa: F401  (before plotly: see lib.ui.cache.plotly_ready)

    import lib.preprocess  # noqa: F401  (the explainer filters uploads: scipy and scikit-image, ≈ 1–2 s to import)
    from lib.i18n import LANGUAGES
    from lib.ui.plots import correlation_figures
    from lib.ui.widgets import histogram_before_after_clip

    class _Frame:  # the histogram needs only the language and its labels
        lang = "ru"

        def t(self, key: str, **params: object) -> str:
            from lib.i18n import t

            return t(key, "ru", **params)

    histogram_before_after_clip(_Frame(), np.linspace(-60.0, 300.0, 2000)).to_json()
    for lang in LANGUAGES:  # the explainer's first tab, as its first visitor will ask for it (cached grids)
        for figure in correlation_figures(lang, flip=False)[0]:
            figure.to_json()
    import lib.ui.frame  # noqa: F401  (torch, the store and every page's helpers)

    freeze_startup_objects()


def freeze_startup_objects() -> None:
    """Move what the imports made into the collector's permanent generation: full collections skip it."""
    gc.collect()
    gc.freeze()


@st.cache_resource(show_spinner=False)
def warm_server() -> threading.Thread:
    """Once per server: warm plotly and the explainer in a background thread (the first page is not delayed)."""
    thread = threading.Thread(target=_warm, name="warm-up", daemon=True)
    thread.start()
    return thread


@st.cache_resource(show_spinner=False)
def _tiny_figure():
    """A one-point chart, shared by every session (read-only)."""
    import pandas  # noqa: F401  (waits for the warm-up thread's import of pandas: plotly must not see it half-done)
    import plotly.graph_objects as go

    return go.Figure(
        data=[go.Scatter(x=[0], y=[0])],
        layout=dict(height=10, margin=dict(l=0, r=0, t=0, b=0), xaxis=dict(visible=False), yaxis=dict(visible=False)),
    )


def preload_components() -> None:
    """In a session's first run only: a hidden chart, table and formula, so the browser fetches their
    components' code before they are needed (once loaded, it stays loaded for the session)."""
    # An empty slot on later runs: the page's elements after it keep their places (an element that came and went
    # would shift them, and Streamlit would draw an expander the student had opened anew, closed).
    slot = st.empty()
    if st.session_state.get(PRELOAD_KEY):
        return
    st.session_state[PRELOAD_KEY] = True
    with slot.container(key=PRELOAD_KEY):
        st.markdown(HIDE, unsafe_allow_html=True)
        st.plotly_chart(_tiny_figure(), key="preload_chart", config={"staticPlot": True})
        st.dataframe({"": [0]}, key="preload_table", height=40)
        st.latex(r"\sum_m \sum_n I(i+m,\, j+n)\, K(m,n) \cdot 0{,}3")  # the explainer's fonts
