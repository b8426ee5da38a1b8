"""Real browser, real server: nothing a student makes is lost to a reload, a closed tab, a page switch, a killed
server or a stalled connection, and two workspaces never see each other's work."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from deploy.serve import free_port
from lib.i18n import t
from lib.store import Store
from tests.e2e.browsing import draw_seven, no_exception
from tests.e2e.server import start_streamlit, stop_streamlit

pytestmark = pytest.mark.e2e


class Server:
    """`streamlit run` on a port with its own data folder; start, kill -9, start again."""

    def __init__(self, data_dir: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir, self.log, self.extra_env = data_dir, log, env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = os.environ | {"CLASSROOM_DATA_DIR": str(self.data_dir)} | self.extra_env
        env.pop("CLASSROOM_DB_URL", None)
        self.proc = start_streamlit(self.port, self.log, env)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        stop_streamlit(self.proc)


@pytest.fixture
def server(tmp_path):
    # a long training must outlast the 120 s stall: the per-run cap is raised above the page's 400,000 images
    srv = Server(tmp_path / "data", tmp_path / "streamlit.log", {"CLASSROOM_TRAIN_MAX_IMAGES": "3000000"})
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def store(server):
    server.data_dir.mkdir(parents=True, exist_ok=True)
    opened = Store.open(f"sqlite:///{server.data_dir / 'classroom.db'}")
    yield opened
    opened.close()


def new_page(browser):
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(90_000)
    return context, page


def wait_for(condition, timeout: float = 180.0, every: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


PICKED = "[...document.querySelectorAll(\"[data-testid='stSidebar'] [data-testid='stSelectbox'] input\")]"


def wait_for_picked(page, label: str) -> None:
    """Until the sidebar's model picker shows `label` as the chosen model."""
    page.wait_for_function(f"() => {PICKED}.some(i => i.value === {label!r})")


def a_workspace(store: Store, epochs: int = 1, subset: int = 500) -> str:
    """A workspace whose remembered Train settings make a short run (the page reads them back)."""
    ws = store.create_workspace().id
    store.set_settings(ws, {"keep_train_epochs": epochs, "keep_train_subset": subset, "keep_lang": "en"})
    return ws


def photo(tmp_path: Path, test_digits, index: int, name: str) -> Path:
    path = tmp_path / name
    Image.fromarray(255 - test_digits.images[index].numpy()).resize((200, 200)).convert("RGB").save(path)
    return path


def test_trained_model_is_listed_and_selected_after_a_reload(server, store, browser):
    ws = a_workspace(store)
    context, page = new_page(browser)
    page.goto(f"{server.url}/train?w={ws}")
    page.get_by_role("button", name=t("train.start", "en"), exact=True).click()
    assert wait_for(lambda: len(store.models(ws)) == 1)
    page.get_by_text("Done:", exact=False).first.wait_for()
    page.reload()
    page.get_by_text(t("train.idle", "en")).or_(page.get_by_text("Done:", exact=False)).first.wait_for()
    assert f"?w={ws}" in page.url
    wait_for_picked(page, t("common.sidebar.my_model", "en", n=1))
    no_exception(page)
    context.close()


def test_closed_tab_then_the_link_brings_back_models_drawings_uploads_and_text(server, store, browser, tmp_path,
                                                                              test_digits):  # fmt: skip
    ws = a_workspace(store)
    context, page = new_page(browser)
    page.goto(f"{server.url}/train?w={ws}")
    page.get_by_role("button", name=t("train.start", "en"), exact=True).click()
    assert wait_for(lambda: len(store.models(ws)) == 1)
    page.goto(f"{server.url}/draw?w={ws}")
    draw_seven(page)
    page.get_by_role("button", name=t("draw.add_to_report", "en")).click()
    assert wait_for(lambda: len(store.report_items(ws, kind="drawn", with_result=False)) == 1, timeout=60)
    page.goto(f"{server.url}/upload?w={ws}")
    page.locator("input[type='file']").first.set_input_files([str(photo(tmp_path, test_digits, 0, "seven.png"))])
    page.get_by_role("heading", name="1. seven.png").wait_for()
    area = page.get_by_label(t("store.text.conclusions", "en"), exact=True)
    area.fill("Noise B is harder to remove.")
    area.press("Control+Enter")
    assert wait_for(lambda: store.texts(ws).get("conclusions") == "Noise B is harder to remove.", timeout=30)
    page.screenshot(path=str(tmp_path / "before_close.png"), full_page=True)
    context.close()  # the tab is gone

    context, page = new_page(browser)
    page.goto(f"{server.url}/upload?w={ws}")
    page.get_by_role("heading", name="1. seven.png").wait_for()  # the upload
    expect(page.get_by_label(t("store.text.conclusions", "en"), exact=True)).to_have_value(
        "Noise B is harder to remove.", timeout=60_000
    )  # the text, read back from the workspace
    page.get_by_role("button", name=t("upload.download_zip", "en")).wait_for()  # the report, the drawing in it
    page.locator("[data-testid='stSidebarNav']").get_by_text(t("train.page", "en"), exact=True).click()
    wait_for_picked(page, t("common.sidebar.my_model", "en", n=1))
    assert f"w={ws}" in page.url  # the page switch kept the workspace in the address
    page.screenshot(path=str(tmp_path / "after_reopen.png"), full_page=True)
    no_exception(page)
    context.close()


