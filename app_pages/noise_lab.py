"""Noise lab: textbook noise on MNIST test digits, cleaned by the selected model."""

import numpy as np
import streamlit as st

from lib import a11y
from lib.i18n import format_number
from lib.lab import clipping_notes, error_map, example_indices, make_triples
from lib.ui import cache
from lib.ui.frame import CHOSEN_MODEL, frame, on_click_set, preset_name
from lib.ui.widgets import (
    chart_table,
    delta_metric,
    histogram_before_after_clip,
    histogram_table,
    image_strip,
    lab_alts,
    noise_controls,
    textbook_noise_settings,
)

f = frame("lab.page")
# The textbook's set-up (Appendix 1): Group B noise, the 50/50 mix, clipping on, seed 0, the Group B model.
TEXTBOOK = {**textbook_noise_settings("lab"), "keep_lab_count": 6, "keep_lab_seed": 0, "keep_lab_pick": 0,
            "keep_lab_errors": False, "keep_lab_hist": False, CHOSEN_MODEL: "shipped:table1_B"}  # fmt: skip
st.caption(f.t("lab.intro"))
digits = cache.test_digits()

with st.sidebar:
    st.button(f.t("lab.reset"), key="lab_reset", help=f.t("lab.reset_help"), width="stretch",
              on_click=on_click_set(TEXTBOOK))  # fmt: skip
    st.subheader(f.t("noise.header"))
    noise = noise_controls(f, "lab")
    st.subheader(f.t("lab.examples"))
    count = st.slider(f.t("lab.count"), 1, 12, 6, key="keep_lab_count", persist_state="session")
    seed = st.number_input(
        f.t("lab.seed"), 0, 2**31 - 1, 0, key="keep_lab_seed", persist_state="session", help=f.t("lab.seed_help")
    )
    st.session_state.setdefault("keep_lab_pick", 0)
    if st.button(f.t("lab.new_examples"), key="lab_new", width="stretch"):
        st.session_state["keep_lab_pick"] += 1
    show_errors = st.toggle(f.t("lab.error_maps"), key="keep_lab_errors", persist_state="session")
    show_hist = st.toggle(f.t("lab.histogram"), key="keep_lab_hist", persist_state="session")

if f.model is None:
    st.stop()

indices = example_indices(count, st.session_state["keep_lab_pick"], len(digits))
if f.model.source == "shipped":  # the same picture for everybody with these settings: computed once
    result = cache.lab_triples(f.model.key, f.model.model, tuple(int(i) for i in indices), noise, int(seed))
else:
    result = make_triples(f.model.model, digits.images[indices], noise, int(seed), cache.device())
avg = result.averages()

cols = st.columns(4)
db = f.t("common.unit.db")


def num(value: float, spec: str) -> str:
    return format_number(value, f.lang, spec)


if avg["psnr_noisy"] is None:  # the noise changed nothing: no noisy score, no fake "−75 dB" improvement
    cols[0].metric(f.t("lab.avg_psnr_noisy"), f.t("lab.no_noise"))
    cols[1].metric(f.t("lab.avg_psnr_cleaned"), f"{num(avg['psnr_cleaned'], '.2f')} {db}")
    cols[2].metric(f.t("lab.avg_ssim_noisy"), f.t("lab.no_noise"))
    cols[3].metric(f.t("lab.avg_ssim_cleaned"), num(avg["ssim_cleaned"], ".3f"))
    st.info(f.t("lab.no_noise_note"))
else:
    cols[0].metric(f.t("lab.avg_psnr_noisy"), f"{num(avg['psnr_noisy'], '.2f')} {db}")
    psnr_gain = round(avg["psnr_cleaned"] - avg["psnr_noisy"], 2)  # as shown: "+0,00" is no change
    ssim_gain = round(avg["ssim_cleaned"] - avg["ssim_noisy"], 3)
    delta_metric(cols[1], f.t("lab.avg_psnr_cleaned"), f"{num(avg['psnr_cleaned'], '.2f')} {db}", psnr_gain,
                 f"{num(psnr_gain, '+.2f')} {db}")  # fmt: skip
    cols[2].metric(f.t("lab.avg_ssim_noisy"), num(avg["ssim_noisy"], ".3f"))
    delta_metric(cols[3], f.t("lab.avg_ssim_cleaned"), num(avg["ssim_cleaned"], ".3f"), ssim_gain,
                 num(ssim_gain, "+.3f"))  # fmt: skip
    if result.untouched.any():
        st.caption(f.t("lab.partly_untouched", n=int(result.untouched.sum()), total=len(indices)))
    with st.expander(f.t("common.why_lower_title"), expanded=avg["psnr_cleaned"] < avg["psnr_noisy"]):
        if avg["psnr_cleaned"] < avg["psnr_noisy"]:  # the example is what the class sees, computed
            st.markdown(f.t("lab.why_lower_here", noisy=avg["psnr_noisy"], cleaned=avg["psnr_cleaned"],
                            diff=avg["psnr_noisy"] - avg["psnr_cleaned"]))  # fmt: skip
        st.markdown(f.t("common.why_lower"))

headers = [f.t("lab.original"), f.t("lab.noisy"), f.t("lab.cleaned")]
if show_errors:
    headers += [f.t("lab.err_noisy"), f.t("lab.err_cleaned")]
st.markdown(f.t("lab.legend", columns=" · ".join(f"**{h}**" for h in headers)))
# one fixed-width strip per example in a wrapping row: two side by side when they fit, one per line otherwise
grid = st.container(horizontal=True, wrap=True, gap="small")
size = 136 if f.scale > 1 else 104  # two strips of three side by side: 104 px tiles at 1024×768, 136 px on a projector
for i, idx in enumerate(indices):
    images = [cache.test_digit_tile(int(idx), size), result.noisy[i], result.cleaned[i]]
    captions = [
        f.t("lab.caption_label", label=int(digits.labels[idx]), index=int(idx)),
        f.t("noise.kind.gaussian" if result.gaussian[i] else "noise.kind.speckle")
        + " · "
        + (
            f.t("lab.no_noise")
            if result.untouched[i]
            else f.t("lab.caption_scores", psnr=result.psnr_noisy[i], ssim=result.ssim_noisy[i])
        ),
        f.t("lab.caption_scores", psnr=result.psnr_cleaned[i], ssim=result.ssim_cleaned[i]),
    ]
    alts = lab_alts(f, result, i, int(digits.labels[idx]), int(idx), noise, preset_name(noise), f.name(f.model.key))
    if show_errors:
        errors = [error_map(result.clean[i], result.noisy[i]), error_map(result.clean[i], result.cleaned[i])]
        maes = [float(np.mean(e)) for e in errors]
        images += errors
        captions += [f.t("lab.caption_mae", mae=mae) for mae in maes]
        subject = a11y.digit(f.lang, int(digits.labels[idx]), int(idx))
        alts += [a11y.error_map(f.lang, subject, "noisy", maes[0]), a11y.error_map(f.lang, subject, "cleaned", maes[1])]
    with grid.container(width="content"):
        image_strip(images, captions, alts, size=size)

if show_hist:
    st.subheader(f.t("lab.histogram"))
    st.plotly_chart(histogram_before_after_clip(f, result.noisy_raw), key="lab_hist_chart")
    chart_table(f, histogram_table(f, result.noisy_raw), key="lab_hist_table")
    st.info("\n\n".join(f.t(key, **params) for key, params in clipping_notes(noise, result)))
