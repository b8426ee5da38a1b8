"""Driving the app through Streamlit's AppTest: open the app or a page in a language, open an explainer tab,
read the pictures, check for exceptions, train a tiny model."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from lib.i18n import t

ENTRY = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
TIMEOUT = 120


def app(lang: str = "en") -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=TIMEOUT)
    at.session_state["keep_lang"] = lang
    return at.run()


def page(path: str, lang: str = "en") -> AppTest:
    at = app(lang)
    at.switch_page(path)
    return at.run()


def open_tab(at: AppTest, number: int, lang: str = "en") -> AppTest:
    """Open the explainer's tab `number` (1-based): only the open tab is computed, as a click does it."""
    at.session_state["conv_tab"] = t(f"conv.tab{number}", lang)
    return at.run()


def image_urls(at: AppTest) -> list[str]:
    """The page's pictures (the sidebar's QR code of the workspace link is not one of them)."""
    return [img.url for el in at.main.get("image") for img in el.proto.imgs]


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def train_tiny(at: AppTest):
    """On the Train page: one epoch over 500 digits, started with Start and waited for; returns the done job."""
    at.slider(key="keep_train_subset").set_value(500).run()
    at.number_input(key="keep_train_epochs").set_value(1).run()
    at.button(key="train_start").click().run()
    job = at.session_state["train_job"]
    job.join(timeout=120)
    assert job.state == "done", job.summary()
    return job
