"""AppTest: what the explainer, the noise lab, Inside and Compare state is true for the settings shown."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from lib import convolution as cv
from lib.i18n import t
from tests.apptest import app, no_exception, open_tab, page


@pytest.fixture(scope="module")
def conv_page():
    return page("app_pages/convolution.py")


def chart_spec(at, key: str) -> dict:
    """The figure of the plotly chart with this widget key."""
    for el in at.get("plotly_chart"):
        if el.proto.id.endswith(f"-{key}"):
            return json.loads(el.proto.spec)
    raise KeyError(key)


def array(value) -> np.ndarray:
    """A plotly data array, plain or base64-typed."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return np.asarray(value, dtype=float)


def charts(at) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def test_transposed_tab_k6_s3_on_a_small_input_is_even(conv_page):
    at = open_tab(conv_page, 4)
    at.radio(key="keep_tr_choice").set_value("k6s3").run()
    at.slider(key="keep_tr_n_k6s3").set_value(2).run()
    no_exception(at)
    assert t("conv.tr_even", "en", k=6, s=3, lo=4) in [s.value for s in at.success]
    assert not any("not divisible" in w.value for w in at.warning)
    at.radio(key="keep_tr_choice").set_value("k4s2").run()
    at.slider(key="keep_tr_n_k4s2").set_value(2).run()
    assert t("conv.tr_even", "en", k=4, s=2, lo=4) in [s.value for s in at.success]
    at.radio(key="keep_tr_choice").set_value("k7s3").run()
    at.slider(key="keep_tr_n_k7s3").set_value(2).run()
    assert t("conv.tr_hidden", "en", k=7, s=3, lo=4, hi=9, n=2) in [w.value for w in at.warning]


def test_worked_sum_has_no_plus_minus_and_no_negative_zero(conv_page):
    at = open_tab(conv_page, 2)
    at.slider(key="keep_conv_step").set_value(2).run()  # s12 of Fig. 2: products with negative kernel weights
    code = at.code[0].value
    assert "+ -" not in code and "-0" not in code and "−" in code
    assert code.endswith("= " + cv.number(cv.conv2d(cv.FIG2_INPUT, cv.SHARPEN)[0, 1]))


def test_separable_tab_shows_sobel_as_121_times_minus101(conv_page):
    at = open_tab(conv_page, 5)
    assert t("conv.factors", "en", product="(1, 2, 1)ᵀ · (−1, 0, 1)") in [m.value for m in at.markdown]


def test_signed_grids_share_one_diverging_scale_centred_on_zero(conv_page):
    shown = [c for number in (1, 6) for c in charts(open_tab(conv_page, number))]  # only the open tab is computed
    signed = [c for c in shown if c["data"][0].get("type") == "heatmap"
              and np.nanmin(array_2d(c["data"][0]["z"])) < 0]  # fmt: skip
    assert len(signed) >= 5  # tab 1's kernel and both results (Sobel), tab 6's Sobel kernel and its map
    scales = {json.dumps(c["data"][0]["colorscale"]) for c in signed}
    assert len(scales) == 1  # one scale: the same colour means the same number in a kernel and in its result
    for c in signed:
        assert c["data"][0]["zmin"] == -c["data"][0]["zmax"]  # 0 at the middle (white) colour
    texts = [cell for c in shown for row in c["data"][0].get("text", []) for cell in row]
    assert "-0" not in texts and "−0" not in texts


def array_2d(value) -> np.ndarray:
    """A heatmap's z as floats (rows of plain numbers, or one typed array per row)."""
    if isinstance(value, dict):
        flat = array(value)
        return flat.reshape(value.get("shape", [1, -1]) if isinstance(value.get("shape"), list) else (1, -1))
    return np.array([array(row) if isinstance(row, dict) else np.asarray(row, dtype=float) for row in value])


def test_image_seed_is_not_called_a_noise_seed(conv_page):
    labels = [n.label for number in (6, 7) for n in open_tab(conv_page, number).number_input]
    assert t("conv.image_seed", "en") in labels and t("conv.signal_seed", "en") in labels
    assert t("lab.seed", "en") not in labels


def test_kernel_that_does_not_fit_says_so_instead_of_a_negative_size():
    at = open_tab(page("app_pages/convolution.py"), 3)
    at.slider(key="keep_sp_k").set_value(5).run()
    at.slider(key="keep_sp_d").set_value(3).run()
    at.slider(key="keep_sp_h").set_value(3).run()
    no_exception(at)
    assert t("conv.no_output", "en", rf=13, h=3, w=7) in [w.value for w in at.warning]
    assert not any(m.value.startswith("Output **-") or "−2 ×" in m.value for m in at.markdown)


def test_one_dimensional_tab_computes_the_convolution_its_formula_shows():
    at = open_tab(page("app_pages/convolution.py"), 7)
    at.selectbox(key="keep_1d_kernel").set_value("difference").run()
    no_exception(at)
    sig = cv.textbook_signal(200, np.random.default_rng(0))
    y = array(chart_spec(at, "sig_plot")["data"][1]["y"])
    np.testing.assert_allclose(y, np.convolve(sig, [1.0, -1.0], mode="valid"), atol=1e-12)  # not the correlation


