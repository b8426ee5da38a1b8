"""The UI language (light module: the entrypoint imports it before torch is loaded)."""

from __future__ import annotations

import streamlit as st

from lib.i18n import LANGUAGES, default_language

LANG_KEY = "keep_lang"
NAV_LANG_KEY = "navigation_lang"  # the language the navigation's page titles were drawn in this run


def current_language() -> str:
    """The chosen language, or the browser's on first visit."""
    lang = st.session_state.get(LANG_KEY)
    if lang in LANGUAGES:
        return lang
    try:
        locale = st.context.locale
    except Exception:  # outside a browser session (tests, bare scripts)
        locale = None
    return default_language(locale)
