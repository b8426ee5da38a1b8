"""Entry point: page config and navigation; every page draws the shared sidebar itself."""

import sys

import streamlit as st

from lib.i18n import t
from lib.ui.lang import NAV_LANG_KEY, current_language  # light: the navigation shows before torch loads
from lib.ui.memory import tune_memory
from lib.ui.warm import warm_server

# Every student's rerun and every training is a thread of this one process. With Python's default 5 ms
# GIL hand-over, a thread coming back from a torch kernel or the network waits behind whoever runs Python;
# 0.5 ms roughly doubled a training's speed next to busy pages (see docs/performance.md). Shorter did not
# help further: at 0.05 ms the pages of 60 students were slower and the trainings no faster.
sys.setswitchinterval(0.0005)
tune_memory()  # glibc: two malloc arenas, freed memory handed back every second
warm_server()  # plotly and the explainer warmed in a background thread: quick first histogram and explainer
lang = current_language()
st.set_page_config(page_title=t("common.app_title", lang), page_icon="✏️", layout="wide")

PAGES = [
    ("app_pages/noise_lab.py", "lab.page", ":material/science:", True),
    ("app_pages/convolution.py", "conv.page", ":material/grid_on:", False),
    ("app_pages/train.py", "train.page", ":material/model_training:", False),
    ("app_pages/inside.py", "inside.page", ":material/biotech:", False),
    ("app_pages/compare.py", "compare.page", ":material/bar_chart:", False),
    ("app_pages/draw.py", "draw.page", ":material/draw:", False),
    ("app_pages/upload.py", "upload.page", ":material/photo_camera:", False),
    ("app_pages/teacher.py", "teacher.page", ":material/school:", False),
]
st.session_state[NAV_LANG_KEY] = lang
navigation = st.navigation(
    [st.Page(path, title=t(key, lang), icon=icon, default=default) for path, key, icon, default in PAGES]
)
navigation.run()
