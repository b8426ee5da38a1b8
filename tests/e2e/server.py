"""One way to start and stop `streamlit run` for the browser tests (and the screenshot tool)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from deploy.serve import wait_healthy

ROOT = Path(__file__).resolve().parents[2]


def start_streamlit(port: int, log: Path | None = None, env: dict[str, str] | None = None,
                    timeout: float = 60.0, root: Path = ROOT) -> subprocess.Popen:  # fmt: skip
    """The app in `root` on a loopback port, its output appended to `log` (or dropped); returned once it answers
    health."""
    cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]  # fmt: skip
    with open(log if log is not None else os.devnull, "a") as out:
        proc = subprocess.Popen(cmd, cwd=root, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", timeout, proc, every=0.25)
    except RuntimeError as exc:
        stop_streamlit(proc)
        raise RuntimeError(f"streamlit did not start ({exc}):\n{log.read_text() if log else ''}") from None
    return proc


def stop_streamlit(proc: subprocess.Popen | None) -> None:
    """Terminate the server, killing it if it does not stop within 10 s."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
