"""Text alternatives, WCAG contrast arithmetic, the app's colours and the one diverging scale of signed grids."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tomllib
from plotly.colors import find_intermediate_color, hex_to_rgb, unlabel_rgb

from lib import a11y
from lib.data import PROJECT_ROOT
from lib.i18n import LOCALE_DIR
from lib.noise import PRESETS, NoiseConfig
from lib.ui import plots
from lib.ui.style import CSS, FOCUS_RING, MUTED_TEXT

# Streamlit's light theme where .streamlit/config.toml leaves a colour unset (its config.py documents them);
# the sidebar is #f8f8f7 while the page and the secondary background keep their defaults.
STREAMLIT_LIGHT = {"backgroundColor": "#ffffff", "secondaryBackgroundColor": "#f8f8f7", "textColor": "#2f2d2b",
                   "primaryColor": "#c53948", "sidebar": "#f8f8f7"}  # fmt: skip
INFO_BACKGROUND = "#edf5ff"  # st.info's pale blue as Chromium paints it (a screenshot pixel)


def theme() -> dict[str, str]:
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    return {**STREAMLIT_LIGHT, **{k: v for k, v in config.get("theme", {}).items() if k in STREAMLIT_LIGHT}}


@pytest.mark.parametrize(
    ("fg", "bg", "ratio"),
    # published reference values: the extremes, and #767676, the lightest grey with AA contrast on white
    [
        ("#000000", "#ffffff", 21.0),
        ("#ffffff", "#ffffff", 1.0),
        ("#767676", "#ffffff", 4.54),
        ("#777777", "#fff", 4.48),
    ],
)
def test_contrast_ratio_matches_the_wcag_reference_values(fg, bg, ratio):
    assert a11y.contrast_ratio(fg, bg) == pytest.approx(ratio, abs=0.01)
    assert a11y.contrast_ratio(bg, fg) == pytest.approx(ratio, abs=0.01)  # symmetric


def test_text_colours_reach_aa_on_every_background_they_sit_on():
    colours = theme()
    backgrounds = [colours["backgroundColor"], colours["secondaryBackgroundColor"], colours["sidebar"], INFO_BACKGROUND]
    for bg in backgrounds:
        assert a11y.contrast_ratio(colours["textColor"], bg) >= 4.5
        assert a11y.contrast_ratio(MUTED_TEXT, bg) >= 4.5  # captions, image captions, help text
        assert a11y.contrast_ratio(FOCUS_RING, bg) >= 3.0  # a non-text indicator: 3:1
    assert a11y.contrast_ratio("#ffffff", colours["primaryColor"]) >= 4.5  # the primary button's label


def test_the_css_undoes_the_caption_fade_and_draws_a_focus_ring():
    assert MUTED_TEXT in CSS and FOCUS_RING in CSS and "%(" not in CSS
    assert "opacity: 1 !important" in CSS  # Streamlit's 0.6 caption opacity would halve any colour's contrast
    assert ":focus-visible" in CSS


def test_alt_texts_carry_digit_noise_and_scores_in_the_ui_language():
    subject = a11y.digit("ru", 7, 12)
    assert subject == "цифра 7 (№12 тестовой выборки MNIST)"
    noise = a11y.noise_words("ru", PRESETS["B"], "gaussian", "B")
    assert noise == "шум Гаусса (μ = −20, D = 600, группа Б)"  # a real minus sign, Russian group name
    text = a11y.noisy("ru", subject, noise, a11y.scores("ru", 23.14, 0.5123))
    assert (
        text
        == "цифра 7 (№12 тестовой выборки MNIST), зашумлённая: шум Гаусса (μ = −20, D = 600, группа Б); PSNR 23,1 дБ, SSIM 0,512"
    )
    english = a11y.noisy("en", a11y.digit("en", 7), a11y.noise_words("en", NoiseConfig(speckle=0.5), "speckle"))
    assert english == "digit 7, noisy: speckle (s = 0.5)"
    assert a11y.cleaned("en", "your digit", "U-Net", a11y.scores("en", 30.0, 0.9, against="input")).endswith(
        "change from the input: PSNR 30.0 dB, SSIM 0.900"
    )
    assert "0,081" in a11y.error_map("ru", subject, "noisy", 0.0812)
    assert a11y.scores("ru") == ""  # no score, no text


def test_alt_strings_exist_in_both_languages():
    ru = json.loads((LOCALE_DIR / "ru" / "alt.json").read_text(encoding="utf-8"))
    en = json.loads((LOCALE_DIR / "en" / "alt.json").read_text(encoding="utf-8"))
    assert ru.keys() == en.keys()
    assert all(key.startswith("alt.") for key in ru)


def rgb_at(scale, fraction: float) -> tuple[float, ...]:
    """The colour a plotly colour scale gives at a fraction 0…1 of its range."""
    stops = [(pos, unlabel_rgb(c) if c.startswith("rgb") else hex_to_rgb(c)) for pos, c in scale]
    for (p0, c0), (p1, c1) in zip(stops, stops[1:]):
        if p0 <= fraction <= p1:
            return find_intermediate_color(c0, c1, (fraction - p0) / (p1 - p0) if p1 > p0 else 0.0)
    raise ValueError(fraction)


def colour_of(fig, value: float) -> tuple[float, ...]:
    heatmap = fig.data[0]
    return rgb_at(heatmap.colorscale, (value - heatmap.zmin) / (heatmap.zmax - heatmap.zmin))


def test_a_kernel_and_its_result_give_zero_the_same_white_and_keep_signs_apart():
    kernel = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    result = np.array([[0.0, -3, 8], [12, 0, -1]])
    k_fig, r_fig = plots.grid(kernel, "k"), plots.grid(result, "r")
    assert k_fig.data[0].zmin == -k_fig.data[0].zmax and r_fig.data[0].zmin == -r_fig.data[0].zmax
    assert colour_of(k_fig, 0) == colour_of(r_fig, 0)
    assert min(colour_of(k_fig, 0)) > 240  # near-white: "nothing", in both grids
    red, blue = colour_of(r_fig, -3), colour_of(r_fig, 8)
    assert red[0] > red[2] and blue[2] > blue[0]  # negatives orange, positives blue, not one colour for both


def test_non_negative_grids_start_white_at_zero():
    fig = plots.grid(np.array([[0.0, 2, 4]]), "n")
    assert fig.data[0].zmin == 0 and min(colour_of(fig, 0)) > 240
    assert plots.grid(np.zeros((2, 2)), "z").data[0].zmax > 0  # an all-zero grid still has a range


def test_chart_traces_differ_by_more_than_colour():
    bars = plots.grouped_bars([("a", ["x", "y"], np.array([1.0, 2])), ("b", ["x", "y"], np.array([2.0, 3]))], "y", "ru")
    first, second = (t.marker.color for t in bars.data)
    assert a11y.contrast_ratio(first, second) > 2  # blue and orange differ in lightness too: apart without hue
    lines = plots.line_chart([1.0, 2.0], [("a", [1.0, 2.0]), ("b", [2.0, 3.0]), ("c", [0.0, 1.0])], "x", "y", "en")
    assert len({t.line.dash for t in lines.data}) == 3 and len({t.marker.symbol for t in lines.data}) == 3
    assert {t.line.color for t in lines.data} <= set(plots.TRACE_COLOURS)
    for colour in plots.TRACE_COLOURS:  # every trace stands out from the white plot (the palette's yellow did not)
        assert a11y.contrast_ratio(colour, "#ffffff") >= 2, colour
