"""Inside the model: Table 1 from the live layers, feature maps, kernels and the checkerboard risk."""

import re

import numpy as np
import pandas as pd
import streamlit as st

from lib import a11y
from lib.anatomy import (
    decoder_of_blank,
    first_layer_kernels,
    layer_table,
    output_of_blank,
    stage_outputs,
    table_heading_key,
    tile,
)
from lib.convolution import transposed_coverage, transposed_overlap
from lib.i18n import true_minus
from lib.noise import add_noise, make_generator
from lib.ui import cache
from lib.ui.frame import frame, preset_name
from lib.ui.plots import overlap_map
from lib.ui.section5 import render_unet_inside
from lib.ui.widgets import chart_table, noise_controls, upscale

f = frame("inside.page")
if f.model is None:
    st.stop()
model = f.model.model
digits = cache.test_digits()

with st.sidebar:
    st.subheader(f.t("inside.input"))
    index = st.number_input(
        f.t("inside.digit_index"), 0, len(digits) - 1, 0, key="keep_inside_index", persist_state="session"
    )
    seed = st.number_input(f.t("lab.seed"), 0, 2**31 - 1, 0, key="keep_inside_seed", persist_state="session")
    noise = noise_controls(f, "inside", kinds=("gaussian", "speckle"))

clean = digits.images[int(index) : int(index) + 1].float()  # (1, 28, 28)
noisy = add_noise(clean, noise, make_generator(int(seed))) / 255.0  # (1, 28, 28)
x = noisy.unsqueeze(1).to(cache.device())  # (1, 1, 28, 28)

is_conv = f.model.checkpoint.model_config.name == "table1"
st.header(f.t(table_heading_key(f.model.checkpoint.model_config.name)))
rows = layer_table(model, x)
decimal = "," if f.lang == "ru" else "."
table = pd.DataFrame(
    [
        {
            f.t("inside.col_layer"): r.name,
            f.t("inside.col_op"): re.sub(r"(\d)\.(\d)", rf"\1{decimal}\2", r.operation),  # "Dropout(p=0,2)"
            f.t("inside.col_shape"): " × ".join(map(str, r.output_shape)),
            f.t("inside.col_params"): f.num(r.parameters, ",d"),
            f.t("inside.col_formula"): true_minus(r.formula),
        }
        for r in rows
    ]
)
# a static table: every header and formula wraps inside the page's width instead of being cut off
st.table(table, hide_index=True)
st.caption(f.t("inside.total_params", total=sum(r.parameters for r in rows)))

st.header(f.t("inside.maps"))
outputs = stage_outputs(model, x)
cols = st.columns([1, 1])
subject = a11y.digit(f.lang, int(digits.labels[int(index)]), int(index))
noise_text = a11y.noise_words(f.lang, noise, group=preset_name(noise))
cols[0].image(upscale(noisy[0].clamp(0, 1).numpy(), 6), caption=f.t("inside.noisy_input"),
              alt=f.t("alt.inside.input", digit=subject, noise=noise_text))  # fmt: skip
cols[1].image(upscale(outputs[-1][1][0].numpy(), 6), caption=f.t("inside.final_output"), alt=f.t("alt.inside.output"))
if f.model.checkpoint.model_config.name == "bfunet":
    render_unet_inside(f, outputs)
elif is_conv:
    for name, maps in outputs[:-1]:
        c, h, w = maps.shape
        st.markdown(f.t("inside.stage", name=name, c=c, h=h, w=w))
        st.image(upscale(tile(maps.numpy(), columns=16), 6 if h < 10 else 3), width="stretch",
                 alt=f.t("alt.inside.maps", c=c, h=h, w=w, name=name))  # fmt: skip

    st.header(f.t("inside.kernels"))
    kernels = first_layer_kernels(model)  # (32, 7, 7)
    st.image(upscale(tile(kernels, columns=16), 10), width="stretch", caption=f.t("inside.kernels_caption"),
             alt=f.t("alt.inside.kernels"))  # fmt: skip

    st.header(f.t("inside.checker"))
    last = model.layer01[0]
    k, s = last.kernel_size[0], last.stride[0]
    counts = transposed_overlap(8, k, s)
    c1, pictures = st.columns([3, 2])  # the map is 28×28 numbers: it needs the room to be read
    c2, c3 = pictures.columns(2)
    c1.markdown(f"**{f.t('inside.overlap', k=k, s=s)}**")  # a page title wraps; a chart title is cut on phones
    c1.plotly_chart(overlap_map(counts, f.lang), key="overlap_map")
    blank = output_of_blank(model)
    c2.image(upscale(blank, 6), caption=f.t("inside.blank_output"),
             alt=f.t("alt.inside.blank_output", mean=float(blank.mean()), top=float(blank.max())))  # fmt: skip
    blank_code = decoder_of_blank(model)
    spread = (blank_code - blank_code.min()) / max(float(np.ptp(blank_code)), 1e-12)
    lo, hi = float(blank_code.min()), float(blank_code.max())
    c3.image(upscale(spread, 6), caption=f.t("inside.blank_code", lo=lo, hi=hi),
             alt=f.t("alt.inside.blank_code", lo=lo, hi=hi))  # fmt: skip
    coverage = transposed_coverage(8, k, s)
    st.info(f.t("inside.checker_note", k=k, s=s, lo=coverage.lo, hi=coverage.hi))
else:
    st.info(f.t("inside.linear_note"))
    code = model.encoder(x.flatten(1))[0]  # (64,)
    values = code.detach().cpu().numpy()  # (64,)
    st.bar_chart(pd.DataFrame({"code": values}))
    chart_table(f, pd.DataFrame({"№": np.arange(1, len(values) + 1), "code": values}), key="code_table")
