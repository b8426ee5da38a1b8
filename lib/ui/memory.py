"""Server-wide glibc memory tuning: fewer malloc arenas, and memory freed by finished reruns handed back."""

from __future__ import annotations

import ctypes
import functools
import sys
import threading
import time
from collections.abc import Callable

import streamlit as st

M_ARENA_MAX = -8  # mallopt parameter


def _trim_forever(period: float, release: Callable[[], object]) -> None:
    while True:
        time.sleep(period)
        release()


@st.cache_resource(show_spinner=False)
def tune_memory(trim_every: float = 1.0) -> bool:
    """Once per server: cap glibc at two malloc arenas and call malloc_trim every `trim_every` s; False elsewhere.

    glibc gives threads that allocate at the same time their own arenas (up to 8 per core) and rarely hands
    their free space back; a rerun is a new thread, so two arenas (as MALLOC_ARENA_MAX=2) keep the fragments
    of many students' runs from piling up. Blocks freed by finished reruns still stay inside the arenas;
    across many sessions those scattered free pages add up to tens of MB of resident memory that nobody
    uses, and malloc_trim returns them. Other C libraries: nothing to tune.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_ARENA_MAX, 2)
        release = functools.partial(libc.malloc_trim, 0)
    except (OSError, AttributeError):
        return False
    threading.Thread(target=_trim_forever, args=(trim_every, release), name="memory-trim", daemon=True).start()
    return True
