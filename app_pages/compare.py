"""Compare: autoencoders vs classical filters, the textbook's section 5 experiment, robustness sweeps."""

import json
from pathlib import Path

import pandas as pd
import streamlit as st

from lib import a11y, baselines
from lib.compare import section5, section5_finding
from lib.noise import preset
from lib.ui import cache
from lib.ui.examples import example_row
from lib.ui.frame import frame
from lib.ui.plots import grouped_bars, line_chart
from lib.ui.section5 import render_section5_outside
from lib.ui.widgets import chart_table, image_strip, method_label, row_alts, teacher_note

RESULTS = cache.WEIGHTS_DIR / "compare.json"


@st.cache_data(show_spinner=False)
def load_results(path: str, mtime: float) -> dict:
    return json.loads(Path(path).read_text())


f = frame("compare.page")


def label(method: str) -> str:
    return method_label(f, method)


if not RESULTS.exists():
    st.info(f.t("compare.missing", command="python -m lib compare --weights weights/*.pt --out weights/compare.json"))
    st.stop()
results = load_results(str(RESULTS), RESULTS.stat().st_mtime)
rows = pd.DataFrame(results["rows"])
st.caption(f.t("compare.source", n=results["limit"], bm3d=results["bm3d_limit"]))
teacher_note(f, results["command"])

group = st.radio(
    f.t("compare.group"),
    ["B", "A"],
    horizontal=True,
    key="keep_compare_group",
    persist_state="session",
    format_func=lambda g: f.t(f"noise.group.{g}"),
)
sub = rows[rows["group"] == group]
wide = sub.pivot_table(index="method", columns="kind", values=["psnr", "ssim", "stroke_psnr"], sort=False)
wide.columns = [f"{f.t('compare.metric.' + m)} · {f.t('noise.kind.' + k)}" for m, k in wide.columns]
wide.index = [label(m) for m in wide.index]
n_col = sub.groupby("method", sort=False)["n"].first()
wide[f.t("compare.n")] = n_col.values
# a plain table: it fits the page's width (long headers and model names wrap) and a screen reader reads it
scores = {column: (lambda v: f.num(v, ".3f")) for column in wide.columns}
scores[f.t("compare.n")] = lambda v: f.num(int(v), ",")  # a count of digits: 1 000, not 1000,000
st.table(wide.style.format(scores))

with st.expander(f.t("common.why_lower_title")):
    example = rows[(rows["group"] == "A") & (rows["kind"] == "gaussian")].set_index("method")["psnr"]
    if {"noisy", "table1_B"} <= set(example.index):  # the table's own numbers, not remembered ones
        st.markdown(f.t("compare.why_lower_table", noisy=example["noisy"], cleaned=example["table1_B"],
                        model=label("table1_B")))  # fmt: skip
    st.markdown(f.t("common.why_lower"))

# A radio always has one option selected (a segmented control can be clicked off, leaving nothing shown as chosen)
metric = st.radio(
    f.t("compare.chart_metric"), ["psnr", "ssim", "stroke_psnr"], index=0, horizontal=True, key="keep_compare_metric",
    persist_state="session", format_func=lambda m: f.t("compare.metric." + m),
)  # fmt: skip
bars = []  # (name, x labels, heights) per noise kind
for kind in ("gaussian", "speckle"):
    part = sub[sub["kind"] == kind]
    bars.append((f.t("noise.kind." + kind), [label(m) for m in part["method"]], part[metric].to_numpy()))
st.plotly_chart(grouped_bars(bars, f.t("compare.metric." + metric), f.lang), key="compare_bars")

st.header(f.t("compare.examples"))
digits = cache.test_digits()
c1, c2 = st.columns(2)
index = c1.number_input(
    f.t("inside.digit_index"), 0, len(digits) - 1, 7, key="keep_compare_index", persist_state="session"
)
kind = c2.radio(f.t("noise.kind"), ["gaussian", "speckle"], horizontal=True, key="keep_compare_kind", persist_state="session",
                format_func=lambda k: f.t("noise.kind." + k))  # fmt: skip
shipped = {key: loaded.model for key, loaded in f.models.items() if loaded.source == "shipped"}
images = example_row(group, kind, int(index), tuple(shipped), tuple(shipped.values()))
titles = [f.t("lab.original"), label("noisy"), *(label(f.models[key].label) for key in shipped)]
titles += [label(name) for name in baselines.BASELINES]
subject = a11y.digit(f.lang, int(digits.labels[int(index)]), int(index))
alts = row_alts(f, subject, a11y.noise_words(f.lang, preset(group), kind, group), titles[2:])
# one image list of fixed-width tiles: wraps onto more lines on narrow screens, names stay whole
image_strip(images, titles, alts)

st.header(f.t("compare.section5"))
table = section5(results["rows"], "table1_A", "table1_B")
if table["table1_A"] and table["table1_B"]:
    settings = sorted(table["table1_A"])
    frame5 = pd.DataFrame(
        {label(m): [table[m][s] for s in settings] for m in ("table1_A", "table1_B")},
        index=[f"{f.t('noise.group.' + s.split('/')[0])} · {f.t('noise.kind.' + s.split('/')[1])}" for s in settings],
    )
    st.dataframe(frame5.style.format(lambda v: f"{f.num(v, '.2f')} {f.t('common.unit.db')}"), width="stretch")
    diffs = section5_finding(table, "table1_A", "table1_B")
    lines = []
    for s, d in diffs.items():
        g, k = s.split("/")
        winner = label("table1_B") if d > 0 else label("table1_A")
        lines.append(f.t("compare.finding", setting=f"{f.t('noise.group.' + g)} · {f.t('noise.kind.' + k)}", winner=winner,
                         diff=abs(d)))  # fmt: skip
    st.markdown("\n".join(f"- {line}" for line in lines))
    st.caption(f.t("compare.section5_book"))

render_section5_outside(f)

st.header(f.t("compare.sweep"))
sweeps = results["sweep"]
tab_g, tab_s = st.tabs([f.t("compare.sweep_var"), f.t("compare.sweep_speckle")])
for tab, axis, xtitle in ((tab_g, "gaussian_var", f.t("noise.var")), (tab_s, "speckle", f.t("noise.speckle"))):
    data = sweeps[axis]
    series = [(label(name), ys) for name, ys in data["series"].items()]
    tab.plotly_chart(line_chart(data["x"], series, xtitle, f.t("common.unit.psnr"), f.lang), key=f"sweep_{axis}")
    with tab:
        chart_table(f, pd.DataFrame({xtitle: data["x"], **dict(series)}), key=f"sweep_table_{axis}")
st.caption(f.t("compare.sweep_note", n=results["sweep_limit"]))
