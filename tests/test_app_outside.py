"""AppTest: section 5 on outside digits (Compare), "my digits", the modern model beside the textbook's, its insides."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from lib import outside
from lib.i18n import t
from lib.safe_names import markdown_text
from lib.ui.section5 import MY_DIGITS, RESULTS
from tests.apptest import image_urls, no_exception, page


def section5_header(at, lang="en") -> bool:
    return any(h.value == t("outside.header", lang) for h in at.header)


@pytest.fixture(scope="module")
def compare_page():
    return page("app_pages/compare.py")


def test_compare_runs_section_5_on_outside_digits(compare_page):
    at = compare_page
    no_exception(at)
    assert section5_header(at)
    bullets = "\n".join(m.value for m in at.markdown)
    # The finding is stated from the numbers: conv vs linear, Group B vs A, each checked against the book.
    found = json.loads(RESULTS.read_text())["findings"]["outside"]
    where = t("outside.set.outside", "en")
    gain = found["conv_gain"]["B"]
    key = "outside.finding.conv_agrees" if gain > 0 else "outside.finding.conv_disagrees"
    assert t(key, "en", where=where, group="B", diff=abs(gain)) in bullets
    gain = found["group_b_gain"]["table1"]
    key = "outside.finding.group_agrees" if gain > 0 else "outside.finding.group_disagrees"
    assert t(key, "en", where=where, model=t("model.table1", "en"), diff=abs(gain)) in bullets
    column = t("outside.set.outside", "en") + " · " + t("noise.kind.gaussian", "en")
    table = next(d.value for d in at.dataframe if column in [str(c) for c in d.value.columns])
    assert t("method.bfunet", "en") in table.index and t("method.linear_A", "en") in table.index
    assert t("outside.set.mnist", "en") + " · " + t("outside.kind.none", "en") in table.columns
    assert any(i.value == t("outside.mine_empty", "en") for i in at.info)


def test_switching_writer_and_noise_changes_numbers_and_pictures(compare_page):
    at = compare_page
    before_urls = image_urls(at)
    at.radio(key="keep_compare_out_set").set_value("outside:photo").run()
    no_exception(at)
    headers = [str(c) for d in at.dataframe for c in d.value.columns]
    assert t("outside.set.outside.photo", "en") + " · " + t("noise.kind.speckle", "en") in headers
    at.radio(key="keep_compare_out_kind").set_value("speckle").run()
    no_exception(at)
    assert image_urls(at) != before_urls


def test_section5_in_russian():
    at = page("app_pages/compare.py", lang="ru")
    no_exception(at)
    assert section5_header(at, "ru")
    assert any("дБ" in m.value and "учебник" in m.value for m in at.markdown)


def png_of(digit: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(255 - (digit * 255).astype(np.uint8)).resize((112, 112)).save(buf, format="PNG")
    return buf.getvalue()


def test_uploaded_digits_join_my_digits_and_the_experiment():
    data = outside.load()
    at = page("app_pages/upload.py")
    files = [(f"{i}.png", png_of(data.images[i] / 255.0), "image/png") for i in (0, 200)]
    at.file_uploader(key="upload_files").set_value(files).run()
    no_exception(at)
    assert [name for name, _ in at.session_state[MY_DIGITS]] == ["0.png", "200.png"]
    at.switch_page("app_pages/compare.py").run()
    no_exception(at)
    assert not any(i.value == t("outside.mine_empty", "en") for i in at.info)
    captions = [c for el in at.get("image") for c in [img.caption for img in el.proto.imgs]]
    assert any(c.startswith(markdown_text("0.png")) for c in captions)  # captions render Markdown: escaped
    assert any(c.startswith(markdown_text("200.png")) for c in captions)
    assert any("PSNR" in [str(c) for c in d.value.columns] for d in at.dataframe)  # their mean scores


def test_upload_shows_the_textbook_model_and_the_modern_one_side_by_side(test_digits):
    at = page("app_pages/upload.py")
    buf = io.BytesIO()
    Image.fromarray(255 - test_digits.images[0].numpy()).resize((140, 140)).save(buf, format="PNG")
    at.file_uploader(key="upload_files").set_value(("seven.png", buf.getvalue(), "image/png")).run()
    no_exception(at)
    titles = [m.value.strip("*") for m in at.markdown if m.value.startswith("**")]
    picker = at.sidebar.selectbox(key="keep_model")  # the columns carry the picker's names of the models
    textbook, modern = picker.format_func("shipped:table1_B"), picker.format_func("shipped:bfunet")
    assert textbook in titles and modern in titles
    assert titles.index(modern) == titles.index(textbook) + 1  # next to each other


def test_inside_shows_the_unets_feature_maps():
    at = page("app_pages/inside.py")
    at.sidebar.selectbox(key="keep_model").set_value("shipped:bfunet").run()
    no_exception(at)
    assert any(i.value == t("outside.unet_note", "en") for i in at.info)
    names = ("enc1", "enc2", "bottom", "up2", "dec2", "up1")
    stages = [m.value for m in at.markdown if any(m.value.startswith(f"**{n}**") for n in names)]
    assert len(stages) == 6
    assert any(t("inside.stage", "en", name="bottom", c=96, h=7, w=7) == m.value for m in at.markdown)
