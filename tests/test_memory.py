"""The server-wide glibc tuning: one trimmer thread per server (per setting), on Linux (glibc) only."""

from __future__ import annotations

import sys
import threading

import pytest

from lib.ui.memory import tune_memory


def trimmers() -> int:
    return [t.name for t in threading.enumerate()].count("memory-trim")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's")
def test_one_trimmer_thread_per_server():
    before = trimmers()  # the app itself may have started one in an earlier test
    assert tune_memory(trim_every=61.5) is True
    assert tune_memory(trim_every=61.5) is True  # cached: the second call starts nothing
    assert trimmers() == before + 1
