"""One command for a school server: N app processes behind nginx with sticky sessions, sharing one store.

    python -m deploy.serve --processes 2 --port 8500

Each process is a `streamlit run streamlit_app.py` on its own loopback port; nginx (Debian's package) listens
on --port and routes every browser to one process by a cookie. All processes share the cookie secret (so the
XSRF cookie of an upload is accepted by any of them) and the workspace store (SQLite file or PostgreSQL URL
from the environment), so a student moved to another process finds their work. Ctrl+C stops everything.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nginx_config(
    listen: int, app_ports: list[int], prefix: Path, host: str = "127.0.0.1", max_body_mb: int = 10
) -> str:
    """The nginx configuration for these app ports, with its temporary files under prefix."""
    servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in app_ports)
    # As root nginx would hand its workers to `nobody`, who cannot write the temporary folder.
    user_line = "user root;" if os.geteuid() == 0 else ""
    fields = {"listen": f"{host}:{listen}", "servers": servers, "prefix": str(prefix), "user_line": user_line,
              "max_body": f"{max_body_mb + 1}m"}  # fmt: skip
    text = TEMPLATE.read_text()
    for name, value in fields.items():  # {{name}}: nginx's own $variables stay as they are
        text = text.replace("{{" + name + "}}", value)
    return text


def wait_healthy(url: str, timeout: float, proc: subprocess.Popen | None = None, every: float = 0.2) -> None:
    """Wait until url/_stcore/health answers ok (or the process died, or the time is up); ask every `every` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return
        except OSError:
            time.sleep(every)
    raise RuntimeError(f"{url} did not become healthy in {timeout:.0f} s")


@dataclass
class Cluster:
    """The app processes and nginx of one `serve` run."""

    processes: int
    port: int
    host: str = "127.0.0.1"
    env: dict[str, str] = field(default_factory=dict)
    prefix: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="classroom-nginx-")))
    app_ports: list[int] = field(default_factory=list)
    apps: list[subprocess.Popen] = field(default_factory=list)
    nginx: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.app_ports[index]}"

    def start_app(self, index: int) -> subprocess.Popen:
        """Start (or restart) app process `index` on its port."""
        port = self.app_ports[index]
        log = open(self.prefix / f"app{index}.log", "ab")  # noqa: SIM115  (kept open for the process's life)
        cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true"]  # fmt: skip
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=os.environ | self.env)
        if index < len(self.apps):
            self.apps[index] = proc
        else:
            self.apps.append(proc)
        return proc

    def start(self, timeout: float = 120) -> None:
        """Start every app process and nginx; on any failure stop what was started, then raise."""
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout: float) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            raise RuntimeError("nginx is not installed (Debian: apt-get install nginx)")
        self.env.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_hex(32))
        self.app_ports = [free_port() for _ in range(self.processes)]
        for index in range(self.processes):
            self.start_app(index)
        for index, proc in enumerate(self.apps):
            wait_healthy(self.app_url(index), timeout, proc)
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.prefix / sub).mkdir(exist_ok=True)
        conf = self.prefix / "nginx.conf"
        conf.write_text(nginx_config(self.port, self.app_ports, self.prefix, self.host))
        self.nginx = subprocess.Popen(
            [nginx, "-p", str(self.prefix), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=open(self.prefix / "nginx.stderr", "wb"),  # noqa: SIM115
        )  # fmt: skip
        wait_healthy(self.url, 30, self.nginx)

    def access_log(self) -> str:
        path = self.prefix / "access.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop nginx and every app process."""
        for proc in [self.nginx, *self.apps]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in [self.nginx, *self.apps]:
            if proc is None:
                continue
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.prefix, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--processes", type=int, default=2, help="app processes (about one per CPU core)")
    p.add_argument("--port", type=int, default=8500, help="the port nginx listens on")
    p.add_argument("--host", default="0.0.0.0", help="the address nginx listens on (0.0.0.0: every interface)")
    args = p.parse_args()
    cluster = Cluster(args.processes, args.port, args.host)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        cluster.start()
        print(f"{args.processes} processes behind nginx on {args.host}:{args.port}", flush=True)
        while all(proc.poll() is None for proc in [cluster.nginx, *cluster.apps]):
            time.sleep(1)
        print("a process ended; stopping the rest", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
