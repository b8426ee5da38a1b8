"""Server-wide memory upkeep: hand memory freed by finished reruns back to the system (light: no torch)."""

from __future__ import annotations

import ctypes
import functools
import sys
import threading
import time
from collections.abc import Callable

import streamlit as st


def _trim_forever(period: float, release: Callable[[], object]) -> None:
    while True:
        time.sleep(period)
        release()


@st.cache_resource(show_spinner=False)
def memory_trimmer(period: float = 5.0) -> bool:
    """Start one thread per server that calls glibc's malloc_trim every `period` seconds; False elsewhere.

    glibc keeps blocks freed by finished reruns inside its arenas; across many sessions those scattered free
    pages add up to tens of MB of resident memory that nobody uses, and malloc_trim returns them.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        release = functools.partial(ctypes.CDLL("libc.so.6").malloc_trim, 0)
    except (OSError, AttributeError):
        return False
    threading.Thread(target=_trim_forever, args=(period, release), name="memory-trim", daemon=True).start()
    return True
