"""One upload limit: the page text, every uploader, the server setting and the code's check say the same."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import tomllib
from PIL import Image
from streamlit.testing.v1 import AppTest

from lib import checkpoint as ck
from lib.i18n import t
from lib.limits import UPLOAD_LIMIT_BYTES, UPLOAD_LIMIT_MB
from lib.preprocess import MAX_PIXELS, PreprocessError, open_image

ROOT = Path(__file__).resolve().parent.parent


def padded_png(total: int) -> bytes:
    """A valid PNG of exactly `total` bytes (a small image followed by padding the decoder ignores)."""
    buf = io.BytesIO()
    Image.new("L", (28, 28)).save(buf, format="PNG")
    data = buf.getvalue()
    return data + bytes(total - len(data))


def test_the_server_setting_is_the_limit():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == UPLOAD_LIMIT_MB
    # the server counts 1,048,576 bytes per unit: it never refuses a file the app's check lets through
    assert config["server"]["maxUploadSize"] * 1024 * 1024 >= UPLOAD_LIMIT_BYTES == UPLOAD_LIMIT_MB * 1_000_000


def test_the_code_checks_exactly_the_stated_bytes():
    open_image(padded_png(UPLOAD_LIMIT_BYTES))  # at the limit: accepted
    with pytest.raises(PreprocessError) as caught:
        open_image(padded_png(UPLOAD_LIMIT_BYTES + 1))
    assert caught.value.code == "too_big" and caught.value.params["limit"] == UPLOAD_LIMIT_BYTES
    with pytest.raises(ck.CheckpointError) as refused:
        ck.load_bytes(bytes(UPLOAD_LIMIT_BYTES + 1), "big.pt", UPLOAD_LIMIT_BYTES)
    assert refused.value.key == "file_too_big"


@pytest.mark.parametrize(("page", "key", "source"), [("app_pages/upload.py", "upload_files", None),
                                                    ("app_pages/convolution.py", "conv_upload", "upload"),
                                                    ("app_pages/train.py", "train_load_weights", None)])  # fmt: skip
def test_every_uploader_and_the_page_text_state_the_same_limit(page, key, source):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.session_state["keep_lang"] = "ru"
    if source:
        at.session_state["keep_conv_source"] = source
        at.session_state["conv_tab"] = t("conv.tab2", "ru")  # only the open tab is computed: the image tab
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception
    uploader = at.file_uploader(key=key)
    assert uploader.proto.max_upload_size_mb == UPLOAD_LIMIT_MB
    if page.endswith("upload.py"):
        intro = t("upload.intro", "ru", mb=UPLOAD_LIMIT_MB, mp=MAX_PIXELS // 10**6)
        assert any(c.value == intro for c in at.caption) and f"до {UPLOAD_LIMIT_MB} МБ" in intro