def test_inside_calls_only_the_convolutional_model_table_1():
    at = page("app_pages/inside.py")
    at.sidebar.selectbox(key="keep_model").set_value("shipped:linear_B").run()
    no_exception(at)
    assert at.header[0].value == t("inside.table_linear", "en")
    assert "Table 1" not in at.header[0].value
    at.sidebar.selectbox(key="keep_model").set_value("shipped:table1_B").run()
    assert at.header[0].value == t("inside.table", "en")


def test_noise_lab_says_no_noise_instead_of_100_db():
    at = app()
    at.sidebar.radio(key="keep_lab_kind").set_value("speckle").run()
    at.sidebar.select_slider(key="keep_lab_speckle").set_value(0.0).run()
    no_exception(at)
    values = [m.value for m in at.metric]
    assert values[0] == values[2] == t("lab.no_noise", "en")
    assert all(not m.delta for m in at.metric)  # no red "−75 dB"
    assert not any("100.0" in m.value for m in at.metric)
    captions = [img.caption for el in at.get("image") for img in el.proto.imgs]
    assert not any("PSNR 100" in c for c in captions)
    assert sum(t("lab.no_noise", "en") in c for c in captions) == 6


def test_histogram_message_with_clipping_off_does_not_claim_clipping():
    at = app()
    at.sidebar.toggle(key="keep_lab_hist").set_value(True).run()
    at.sidebar.toggle(key="keep_lab_clip").set_value(False).run()
    at.sidebar.radio(key="keep_lab_kind").set_value("speckle").run()
    no_exception(at)
    text = " ".join(i.value for i in at.info)
    assert "were clipped" not in text and "Clipping is off" in text
    assert "μ" not in text  # speckle's effect is not explained by a negative mean


def test_reset_restores_the_textbook_settings_and_numbers():
    at = app()
    before = [m.value for m in at.metric]
    at.sidebar.radio(key="keep_lab_kind").set_value("gaussian").run()
    at.sidebar.select_slider(key="keep_lab_mean").set_value(10.0).run()
    at.sidebar.toggle(key="keep_lab_clip").set_value(False).run()
    at.sidebar.slider(key="keep_lab_count").set_value(3).run()
    assert [m.value for m in at.metric] != before
    at.sidebar.button(key="lab_reset").click().run()
    no_exception(at)
    assert at.sidebar.radio(key="keep_lab_kind").value == "mix"
    assert at.sidebar.select_slider(key="keep_lab_mean").value == -20.0
    assert at.sidebar.toggle(key="keep_lab_clip").value is True
    assert at.sidebar.slider(key="keep_lab_count").value == 6
    assert [m.value for m in at.metric] == before


def test_why_cleaning_can_lower_psnr_is_explained_on_the_lab_and_compare_pages():
    at = app()
    at.sidebar.button(key="lab_preset_A").click().run()  # mild Group A noise: where cleaning lowers PSNR
    no_exception(at)
    assert t("common.why_lower_title", "en") in [e.label for e in at.expander]
    cmp = page("app_pages/compare.py")
    no_exception(cmp)
    assert t("common.why_lower_title", "en") in [e.label for e in cmp.expander]


def test_compare_metric_control_always_shows_a_selection():
    at = page("app_pages/compare.py")
    control = at.radio(key="keep_compare_metric")
    assert control.value == "psnr"
    control.set_value("ssim").run()
    no_exception(at)
    assert at.radio(key="keep_compare_metric").value == "ssim"
    assert at.radio(key="keep_compare_metric").index is not None  # a radio cannot be clicked off
    bars = chart_spec(at, "compare_bars")
    assert bars["layout"]["yaxis"]["title"]["text"] == t("compare.metric.ssim", "en")


def test_upload_report_in_clean_as_it_is_mode_claims_no_reference(test_digits):
    from tests.factories import png_bytes

    at = page("app_pages/upload.py", lang="ru")
    at.file_uploader(key="upload_files").set_value(("d.png", png_bytes(test_digits, 3), "image/png")).run()
    no_exception(at)
    captions = [img.caption for el in at.get("image") for img in el.proto.imgs]
    assert t("report.sheet.as_is", "ru") in captions and t("upload.sheet", "ru") not in captions
    at.radio(key="keep_up_mode").set_value("add_noise").run()
    captions = [img.caption for el in at.get("image") for img in el.proto.imgs]
    assert t("upload.sheet", "ru") in captions


def test_russian_explainer_writes_decimal_commas():
    at = open_tab(page("app_pages/convolution.py", lang="ru"), 5, "ru")
    assert t("conv.factors", "ru", product="(1; 2; 1)ᵀ · (−1; 0; 1)") in [m.value for m in at.markdown]
    open_tab(at, 2, "ru")
    at.selectbox(key="keep_conv_preset").set_value("box_blur").run()
    no_exception(at)
    code = at.code[0].value
    assert "0,1111" in code and "0.1111" not in code
