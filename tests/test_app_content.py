"""AppTest: what the explainer, the noise lab, Inside and Compare state is true for the settings shown."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from lib import convolution as cv
from lib.i18n import t
from tests.test_app import no_exception, page


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
    at = conv_page
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
    assert t("content.conv.tr_hidden", "en", k=7, s=3, lo=4, hi=9, n=2) in [w.value for w in at.warning]


def test_worked_sum_has_no_plus_minus_and_no_negative_zero(conv_page):
    at = conv_page
    at.slider(key="keep_conv_step").set_value(1).run()  # s12 of Fig. 2: products with negative kernel weights
    code = at.code[0].value
    assert "+ -" not in code and "-0" not in code and "−" in code
    assert code.endswith("= " + cv.number(cv.conv2d(cv.FIG2_INPUT, cv.SHARPEN)[0, 1]))


def test_separable_tab_shows_sobel_as_121_times_minus101(conv_page):
    assert t("content.conv.factors", "en", product="(1, 2, 1)ᵀ · (−1, 0, 1)") in [m.value for m in conv_page.markdown]


def test_kernel_grids_put_zero_at_the_middle_colour(conv_page):
    kernels = [c for c in charts(conv_page) if c["data"][0].get("colorscale") and c["data"][0].get("zmid") == 0]
    assert len(kernels) >= 4  # tab 1's kernel, tab 6's three kernels (the identity among them)
    texts = [cell for c in charts(conv_page) for row in c["data"][0].get("text", []) for cell in row]
    assert "-0" not in texts and "−0" not in texts


def test_image_seed_is_not_called_a_noise_seed(conv_page):
    labels = [n.label for n in conv_page.number_input]
    assert t("content.conv.image_seed", "en") in labels and t("content.conv.signal_seed", "en") in labels
    assert t("lab.seed", "en") not in labels


def test_kernel_that_does_not_fit_says_so_instead_of_a_negative_size():
    at = page("app_pages/convolution.py")
    at.slider(key="keep_sp_k").set_value(5).run()
    at.slider(key="keep_sp_d").set_value(3).run()
    at.slider(key="keep_sp_h").set_value(3).run()
    no_exception(at)
    assert t("content.conv.no_output", "en", rf=13, h=3, w=7) in [w.value for w in at.warning]
    assert not any(m.value.startswith("Output **-") or "−2 ×" in m.value for m in at.markdown)


def test_one_dimensional_tab_computes_the_convolution_its_formula_shows():
    at = page("app_pages/convolution.py")
    at.selectbox(key="keep_1d_kernel").set_value("difference").run()
    no_exception(at)
    sig = cv.textbook_signal(200, np.random.default_rng(0))
    y = array(chart_spec(at, "sig_plot")["data"][1]["y"])
    np.testing.assert_allclose(y, np.convolve(sig, [1.0, -1.0], mode="valid"), atol=1e-12)  # not the correlation


def test_inside_calls_only_the_convolutional_model_table_1():
    at = page("app_pages/inside.py")
    at.sidebar.selectbox(key="keep_model").set_value("shipped:linear_B").run()
    no_exception(at)
    assert at.header[0].value == t("content.inside.table_linear", "en")
    assert "Table 1" not in at.header[0].value
    at.sidebar.selectbox(key="keep_model").set_value("shipped:seed_B").run()
    assert at.header[0].value == t("inside.table", "en")
