"""Load test: simulated students talk to a real `streamlit run` server over its websocket, as browsers do.

Run: python -m bench.load_test --students 30 --trainings 2 --json bench/results_load_30.json
     python -m bench.load_test --capacity 10,20,30,45,60 --json bench/results_capacity.json

The default scenario is the sustained one: every student connects, then all of them move the Noise lab's seed
together, one action every ~2 s (jittered ±50 %), for at least 60 s; the arrival and a 10 s warm-up are left out
of the figures. `--capacity` runs it at several class sizes and reports the sustained reruns per second at which
rerun p95 stays ≤ 1 s. `--scenario rounds` is the older one (a staggered start, N rounds, then a page tour).

Each student is one websocket session on `/_stcore/stream` speaking Streamlit's protobuf protocol
(BackMsg out, ForwardMsg in): it opens the app, fetches every image the page shows from `/media/`,
moves Noise-lab controls (a new seed about every 2 s), opens every page, draws on the canvas (sends the
canvas component's value), uploads a photo through `/_stcore/upload_file/` and, for the first T students,
starts a training on the Train page and follows it as the page's 1 s auto-refresh does. The server runs on
a free loopback port and is stopped at the end; everything is bounded in time. The report (JSON) has
p50/p95/max latency per action, failures, server CPU-seconds per rerun, peak RSS and the tracebacks
found in the server log. `--soak N` opens and closes N sessions one after another and reports RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bench
from deploy.serve import free_port

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
OK_STATUSES = (0, 3)  # FINISHED_SUCCESSFULLY, FINISHED_FRAGMENT_RUN_SUCCESSFULLY
EARLY_FOR_RERUN = 2  # the script asked for a rerun itself (st.rerun); the result comes with the next run


def proc_pids(pid: int) -> list[int]:
    """The process and its direct children."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    return pids


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, MB."""
    total = 0
    for p in proc_pids(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def machine_cpu_seconds() -> float:
    """CPU time all processes of the machine have used (user + system, all cores), seconds."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    return (int(fields[0]) + int(fields[1]) + int(fields[2])) / CLK_TCK


