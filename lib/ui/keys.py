"""Widget keys with a generation: a new generation draws the widget anew, from its default.

Setting a widget's value from code leaves the browser holding the old one until the next run reaches it; a rerun
cut short sends that old value back as if typed. A widget under a new key has no old value to send.
"""

from __future__ import annotations

import streamlit as st


def generation_key(name: str) -> str:
    """The widget key `name_<generation>` (generation 0 until `renew(name)`)."""
    return f"{name}_{st.session_state.get(f'{name}_generation', 0)}"


def renew(name: str) -> None:
    """The next generation of the key: the widget is drawn anew on this run, with its default value."""
    counter = f"{name}_generation"
    st.session_state[counter] = st.session_state.get(counter, 0) + 1
