"""AppTest for the convolution explainer and the draw/upload pages."""

from __future__ import annotations

import pytest

from lib import convolution as cv
from lib.i18n import t
from lib.safe_names import markdown_text
from tests.apptest import image_urls, no_exception, open_tab, page
from tests.factories import png_bytes


@pytest.fixture(scope="module")
def conv_page():
    return page("app_pages/convolution.py")


def test_every_explainer_section_renders(conv_page):
    at = conv_page
    no_exception(at)
    assert len(at.tabs) == 8
    assert [tab.label for tab in at.tabs] == [t(f"conv.tab{i}", "en") for i in range(1, 9)]
    latex, charts, warnings, infos = 0, 0, [], []
    for number in range(1, 9):  # only the open tab is computed: open each in turn
        open_tab(at, number)
        no_exception(at)
        latex, charts = latex + len(at.latex), charts + len(at.get("plotly_chart"))
        warnings += [w.value for w in at.warning]
        infos += [i.value for i in at.info]
    assert latex >= 6
    assert charts >= 15
    book = t("conv.book_differs", "en", i=1, j=3, book=0.0, ours=-1.0)
    assert book in warnings  # the printed s13 = 0 is corrected to −1
    assert t("conv.toy_book", "en", y2=7.0) in infos


@pytest.mark.parametrize(
    "key,value", [("keep_sp_sh", 2), ("keep_sp_sw", 3), ("keep_sp_p", 2), ("keep_sp_d", 2), ("keep_sp_k", 5)]
)
def test_stride_padding_dilation_change_the_output_shape_by_the_formula(key, value):
    at = open_tab(page("app_pages/convolution.py"), 3)
    at.slider(key=key).set_value(value).run()
    no_exception(at)
    s = {k: at.slider(key=f"keep_sp_{k}").value for k in ("h", "w", "k", "sh", "sw", "p", "d")}
    h = cv.output_size(s["h"], s["k"], s["sh"], s["p"], s["d"])
    w = cv.output_size(s["w"], s["k"], s["sw"], s["p"], s["d"])
    expected = t("conv.shape_result", "en", h=h, w=w, rf=cv.receptive_field(s["k"], s["d"]))
    assert any(m.value == expected for m in at.markdown)
    assert (h, w) != (5, 5)  # every change above moves away from the 7×7 / k3 default


def test_step_through_moves_the_window():
    at = open_tab(page("app_pages/convolution.py"), 2)
    first = [m.value for m in at.markdown if m.value.startswith("**s")]
    code_before = at.code[0].value
    at.slider(key="keep_conv_step").set_value(5).run()
    no_exception(at)
    after = [m.value for m in at.markdown if m.value.startswith("**s")]
    assert first == [t("conv.sum", "en", i=1, j=1)] and after == [t("conv.sum", "en", i=2, j=2)]
    assert at.code[0].value != code_before
    assert at.code[0].value.endswith("= 5")  # s22 of Fig. 2 with the sharpen kernel


def test_draw_page_without_a_drawing_gives_a_hint():
    at = page("app_pages/draw.py")
    no_exception(at)
    hints = {t("draw.empty", "en"), t("draw.no_canvas", "en")}
    assert any(i.value in hints for i in at.info)


def test_upload_a_valid_and_a_broken_file(test_digits):
    at = page("app_pages/upload.py")
    at.file_uploader(key="upload_files").set_value(
        [("seven.png", png_bytes(test_digits), "image/png"), ("broken.jpg", b"not a jpeg", "image/jpeg")]
    ).run()
    no_exception(at)
    assert len(at.error) == 1
    reason = t("upload.error.not_image", "en")
    assert at.error[0].value == t(
        "upload.failed", "en", name=markdown_text("broken.jpg"), reason=reason
    )  # Markdown-escaped
    assert [h.value for h in at.main.subheader if h.value[:1].isdigit()] == ["1. " + markdown_text("seven.png")]
    assert len(image_urls(at)) >= 5 + 1 + 3 + 1  # steps, input, three models, the report sheet
    assert len(at.get("download_button")) == 4  # report PDF and DOCX, the overview sheet, the ZIP


def test_an_upload_is_kept_in_the_workspace_when_the_file_list_is_gone(test_digits):
    """A page switch empties the uploader; the picture stays, read back from the workspace."""
    from lib.ui import workspace

    at = page("app_pages/upload.py")
    at.file_uploader(key="upload_files").set_value(("seven.png", png_bytes(test_digits), "image/png")).run()
    ws = at.query_params["w"]
    (kept,) = workspace.store().images(ws, source="photo")
    assert kept.name == "seven.png" and kept.has_original and kept.prepared.shape == (28, 28)
    at.file_uploader(key="upload_files").set_value([]).run()
    at.run()
    no_exception(at)
    assert [h.value for h in at.main.subheader if h.value[:1].isdigit()] == ["1. " + markdown_text("seven.png")]
    assert len(workspace.store().images(ws, source="photo")) == 1  # not kept twice
    at.button(key=f"up_remove_{kept.id}").click().run()
    no_exception(at)
    assert workspace.store().images(ws, source="photo") == [] and not [
        h for h in at.main.subheader if h.value[:1].isdigit()
    ]


def test_upload_with_added_noise_in_russian(test_digits):
    at = page("app_pages/upload.py", lang="ru")
    at.sidebar.radio(key="keep_up_mode").set_value("add_noise").run()
    at.file_uploader(key="upload_files").set_value(("d.png", png_bytes(test_digits, 3), "image/png")).run()
    no_exception(at)
    assert not at.error
    assert any(m.value == f"**{t('lab.noisy', 'ru')}**" for m in at.markdown)


def test_explainer_filters_the_students_drawing(test_digits):
    from tests.apptest import app

    at = app()
    at.session_state["last_drawing"] = test_digits.images[0].numpy() / 255.0
    at.switch_page("app_pages/convolution.py").run()
    open_tab(at, 2)
    assert t("conv.source.drawing", "en") in at.radio(key="keep_conv_source").options
    at.radio(key="keep_conv_source").set_value("drawing").run()
    no_exception(at)
    captions = [img.caption for el in at.get("image") for img in el.proto.imgs]
    assert t("conv.before", "en") in captions
    assert any(c.startswith(t("conv.after", "en", lo=0, hi=0).split("(")[0]) for c in captions)