def own_cpu_seconds() -> float:
    """CPU time of this process (the simulated students), seconds."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Server:
    """`streamlit run streamlit_app.py` on a free loopback port, with its log and a memory sampler."""

    def __init__(self, env: dict[str, str] | None = None, args: list[str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.mkdtemp(prefix="load_test_")) / "server.log"
        # a class of its own: the students' workspaces go into a fresh SQLite file beside the log
        self.env = os.environ | {"CLASSROOM_DATA_DIR": str(self.log_path.parent)} | (env or {})
        self.args = args or []
        self.proc: subprocess.Popen | None = None
        self.peak_rss = 0.0
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None
        self.started_at = 0.0
        self.ready_s = 0.0

    def start(self, timeout: float = 90) -> None:
        cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
               *self.args]  # fmt: skip
        self.started_at = time.perf_counter()
        with open(self.log_path, "w") as out:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited:\n{self.log_path.read_text()}")
            try:
                if urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError(f"streamlit did not start:\n{self.log_path.read_text()}")
        self.ready_s = time.perf_counter() - self.started_at
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            if self.proc is None or self.proc.poll() is not None:
                return
            self.peak_rss = max(self.peak_rss, rss_mb(self.proc.pid))

    def rss(self) -> float:
        return rss_mb(self.proc.pid)

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tracebacks(self) -> list[str]:
        """Each traceback in the server log, shortened to its last lines."""
        found, lines = [], self.log().splitlines()
        for i, line in enumerate(lines):
            if line.startswith("Traceback"):
                end = i + 1
                while end < len(lines) and (lines[end].startswith(" ") or lines[end].startswith("Traceback")):
                    end += 1
                found.append("\n".join(lines[max(i, end - 4) : end + 1]))
        return found

    def stop(self) -> None:
        self._stop.set()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class ClusterServer:
    """N app processes behind nginx (deploy/serve.py), measured as one server: CPU and RSS summed."""

    def __init__(self, processes: int, env: dict[str, str] | None = None) -> None:
        from deploy.serve import Cluster

        fresh = {"CLASSROOM_DATA_DIR": tempfile.mkdtemp(prefix="load_test_")}  # one store the processes share
        self.cluster = Cluster(processes, free_port(), env=fresh | dict(env or {}))
        self.url = self.cluster.url
        self.peak_rss = 0.0
        self.ready_s = 0.0
        self._stop = threading.Event()

    def _pids(self) -> list[int]:
        return [p.pid for p in [self.cluster.nginx, *self.cluster.apps] if p is not None and p.poll() is None]

    def start(self) -> None:
        started = time.perf_counter()
        self.cluster.start()
        self.ready_s = time.perf_counter() - started
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            with contextlib.suppress(OSError):  # a process ended between listing and reading it
                self.peak_rss = max(self.peak_rss, self.rss())

    def rss(self) -> float:
        return sum(rss_mb(pid) for pid in self._pids())

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self._pids())

    def log(self) -> str:
        logs = sorted(self.cluster.prefix.glob("app*.log"))
        return "\n".join(path.read_text(errors="replace") for path in logs)

    def tracebacks(self) -> list[str]:
        return Server.tracebacks(self)  # type: ignore[arg-type]  (reads only self.log())

    def stop(self) -> None:
        self._stop.set()
        self.cluster.stop()


@dataclass
class Stats:
    """Latencies and failures per action, shared by all students."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    failures: dict[str, list[str]] = field(default_factory=dict)
    reruns: int = 0

    def add(self, action: str, seconds: float) -> None:
        self.latencies.setdefault(action, []).append(seconds)

    def fail(self, action: str, reason: str) -> None:
        self.failures.setdefault(action, []).append(reason[:300])

    def report(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for action in sorted(set(self.latencies) | set(self.failures)):
            values = sorted(self.latencies.get(action, []))
            row: dict[str, Any] = {"count": len(values), "failures": len(self.failures.get(action, []))}
            if values:
                row |= {
                    "p50_s": round(statistics.median(values), 4),
                    "p95_s": round(values[min(len(values) - 1, int(0.95 * len(values)))], 4),
                    "max_s": round(values[-1], 4),
                }
            if self.failures.get(action):
                row["first_failures"] = self.failures[action][:3]
            out[action] = row
        return out


def digit_png(size: int = 280, photo: bool = False, seed: int = 0) -> bytes:
    """A handwritten-looking '7' as PNG: white ink on black (canvas) or dark ink on grey paper (photo)."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    img = Image.new("RGBA" if not photo else "RGB", (size, size), (0, 0, 0, 255) if not photo else (205, 200, 190))
    draw = ImageDraw.Draw(img)
    ink = (255, 255, 255, 255) if not photo else (30, 30, 40)
    j = lambda v: v + rng.randint(-8, 8)  # noqa: E731
    width = size // 14
    draw.line([(j(size * 0.25), j(size * 0.22)), (j(size * 0.75), j(size * 0.22))], fill=ink, width=width)
    draw.line([(j(size * 0.75), j(size * 0.22)), (j(size * 0.42), j(size * 0.8))], fill=ink, width=width)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def http(url: str, data: bytes | None = None, headers: dict[str, str] | None = None, method: str = "GET") -> tuple:
    """One HTTP request; (status, body, headers)."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


class Student:
    """One browser tab: a websocket session that reruns the app the way the frontend does."""

    def __init__(self, number: int, url: str, stats: Stats, locale: str = "ru-RU") -> None:
        self.number = number
        self.url = url
        self.stats = stats
        self.locale = locale
        self.rng = random.Random(number)
        self.ws = None
        self.cookie = ""
        self.cookies: dict[str, str] = {}
        self.xsrf = ""
        self.session_id = ""
        self.pages: dict[str, str] = {}  # url path → page script hash
        self.page_hash = ""
        self.query_string = ""  # the address's query as the app last set it (?w=…), sent back as a browser does
        self.widgets: dict[str, tuple[str, Any, str]] = {}  # widget id → (element type, proto, fragment id)
        self.media_seen: set[str] = set()
        self.new_media: list[str] = []
        self.errors: list[str] = []  # exception or error elements shown in this run
        self.alerts: list[tuple[int, str]] = []  # (format, text) of the alerts shown in this run
        self.progress_texts: list[str] = []  # texts of the progress bars shown in this run
        self.progress_seen: list[str] = []  # texts of every progress bar this tab has shown (runs are short)
        self.auto_reruns: dict[str, float] = {}  # fragment id → interval
        self._finished: asyncio.Future | None = None
        self._file_urls: asyncio.Future | None = None
        self._lock = asyncio.Lock()
        self._reader: asyncio.Task | None = None
        self._auto: asyncio.Task | None = None
        self.closed = False

    # connection -----------------------------------------------------------------------------------
    async def connect(self) -> float:
        """Load the page as a browser does and run the app once; seconds until the script finished."""
        from websockets.asyncio.client import connect

        start = time.perf_counter()
        status, _, headers = await asyncio.to_thread(http, f"{self.url}/", None, self._cookie_header())
        if status != 200:
            raise RuntimeError(f"index page answered {status}")
        self._keep_cookies(headers)  # behind a proxy: its routing cookie keeps this tab on one process
        status, _, headers = await asyncio.to_thread(http, f"{self.url}/_stcore/health", None, self._cookie_header())
        self._keep_cookies(headers)
        self.xsrf = self.cookies.get("_streamlit_xsrf", "")
        self.cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        ws_url = self.url.replace("http://", "ws://") + "/_stcore/stream"
        protocols = ["streamlit", self.xsrf] if self.xsrf else ["streamlit"]
        self.ws = await connect(
            ws_url, subprotocols=protocols, additional_headers={"Cookie": self.cookie, "Origin": self.url},
            max_size=None, open_timeout=60, ping_interval=None,
        )  # fmt: skip
        self._reader = asyncio.create_task(self._read())
        await self._run_script()
        return time.perf_counter() - start

    async def close(self) -> None:
        """Close the tab."""
        self.closed = True
        if self._auto is not None:
            self._auto.cancel()
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            try:
                await asyncio.wait_for(self._reader, 10)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._reader.cancel()

    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        try:
            async for data in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self._handle(msg)
        except Exception as exc:  # a dropped connection fails whatever waits on it
            if not self.closed:
                self.stats.fail("connection", f"{type(exc).__name__}: {exc}")
        finally:
            for fut in (self._finished, self._file_urls):
                if fut is not None and not fut.done():
                    fut.set_exception(ConnectionError("websocket closed"))

    def _handle(self, msg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.session_id = msg.new_session.initialize.session_id or self.session_id
            for page in msg.new_session.app_pages:
                self.pages[page.url_pathname] = page.page_script_hash
        elif kind == "navigation":
            for page in msg.navigation.app_pages:
                self.pages[page.url_pathname] = page.page_script_hash
            self.page_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta":
            self._delta(msg.delta)
        elif kind == "auto_rerun":
            self.auto_reruns[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
            if self._auto is None or self._auto.done():
                self._auto = asyncio.create_task(self._auto_loop())
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                self.auto_reruns.pop(fid, None)
        elif kind == "file_urls_response":
            if self._file_urls is not None and not self._file_urls.done():
                self._file_urls.set_result(msg.file_urls_response)
        elif kind == "script_finished":
            status = msg.script_finished
            if status != EARLY_FOR_RERUN and self._finished is not None and not self._finished.done():
                self._finished.set_result(status)

    def _delta(self, delta) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        etype = element.WhichOneof("type")
        if etype is None:
            return
        proto = getattr(element, etype)
        if etype == "exception":
            self.errors.append(f"exception {proto.type}: {proto.message}")
        elif etype == "progress":
            self.progress_texts.append(proto.text)
            self.progress_seen.append(proto.text)
        elif etype == "alert":
            self.alerts.append((proto.format, proto.body))
            if proto.format == 1:  # ERROR
                self.errors.append(f"error: {proto.body[:200]}")
        elif etype == "imgs":
            for img in proto.imgs:
                if img.url.startswith("/media/") and img.url not in self.media_seen:
                    self.new_media.append(img.url)
        widget_id = getattr(proto, "id", "")
        if isinstance(widget_id, str) and widget_id:
            self.widgets[widget_id] = (etype, proto, delta.fragment_id)

    def widget_id(self, key: str) -> str:
        """The id of the widget with this user key on the page shown now."""
        for wid in self.widgets:
            if wid.endswith(f"-{key}"):
                return wid
        raise KeyError(f"no widget with key {key!r} on the page")

    # reruns -----------------------------------------------------------------------------------------
    async def _run_script(self, states: list | None = None, page_hash: str | None = None, fragment_id: str = "",
                          auto: bool = False, timeout: float = 180) -> int:  # fmt: skip
        from streamlit.proto.BackMsg_pb2 import BackMsg

        back = BackMsg()
        cs = back.rerun_script
        cs.query_string = self.query_string
        cs.page_script_hash = page_hash if page_hash is not None else self.page_hash
        cs.fragment_id = fragment_id
        cs.is_auto_rerun = auto
        cs.context_info.locale = self.locale
        cs.context_info.timezone = "UTC"
        cs.context_info.url = f"{self.url}/"
        for state in states or []:
            cs.widget_states.widgets.append(state)
        self.errors, self.alerts, self.progress_texts = [], [], []
        self._finished = asyncio.get_running_loop().create_future()
        await self.ws.send(back.SerializeToString())
        status = await asyncio.wait_for(self._finished, timeout)
        self.stats.reruns += 1
        if status not in OK_STATUSES:
            raise RuntimeError(f"script finished with status {status}")
        if self.errors:
            raise RuntimeError("; ".join(self.errors[:3]))
        await self._fetch_media()
        return status

    def _keep_cookies(self, headers) -> None:
        """Remember the cookies a response sets (name → value), as a browser does."""
        for cookie in headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]

    def _cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    async def _fetch_media(self) -> None:
        """Fetch the run's new images as the browser does."""
        urls, self.new_media = self.new_media, []
        if urls:
            for url, status, seconds in await asyncio.to_thread(self._get_all, urls):
                self.stats.add("media_image", seconds)
                if status != 200:
                    self.stats.fail("media", f"{url}: HTTP {status}")
                self.media_seen.add(url)

    def _get_all(self, urls: list[str]) -> list[tuple[str, int, float]]:
        out = []
        for url in urls:
            start = time.perf_counter()
            status, body, _ = http(f"{self.url}{url}", None, self._cookie_header())
            out.append((url, status if body else 0, time.perf_counter() - start))
        return out

    async def act(self, action: str, states: list | None = None, page_hash: str | None = None,
                  fragment_id: str = "", auto: bool = False) -> float | None:  # fmt: skip
        """One user action: send the rerun, wait for the script to finish; latency or None on failure."""
        async with self._lock:
            start = time.perf_counter()
            try:
                await self._run_script(states, page_hash, fragment_id, auto)
            except Exception as exc:
                self.stats.fail(action, f"student {self.number}: {type(exc).__name__}: {exc}")
                return None
            seconds = time.perf_counter() - start
            self.stats.add(action, seconds)
            return seconds

    async def _auto_loop(self) -> None:
        """What fragments with run_every do in the browser: each one reruns every its own `interval` seconds."""
        due: dict[str, float] = {}  # fragment id → when it reruns next (loop time)
        loop = asyncio.get_running_loop()
        while self.auto_reruns and not self.closed:
            now = loop.time()
            for fid, interval in self.auto_reruns.items():
                due.setdefault(fid, now + interval)
            for fid in [f for f in due if f not in self.auto_reruns]:
                del due[fid]
            fid = min(due, key=due.__getitem__)
            await asyncio.sleep(max(0.0, due[fid] - loop.time()))
            if fid in self.auto_reruns and not self.closed:
                due[fid] = loop.time() + self.auto_reruns[fid]
                await self.act("auto_refresh", fragment_id=fid, auto=True)

    # widgets ----------------------------------------------------------------------------------------
    def state(self, key: str, **value: Any):
        """A WidgetState for the widget with this key: state(key, int_value=3) etc."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        ws = WidgetState(id=self.widget_id(key))
        for name, v in value.items():
            if name in ("double_array_value", "int_array_value", "string_array_value"):
                getattr(ws, name).data.extend(v)
            else:
                setattr(ws, name, v)
        return ws

    async def open_page(self, path: str) -> float | None:
        """Click a page in the navigation."""
        if path not in self.pages:
            self.stats.fail(f"page:{path or 'lab'}", f"no page {path!r} in {sorted(self.pages)}")
            return None
        self.widgets = {}
        return await self.act(f"page:{path or 'lab'}", page_hash=self.pages[path])

    async def new_seed(self) -> float | None:
        """Noise lab: type a new seed into the seed box."""
        return await self.act("lab_seed", [self.state("keep_lab_seed", double_value=self.rng.randrange(10**6))])

    async def draw(self) -> float | None:
        """Draw page: the canvas component reports a drawing (its value), the fragment reruns."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        fit = next((w for w in self.widgets if w.endswith("-canvas_fit_draw")), None)
        canvas = [w for w in self.widgets if re.search(r"-draw_canvas_\d+$", w)]  # key: draw_canvas_<clears>
        if fit is not None and not canvas:  # the page's helper reports the column width
            measured = WidgetState(id=fit, json_value=json.dumps({"width": 280}))
            if await self.act("draw_measure", [measured], fragment_id=self.widgets[fit][2]) is None:
                return None
        wid = next((w for w in self.widgets if re.search(r"-draw_canvas_\d+$", w)), None)
        if wid is None:
            self.stats.fail("draw", "no canvas on the draw page")
            return None

        url = "data:image/png;base64," + base64.b64encode(digit_png(seed=self.number)).decode()
        value = {"drawing": {"raw": {"objects": [{"type": "path"}], "background": "#000000"}, "data": url},
                 "backgroundFit": None}  # fmt: skip
        state = WidgetState(id=wid, json_value=json.dumps(value))
        seconds = await self.act("draw", [state], fragment_id=self.widgets[wid][2])
        if seconds is not None and not self.has_widget("draw_add_report"):
            self.stats.fail("draw", f"student {self.number}: the drawing was not cleaned")
        return seconds

    async def upload(self) -> float | None:
        """Your images: upload one photo the way the uploader does (URL request, PUT, rerun)."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.Common_pb2 import UploadedFileInfo

        name = f"digit_{self.number}.png"
        data = digit_png(photo=True, seed=self.number)
        start = time.perf_counter()
        try:
            async with self._lock:
                back = BackMsg()
                back.file_urls_request.request_id = uuid.uuid4().hex
                back.file_urls_request.session_id = self.session_id
                back.file_urls_request.file_names.append(name)
                self._file_urls = asyncio.get_running_loop().create_future()
                await self.ws.send(back.SerializeToString())
                response = await asyncio.wait_for(self._file_urls, 60)
                urls = response.file_urls[0]
                boundary = uuid.uuid4().hex
                body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                        f"Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()  # fmt: skip
                headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Cookie": self.cookie,
                           "X-Xsrftoken": self.xsrf, "Origin": self.url}  # fmt: skip
                status, text, _ = await asyncio.to_thread(
                    http, f"{self.url}{urls.upload_url}" if urls.upload_url.startswith("/") else urls.upload_url,
                    body, headers, "PUT",
                )  # fmt: skip
                if status not in (200, 204):
                    raise RuntimeError(f"upload answered HTTP {status}: {text[:200]!r}")
        except Exception as exc:
            self.stats.fail("upload", f"student {self.number}: {type(exc).__name__}: {exc}")
            return None
        info = UploadedFileInfo(name=name, size=len(data), file_id=urls.file_id)
        info.file_urls.CopyFrom(urls)
        state = self.state("upload_files")
        state.file_uploader_state_value.uploaded_file_info.append(info)
        seconds = await self.act("upload_rerun", [state])
        if seconds is not None and not self.has_widget("dl_zip"):
            self.stats.fail("upload", f"student {self.number}: no report after the upload")
        elif seconds is not None:
            self.stats.add("upload", time.perf_counter() - start)
        return seconds

    def has_widget(self, key: str) -> bool:
        return any(w.endswith(f"-{key}") for w in self.widgets)

    async def start_training(self, subset: int, epochs: int) -> float | None:
        """Train page: set the subset and epochs, press Start; when Start was pressed (perf_counter)."""
        if await self.open_page("train") is None:
            return None
        states = [
            self.state("keep_train_subset", double_array_value=[float(subset)]),
            self.state("keep_train_epochs", double_value=float(epochs)),
        ]
        if await self.act("train_settings", states) is None:
            return None
        pressed = time.perf_counter()
        if await self.act("train_start", [*states, self.state("train_start", trigger_value=True)]) is None:
            return None
        return pressed

    async def train(self, subset: int, epochs: int, timeout: float) -> float | None:
        """Train page: a run; seconds from Start until the finished model's download button shows."""
        start = await self.start_training(subset, epochs)
        if start is None:
            return None
        while time.perf_counter() - start < timeout:
            if self.has_widget("dl_weights"):
                seconds = time.perf_counter() - start
                self.stats.add("training_run", seconds)
                return seconds
            await asyncio.sleep(0.25)
        self.stats.fail("training_run", f"student {self.number}: not finished after {timeout:.0f} s")
        return None


async def lab_rounds(student: Student, rounds: int, period: float, until: asyncio.Event | None = None) -> None:
    """Move the noise lab's seed every ~period seconds (jittered), `rounds` times (or until `until` is set)."""
    done = 0
    while done < rounds or (until is not None and not until.is_set()):
        await asyncio.sleep(period * student.rng.uniform(0.5, 1.5))
        await student.new_seed()
        done += 1


async def class_session(server: Server, students: int, rounds: int, trainings: int, period: float, pages: bool,
                        train_subset: int, train_epochs: int, stats: Stats) -> dict[str, Any]:  # fmt: skip
    """Everybody arrives at once, moves the lab controls; T of them train meanwhile; then all visit every page."""
    url = server.url
    class_ = [Student(i, url, stats) for i in range(students)]
    result: dict[str, Any] = {}

    async def arrive(s: Student) -> None:
        try:
            stats.add("first_page", await s.connect())
        except Exception as exc:
            stats.fail("first_page", f"student {s.number}: {type(exc).__name__}: {exc}")

    await asyncio.gather(*(arrive(s) for s in class_))
    connected = [s for s in class_ if s.ws is not None and s.session_id]
    cpu0, reruns0, t0 = server.cpu(), stats.reruns, time.perf_counter()
    machine0, client0 = machine_cpu_seconds(), own_cpu_seconds()
    trainers, others = connected[:trainings], connected[trainings:]
    trainings_done = asyncio.Event()

    async def trainer(s: Student) -> float | None:
        return await s.train(train_subset, train_epochs, timeout=900)

    async def run_trainings() -> list[float | None]:
        try:
            return list(await asyncio.gather(*(trainer(s) for s in trainers)))
        finally:
            trainings_done.set()

    if trainers:
        times, _ = await asyncio.gather(
            run_trainings(), asyncio.gather(*(lab_rounds(s, rounds, period, trainings_done) for s in others))
        )
        result["training_seconds"] = times
    else:
        await asyncio.gather(*(lab_rounds(s, rounds, period) for s in others))
    reruns = stats.reruns - reruns0
    result["lab_phase"] = {
        "wall_s": round(time.perf_counter() - t0, 2), "reruns": reruns, "server_cpu_s": round(server.cpu() - cpu0, 2),
        "server_cpu_s_per_rerun": round((server.cpu() - cpu0) / max(1, reruns), 4),
        "rss_mb": round(server.rss(), 1), "peak_rss_mb": round(max(server.peak_rss, server.rss()), 1),
        "students_cpu_s": round(own_cpu_seconds() - client0, 2),
        "machine_cpu_s": round(machine_cpu_seconds() - machine0, 2),
    }  # fmt: skip
    phase = result["lab_phase"]  # CPU used by neither the server nor the students: other work on the machine
    phase["other_cpu_s"] = round(phase["machine_cpu_s"] - phase["server_cpu_s"] - phase["students_cpu_s"], 2)

    if pages:

        async def tour(s: Student) -> None:
            await asyncio.sleep(s.rng.uniform(0, period))
            for path in ("convolution", "inside", "compare", "draw"):
                await s.open_page(path)
                await asyncio.sleep(period * s.rng.uniform(0.5, 1.5))
            await s.draw()
            await asyncio.sleep(period * s.rng.uniform(0.5, 1.5))
            await s.open_page("upload")
            await s.upload()
            await asyncio.sleep(period * s.rng.uniform(0.5, 1.5))
            await s.open_page("")

        await asyncio.gather(*(tour(s) for s in others))
    await asyncio.gather(*(s.close() for s in class_))
    return result


def _steady_summary(stats: Stats, seconds: float) -> dict[str, Any]:
    """Reruns per second and latency of the steady window's lab actions."""
    values = sorted(stats.latencies.get("lab_seed", []))
    row: dict[str, Any] = {"reruns": len(values), "reruns_per_s": round(len(values) / max(seconds, 1e-9), 2)}
    if values:
        row |= {
            "p50_s": round(statistics.median(values), 4),
            "p95_s": round(values[min(len(values) - 1, int(0.95 * len(values)))], 4),
            "max_s": round(values[-1], 4),
        }
    row["failures"] = sum(len(v) for v in stats.failures.values())
    return row


async def sustained_session(server: Server, students: int, trainings: int, period: float, duration: float,
                            warmup: float, train_subset: int, train_epochs: int, stats: Stats) -> dict[str, Any]:  # fmt: skip
    """Everybody connects (the ramp), T start a training, then all N move the lab together for `duration` s.

    Only actions started inside the steady window count in `steady`: the arrival and a warm-up of `warmup` seconds
    are left out. The window lasts at least `duration` and, with trainings, until they have finished, so every
    training is timed under the full class.
    """
    url = server.url
    class_ = [Student(i, url, stats) for i in range(students)]

    async def arrive(s: Student) -> None:
        try:
            stats.add("first_page", await s.connect())
        except Exception as exc:
            stats.fail("first_page", f"student {s.number}: {type(exc).__name__}: {exc}")

    await asyncio.gather(*(arrive(s) for s in class_))
    connected = [s for s in class_ if s.ws is not None and s.session_id]
    trainers, others = connected[:trainings], connected[trainings:]
    training_tasks = [asyncio.create_task(s.train(train_subset, train_epochs, timeout=1200)) for s in trainers]
    steady = Stats()
    state = {"steady": False, "stop": False}

    async def student_loop(s: Student) -> None:
        await asyncio.sleep(period * s.rng.uniform(0, 1))  # students do not click in step
        while not state["stop"]:
            s.stats = steady if state["steady"] else stats
            await s.new_seed()
            await asyncio.sleep(period * s.rng.uniform(0.5, 1.5))

    loops = [asyncio.create_task(student_loop(s)) for s in others]
    await asyncio.sleep(warmup)
    cpu0, t0, machine0, client0 = server.cpu(), time.perf_counter(), machine_cpu_seconds(), own_cpu_seconds()
    state["steady"] = True
    await asyncio.sleep(duration)
    if training_tasks:
        await asyncio.gather(*training_tasks, return_exceptions=True)
    state["stop"] = True
    await asyncio.gather(*loops, return_exceptions=True)  # actions in flight finish and still count
    seconds = time.perf_counter() - t0
    result: dict[str, Any] = {"steady": _steady_summary(steady, seconds) | {
        "window_s": round(seconds, 1), "students_active": len(others),
        "server_cpu_cores": round((server.cpu() - cpu0) / seconds, 3),
        "students_cpu_cores": round((own_cpu_seconds() - client0) / seconds, 3),
        "machine_cpu_cores": round((machine_cpu_seconds() - machine0) / seconds, 3),
        "peak_rss_mb": round(max(server.peak_rss, server.rss()), 1),
    }}  # fmt: skip
    for action, values in steady.latencies.items():
        stats.latencies.setdefault(f"steady:{action}", []).extend(values)
    for action, reasons in steady.failures.items():
        stats.failures.setdefault(action, []).extend(reasons)
    if training_tasks:
        result["training_seconds"] = [t.result() if not t.exception() else None for t in training_tasks]
    await asyncio.gather(*(s.close() for s in class_))
    return result


async def capacity_curve(server: Server, counts: list[int], period: float, duration: float, warmup: float,
                         stats: Stats, trainings: int = 0, train_subset: int = 0,
                         train_epochs: int = 0) -> dict[str, Any]:  # fmt: skip
    """The sustained scenario at each class size in turn: sustained reruns per second against rerun p95.

    A size whose p95 passes twice the 1 s target ends the curve: larger classes only wait longer.
    """
    rows = []
    for n in counts:
        row = await sustained_session(server, n, trainings, period, duration, warmup, train_subset, train_epochs,
                                      stats)  # fmt: skip
        rows.append({"students": n, "training_seconds": row.get("training_seconds")} | row["steady"])
        if rows[-1].get("p95_s", 99.0) > 2.0:
            break
    within = [r for r in rows if r.get("p95_s", 99.0) <= 1.0 and r["failures"] == 0]
    return {
        "curve": rows,
        "capacity_reruns_per_s": max((r["reruns_per_s"] for r in within), default=0.0),
        "capacity_students": max((r["students"] for r in within), default=0),
    }


async def warm_up(url: str) -> float:
    """One session opens the noise lab and leaves; seconds until its first page was drawn."""
    s = Student(30_000, url, Stats())
    seconds = await s.connect()
    await s.close()
    return seconds


async def solo_training(url: str, subset: int, epochs: int, stats: Stats) -> float | None:
    """One training alone on the server: the reference speed."""
    s = Student(10_000, url, stats)
    stats.add("first_page_solo", await s.connect())
    seconds = await s.train(subset, epochs, timeout=900)
    await s.close()
    return seconds


async def soak(server: Server, sessions: int, stats: Stats) -> dict[str, Any]:
    """Open a session, use the lab once, close it; `sessions` times. RSS after the first 10 and at the end."""
    rss: dict[str, float] = {}
    for i in range(sessions):
        s = Student(20_000 + i, server.url, stats)
        try:
            stats.add("soak_first_page", await s.connect())
            await s.new_seed()
        except Exception as exc:
            stats.fail("soak", f"session {i}: {type(exc).__name__}: {exc}")
        await s.close()
        if i + 1 == 10:
            await asyncio.sleep(3)
            rss["after_10_mb"] = server.rss()
    await asyncio.sleep(3)
    rss["after_all_mb"] = server.rss()
    rss["growth_mb"] = rss["after_all_mb"] - rss.get("after_10_mb", rss["after_all_mb"])
    return rss


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start a server, run the chosen scenario, stop the server, return the report."""
    env = {"PYTHONUNBUFFERED": "1"}
    extra = [f"--{opt}" if not opt.startswith("--") else opt for opt in args.server_option]
    if args.processes > 1:
        server = ClusterServer(args.processes, env)
    else:
        server = Server(env, [a for opt in extra for a in opt.split("=", 1)])
    stats = Stats()
    report: dict[str, Any] = {
        "scenario": "capacity" if args.capacity else args.scenario, "students": args.students,
        "rounds": args.rounds, "trainings": args.trainings, "period_s": args.period, "duration_s": args.duration,
        "cpus": os.cpu_count(), "processes": args.processes, "server_options": args.server_option,
    }  # fmt: skip
    server.start()
    report["server_ready_s"] = round(server.ready_s, 3)
    try:
        if args.warm:  # the teacher opens the app before the class arrives: the cold start is not the class's
            report["teacher_first_page_s"] = round(asyncio.run(asyncio.wait_for(warm_up(server.url), 300)), 3)
        if args.trainings and args.solo:
            solo = asyncio.run(asyncio.wait_for(solo_training(server.url, args.train_subset, args.train_epochs,
                                                               stats), args.timeout))  # fmt: skip
            report["solo_training_s"] = solo
        cpu0, reruns0, t0 = server.cpu(), stats.reruns, time.perf_counter()
        if args.soak:
            report["soak"] = asyncio.run(asyncio.wait_for(soak(server, args.soak, stats), args.timeout))
        elif args.capacity:
            counts = [int(n) for n in args.capacity.split(",")]
            report["capacity"] = asyncio.run(asyncio.wait_for(
                capacity_curve(server, counts, args.period, args.duration, args.warmup, stats, args.trainings,
                               args.train_subset, args.train_epochs), args.timeout))  # fmt: skip
        elif args.scenario == "sustained":
            report |= asyncio.run(asyncio.wait_for(
                sustained_session(server, args.students, args.trainings, args.period, args.duration, args.warmup,
                                  args.train_subset, args.train_epochs, stats), args.timeout))  # fmt: skip
        else:
            report |= asyncio.run(asyncio.wait_for(
                class_session(server, args.students, args.rounds, args.trainings, args.period, args.pages,
                              args.train_subset, args.train_epochs, stats), args.timeout))  # fmt: skip
        cpu = server.cpu() - cpu0
        report["wall_s"] = round(time.perf_counter() - t0, 2)
        report["server_cpu_s"] = round(cpu, 2)
        report["reruns"] = stats.reruns - reruns0
        report["server_cpu_s_per_rerun"] = round(cpu / max(1, stats.reruns - reruns0), 4)
        if args.trainings and report.get("solo_training_s") and report.get("training_seconds"):
            report["training_speed_vs_solo"] = [
                round(report["solo_training_s"] / t, 3) if t else 0.0 for t in report["training_seconds"]
            ]
        report["rss_end_mb"] = round(server.rss(), 1)
    except Exception as exc:  # a broken scenario is a failure in the report, and the server still stops
        stats.fail("scenario", f"{type(exc).__name__}: {exc}")
    finally:
        time.sleep(0.5)
        report["peak_rss_mb"] = round(server.peak_rss, 1)
        server.stop()
        if args.log:
            Path(args.log).write_text(server.log())
    report["actions"] = stats.report()
    report["failures"] = sum(len(v) for v in stats.failures.values())
    report["tracebacks"] = server.tracebacks()
    report["server_log_tail"] = server.log().splitlines()[-15:] if report["failures"] or report["tracebacks"] else []
    return report


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", choices=("sustained", "rounds"), default="sustained",
                   help="sustained: all students active together for --duration s (ramp and warm-up excluded); "
                   "rounds: each student moves the lab --rounds times after a staggered start, then tours the pages")  # fmt: skip
    p.add_argument("--duration", type=float, default=60.0, help="sustained: seconds of the steady window (at least)")
    p.add_argument("--warmup", type=float, default=10.0, help="sustained: seconds of activity before the window")
    p.add_argument("--capacity", default="",
                   help="instead: the sustained scenario at each of these class sizes, e.g. 10,20,30,45,60")  # fmt: skip
    p.add_argument("--processes", type=int, default=1,
                   help="app processes behind nginx (deploy/serve.py); 1: one plain streamlit run")  # fmt: skip
    p.add_argument("--students", type=int, default=5)
    p.add_argument("--rounds", type=int, default=5, help="noise-lab seed changes per student")
    p.add_argument("--period", type=float, default=2.0, help="seconds between one student's actions (jittered ±50%%)")
    p.add_argument("--trainings", type=int, default=0, help="students among them who train meanwhile")
    p.add_argument("--train-subset", type=int, default=6000)
    p.add_argument("--train-epochs", type=int, default=6)
    p.add_argument("--solo", action=argparse.BooleanOptionalAction, default=True,
                   help="first time one training alone (the reference for training speed under load)")  # fmt: skip
    p.add_argument("--pages", action=argparse.BooleanOptionalAction, default=True,
                   help="afterwards every student opens every page, draws and uploads a photo")  # fmt: skip
    p.add_argument("--warm", action=argparse.BooleanOptionalAction, default=True,
                   help="one session opens the app first (the teacher), so the class meets a started server")  # fmt: skip
    p.add_argument("--soak", type=int, default=0, help="instead: open and close this many sessions one by one")
    p.add_argument("--timeout", type=float, default=1500, help="the whole scenario is abandoned after this")
    p.add_argument("--server-option", action="append", default=[],
                   help="extra `streamlit run` option, e.g. runner.postScriptGC=true")  # fmt: skip
    p.add_argument("--json", help="write the report here")
    p.add_argument("--log", help="copy the server log here")
    return p


def main() -> None:
    args = parser().parse_args()
    bench.report(run(args), args.json, ensure_ascii=False)


if __name__ == "__main__":
    main()