def test_an_upload_survives_a_page_switch(server, browser, tmp_path, test_digits):
    context, page = new_page(browser)
    page.goto(f"{server.url}/upload")
    page.wait_for_url("**w=*")
    page.locator("input[type='file']").first.set_input_files([str(photo(tmp_path, test_digits, 1, "two.png"))])
    page.get_by_role("heading", name="1. two.png").wait_for()
    page.locator("[data-testid='stSidebarNav']").get_by_text(t("lab.page", "en")).click()
    page.get_by_text(t("lab.page", "en")).first.wait_for()
    page.locator("[data-testid='stSidebarNav']").get_by_text(t("upload.page", "en")).click()
    page.get_by_role("heading", name="1. two.png").wait_for()
    no_exception(page)
    context.close()


def canvas_ink(page) -> int:
    """Lit pixels where the drawing canvas is on screen (a screenshot of it: what the student sees)."""
    page.mouse.move(0, 0)  # not over the canvas: its toolbar shows on hover
    png = page.locator("canvas.upper-canvas").first.screenshot()
    inside = np.asarray(Image.open(io.BytesIO(png)).convert("L"))[4:-4, 4:-4]  # (H, W) without the frame
    return int((inside > 128).sum())


def test_the_canvas_drawing_comes_back_after_a_reload(server, store, browser):
    ws = a_workspace(store)
    context, page = new_page(browser)
    page.goto(f"{server.url}/draw?w={ws}")
    draw_seven(page)
    page.get_by_text(t("draw.result", "en"), exact=True).wait_for()
    assert wait_for(lambda: store.settings(ws).get("draw_canvas", {}).get("objects"), timeout=30)
    drawn = canvas_ink(page)
    assert drawn > 500
    page.reload()
    # the strokes are drawn again, and the page cleans the digit without a new stroke
    page.get_by_text(t("draw.result", "en"), exact=True).wait_for()
    assert canvas_ink(page) == pytest.approx(drawn, rel=0.05)
    # "New drawing" empties the canvas for good: a reload after it shows an empty canvas
    page.get_by_role("button", name=t("draw.clear", "en"), exact=True).click()
    assert wait_for(lambda: store.settings(ws).get("draw_canvas", {}).get("objects") == [], timeout=30)
    page.reload()
    page.get_by_text(t("draw.empty", "en")).wait_for()
    assert canvas_ink(page) == 0
    no_exception(page)
    context.close()


def test_two_workspaces_never_see_each_others_work(server, browser, tmp_path, test_digits):
    ctx_a, a = new_page(browser)
    ctx_b, b = new_page(browser)
    a.goto(f"{server.url}/upload")
    b.goto(f"{server.url}/upload")
    a.wait_for_url("**w=*")
    b.wait_for_url("**w=*")
    assert a.url.split("w=")[1] != b.url.split("w=")[1]
    a.locator("input[type='file']").first.set_input_files([str(photo(tmp_path, test_digits, 0, "alice.png"))])
    b.locator("input[type='file']").first.set_input_files([str(photo(tmp_path, test_digits, 1, "bob.png"))])
    a.get_by_role("heading", name="1. alice.png").wait_for()
    b.get_by_role("heading", name="1. bob.png").wait_for()
    a.reload()
    b.reload()
    a.get_by_role("heading", name="1. alice.png").wait_for()
    b.get_by_role("heading", name="1. bob.png").wait_for()
    assert a.get_by_text("bob.png").count() == 0 and b.get_by_text("alice.png").count() == 0
    ctx_a.close()
    ctx_b.close()


