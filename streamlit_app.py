"""Entry point: page config and navigation; every page draws the shared sidebar itself."""

import streamlit as st

from lib.i18n import t
from lib.ui.lang import current_language  # light: the navigation shows before torch loads

st.set_page_config(page_title="CNN denoising · MNIST", page_icon="✏️", layout="wide")

lang = current_language()
PAGES = [
    ("app_pages/noise_lab.py", "page.lab", ":material/science:", True),
    ("app_pages/convolution.py", "page.conv", ":material/grid_on:", False),
    ("app_pages/train.py", "page.train", ":material/model_training:", False),
    ("app_pages/inside.py", "page.inside", ":material/biotech:", False),
    ("app_pages/compare.py", "page.compare", ":material/bar_chart:", False),
    ("app_pages/draw.py", "page.draw", ":material/draw:", False),
    ("app_pages/upload.py", "page.upload", ":material/photo_camera:", False),
]
navigation = st.navigation(
    [st.Page(path, title=t(key, lang), icon=icon, default=default) for path, key, icon, default in PAGES]
)
navigation.run()