def test_killed_server_then_restart_offers_resume_which_completes(server, store, browser, tmp_path):
    ws = a_workspace(store)
    context, page = new_page(browser)
    page.goto(f"{server.url}/train?w={ws}")  # a finished model first
    page.get_by_role("button", name=t("train.start", "en"), exact=True).click()
    assert wait_for(lambda: len(store.models(ws)) == 1)
    page.get_by_text("Done:", exact=False).first.wait_for()
    store.set_settings(ws, {"keep_train_epochs": 6, "keep_train_subset": 4000})
    context.close()
    context, page = new_page(browser)
    page.goto(f"{server.url}/train?w={ws}")
    page.get_by_role("button", name=t("train.start", "en"), exact=True).click()

    def one_epoch_saved() -> bool:
        rows = store.trainings(ws, statuses=("running",))
        return bool(rows) and rows[0].resume_epoch >= 1

    assert wait_for(one_epoch_saved)
    server.kill9()
    context.close()
    server.start()
    context, page = new_page(browser)
    page.goto(f"{server.url}/train?w={ws}")
    interrupted = store.trainings(ws, statuses=("interrupted", "running"))[0]
    page.get_by_text("interrupted at epoch", exact=False).first.wait_for(timeout=120_000)
    assert len(store.models(ws)) == 1  # the finished model is still there
    page.screenshot(path=str(tmp_path / "interrupted.png"), full_page=True)
    page.get_by_role("button", name=t("store.train.resume", "en"), exact=True).click()
    assert wait_for(lambda: store.training(ws, interrupted.id).status == "done", timeout=600)
    info = store.training(ws, interrupted.id)
    model = store.model(ws, info.model_id)
    assert model.epochs == 6.0 and [r["epoch"] for r in model.history] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    page.get_by_text("Done:", exact=False).first.wait_for()
    no_exception(page)
    context.close()


class StallingProxy:
    """A TCP proxy between the browser and the server that can stop forwarding without closing anything."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.flowing = threading.Event()
        self.flowing.set()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self.flowing.wait()  # stalled: the bytes wait here, both sockets stay open
                dst.sendall(data)
        except OSError:  # the other side went away
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.closed = True
        self.flowing.set()
        self.listener.close()


def test_a_stalled_connection_for_120_s_leaves_the_training_running(server, store, browser, tmp_path):
    ws = a_workspace(store, epochs=40, subset=58000)  # minutes of work: still running after the stall
    proxy = StallingProxy(server.port)
    context, page = new_page(browser)
    try:
        page.goto(f"http://127.0.0.1:{proxy.port}/train?w={ws}")
        page.get_by_role("button", name=t("train.start", "en"), exact=True).click()
        assert wait_for(lambda: bool(store.trainings(ws, statuses=("running",))))
        training = store.trainings(ws, statuses=("running",))[0]
        proxy.flowing.clear()  # the Wi-Fi drops without a word: no FIN, no RST
        stalled_at = time.monotonic()
        before = store.training(ws, training.id).epochs_done
        time.sleep(120)
        info = store.training(ws, training.id)
        assert time.monotonic() - stalled_at >= 120
        assert info.status == "running" and info.stop_reason == ""  # not stopped as if the student pressed Stop
        assert info.epochs_done > before
        proxy.flowing.set()
        page.reload()  # whatever the old socket did, the link reattaches to the live training
        stop = page.locator("[data-testid='stMain']").get_by_role("button", name=t("train.stop", "en"), exact=True)
        page.wait_for_function("() => document.querySelector(\"[data-testid='stMain'] [data-testid='stProgress']\")")
        assert not stop.is_disabled()  # reattached: the live training can be stopped from the new page
        page.screenshot(path=str(tmp_path / "after_stall.png"), full_page=True)
        stop.click()
        assert wait_for(lambda: store.training(ws, training.id).status == "stopped", timeout=60)
        (model,) = store.models(ws)
        assert model.source == "partial" and 0 < model.epochs < 60
    finally:
        context.close()
        proxy.close()
