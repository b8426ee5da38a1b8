"""Convolution step by step: every idea of the textbook's sections 1–2, computed by lib.convolution."""

from fractions import Fraction
from functools import partial

import numpy as np
import pandas as pd
import streamlit as st

from lib import convolution as cv
from lib.i18n import LANGUAGES, read_number, t, true_minus
from lib.preprocess import IMAGE_TYPES, PreprocessError, open_image, to_gray
from lib.ui import cache, plots
from lib.ui.frame import frame
from lib.ui.plots import correlation_figures, signals
from lib.ui.uploads import file_uploader
from lib.ui.widgets import chart_table, number_field, tex_number, upscale

f = frame("conv.page")
grid = partial(plots.grid, scale=f.scale, lang=f.lang)  # numbers the UI's way, larger with the projector setting
st.caption(f.t("conv.intro"))
dec = "," if f.lang == "ru" else "."  # decimal separator of the language
sep_mark = "; " if f.lang == "ru" else ", "  # with a decimal comma, vector entries are separated by semicolons


def matrix_editor(default: np.ndarray, key: str) -> np.ndarray:
    """An editable number grid; empty cells count as 0. The edited grid is kept (keep_<key>) across page switches."""
    kept = f"keep_{key}"  # a data editor cannot persist its edits itself: the grid is the next run's starting data
    start = st.session_state.get(kept, default)
    grid_in = np.asarray(start, dtype=float)
    columns = [str(c) for c in range(1, grid_in.shape[1] + 1)]  # numbered from 1, like the textbook's cells
    # Cells hold text written the UI language's way ("0,1111", "−1"): a number column would follow the browser's
    # locale, with a decimal point and a hyphen for minus. Either way of typing is read back.
    shown = [["" if np.isnan(v) else f.num(round(float(v), 4) + 0.0, "g") for v in row] for row in grid_in]
    edited = st.data_editor(pd.DataFrame(shown, columns=columns), key=key, hide_index=True, width="content")
    values = edited.map(read_number).to_numpy(dtype=float)
    st.session_state[kept] = values
    if np.isnan(values).any():
        st.caption(f.t("conv.empty_cells"))
    return np.nan_to_num(values)


# Tabs that rerun when one is opened, and only the open one is computed: the first visit draws four small
# grids instead of every tab's twenty charts, two editors and formulas (docs/app-behaviour.md, "Speed").
TAB_KEY = "conv_tab"
tab_labels = [f.t(f"conv.tab{i}") for i in range(1, 9)]
kept_tab = st.session_state.get(TAB_KEY)
for other in LANGUAGES:  # a tab chosen before a language switch stays open, under its new name
    names = [t(f"conv.tab{i}", other) for i in range(1, 9)]
    if kept_tab in names and kept_tab not in tab_labels:
        st.session_state[TAB_KEY] = tab_labels[names.index(kept_tab)]
tabs = st.tabs(tab_labels, key=TAB_KEY, on_change="rerun")

if tabs[0].open:  # only the open tab is computed and sent
    with tabs[0]:
        st.markdown(f.t("conv.corr_text"))
        st.latex(r"(f * g)(x) = \sum_{k=-\infty}^{+\infty} f(k)\, g(x-k) \qquad (3)")
        st.latex(r"S(i,j) = (K * I)(i,j) = \sum_m \sum_n I(i-m,\, j-n)\, K(m,n) \qquad (6)")
        st.latex(r"S(i,j) = (I \star K)(i,j) = \sum_m \sum_n I(i+m,\, j+n)\, K(m,n) \qquad (7)")
        flip = st.toggle(f.t("conv.flip"), key="keep_conv_flip", persist_state="session")
        figures, ours, ref = correlation_figures(f.lang, flip, f.scale)
        c = st.columns(4)
        for column, figure, key in zip(c, figures, ("corr_in", "corr_k", "corr_ours", "corr_torch")):
            column.plotly_chart(figure, key=key)
        same = np.allclose(ours, ref)
        (st.success if same else st.warning)(f.t("conv.corr_same" if same else "conv.corr_differs"))

if tabs[1].open:  # only the open tab is computed and sent
    with tabs[1]:
        left, right = st.columns([1, 1])
        with left:
            st.markdown(f.t("conv.input_edit"))
            x = matrix_editor(cv.FIG2_INPUT, "conv_input_editor")
            preset = st.selectbox(f.t("conv.preset"), list(cv.KERNEL_PRESETS), index=1, key="keep_conv_preset", persist_state="session",
                                  format_func=lambda k: f.t(f"conv.kernel.{k}"), placeholder=f.t("common.choose"))  # fmt: skip
            st.markdown(f.t("conv.kernel_edit"))
            k = matrix_editor(cv.KERNEL_PRESETS[preset], f"conv_kernel_editor_{preset}")
        try:
            out = cv.conv2d(x, k)
        except ValueError:
            out = None
            right.error(f.t("conv.kernel_too_big"))
        if out is not None:
            total = out.size
            playing = left.toggle(f.t("conv.play"), key="conv_play")

            @st.fragment(run_every=1.0 if playing else None)
            def worked_example() -> None:
                # numbered from 1, as the textbook numbers its cells (s11 is step 1)
                st.session_state.setdefault("keep_conv_step", 1)
                if not 1 <= st.session_state["keep_conv_step"] <= total:
                    st.session_state["keep_conv_step"] = 1
                if playing:
                    st.session_state["keep_conv_step"] = st.session_state["keep_conv_step"] % total + 1
                index = st.slider(f.t("conv.step"), 1, total, key="keep_conv_step", persist_state="session") - 1
                s = cv.step(x, k, index)
                g1, g2 = st.columns(2)
                g1.plotly_chart(grid(x, f.t("conv.window", i=s.i + 1, j=s.j + 1), s.cells), key="worked_in")
                partial = np.full(out.shape, np.nan)
                partial.flat[: index + 1] = out.flat[: index + 1]
                g2.plotly_chart(grid(partial, f.t("conv.feature_map"), [(s.i, s.j)]), key="worked_out")
                kw = k.shape[1]
                rows = [s.products[r : r + kw] for r in range(0, len(s.products), kw)]  # one kernel row per line
                terms = "\n+ ".join(
                    " + ".join(f"({cv.number(a, decimal=dec)})·({cv.number(b, decimal=dec)})" for a, b, _ in row)
                    for row in rows
                )
                sums = cv.signed_sum([p for _, _, p in s.products], decimal=dec)
                st.markdown(f.t("conv.sum", i=s.i + 1, j=s.j + 1))
                st.code(f"{terms}\n= {sums}\n= {cv.number(s.total, decimal=dec)}", language=None, wrap_lines=True)

            with right:
                worked_example()
                st.plotly_chart(grid(out, f.t("conv.finished")), key="worked_full")
                if (
                    x.shape == cv.FIG2_INPUT.shape
                    and np.array_equal(x, cv.FIG2_INPUT)
                    and np.array_equal(k, cv.SHARPEN)
                ):
                    for i, j in np.argwhere(out != cv.FIG2_PRINTED_OUTPUT):
                        st.warning(f.t("conv.book_differs", i=i + 1, j=j + 1, book=cv.FIG2_PRINTED_OUTPUT[i, j],
                                       ours=out[i, j]))  # fmt: skip
        st.subheader(f.t("conv.on_image"))
        sources = ["mnist", "drawing", "upload"] if "last_drawing" in st.session_state else ["mnist", "upload"]
        if st.session_state.get("keep_conv_source") not in sources:
            st.session_state["keep_conv_source"] = "mnist"
        source = st.radio(f.t("conv.image_source"), sources, horizontal=True, key="keep_conv_source", persist_state="session",
                          format_func=lambda s: f.t(f"conv.source.{s}"))  # fmt: skip
        picture = None
        if source == "mnist":
            idx = st.number_input(f.t("inside.digit_index"), 0, 9999, 0, key="keep_conv_digit", persist_state="session")
            picture = cache.test_digits().images[int(idx)].numpy() / 255.0
        elif source == "drawing":
            picture = st.session_state["last_drawing"]
        else:
            upload = file_uploader(f.t("conv.upload"), "conv_upload", f.lang, IMAGE_TYPES)
            if upload is not None:
                try:
                    picture = cv.image_for_filtering(to_gray(open_image(upload.getvalue())))
                except PreprocessError as exc:
                    st.error(f.t(f"upload.error.{exc.code}", **exc.params))
                except Exception:  # an unforeseen decoder problem: a message, not a traceback
                    st.error(f.t("upload.error.unexpected"))
        if picture is not None and out is not None:
            filtered = cv.conv2d(picture, k, padding=(k.shape[0] // 2, k.shape[1] // 2))
            lo, hi = float(filtered.min()), float(filtered.max())
            shown = (filtered - lo) / (hi - lo) if hi > lo else np.zeros_like(filtered)
            a, b = st.columns(2)
            factor = max(1, 224 // max(picture.shape))
            a.image(upscale(picture, factor), caption=f.t("conv.before"), alt=f.t("alt.conv.before"))
            b.image(
                upscale(shown, factor), caption=f.t("conv.after", lo=lo, hi=hi), alt=f.t("alt.conv.after", lo=lo, hi=hi)
            )

if tabs[2].open:  # only the open tab is computed and sent
    with tabs[2]:
        c = st.columns(4)
        n_h = c[0].slider(f.t("conv.in_h"), 3, 12, 7, key="keep_sp_h", persist_state="session")
        n_w = c[0].slider(f.t("conv.in_w"), 3, 12, 7, key="keep_sp_w", persist_state="session")
        ksz = c[1].slider(f.t("conv.k"), 1, 5, 3, key="keep_sp_k", persist_state="session")
        s_h = c[1].slider(f.t("conv.stride_h"), 1, 4, 1, key="keep_sp_sh", persist_state="session")
        s_w = c[2].slider(f.t("conv.stride_w"), 1, 4, 1, key="keep_sp_sw", persist_state="session")
        pad = c[2].slider(f.t("conv.padding"), 0, 3, 0, key="keep_sp_p", persist_state="session")
        dil = c[3].slider(f.t("conv.dilation"), 1, 3, 1, key="keep_sp_d", persist_state="session")
        out_h = cv.output_size(n_h, ksz, s_h, pad, dil)
        out_w = cv.output_size(n_w, ksz, s_w, pad, dil)
        st.latex(
            rf"H_{{out}} = \left\lfloor \frac{{{n_h} + 2\cdot{pad} - {dil}\cdot({ksz}-1) - 1}}{{{s_h}}} \right\rfloor + 1 = {out_h}"
        )
        st.latex(
            rf"W_{{out}} = \left\lfloor \frac{{{n_w} + 2\cdot{pad} - {dil}\cdot({ksz}-1) - 1}}{{{s_w}}} \right\rfloor + 1 = {out_w}"
        )
        if out_h < 1 or out_w < 1:  # the formula's negative "size" means there is no output at all
            rf = cv.receptive_field(ksz, dil)
            st.warning(f.t("conv.no_output", rf=rf, h=n_h + 2 * pad, w=n_w + 2 * pad))
        else:
            st.markdown(f.t("conv.shape_result", h=out_h, w=out_w, rf=cv.receptive_field(ksz, dil)))
            cells = out_h * out_w
            if not 1 <= st.session_state.get("keep_sp_cell", 1) <= cells:
                st.session_state["keep_sp_cell"] = 1  # numbered from 1 like the cells (1, 1) … (H, W)
            cell = (
                st.select_slider(f.t("conv.which_cell"), list(range(1, cells + 1)), key="keep_sp_cell",
                                 persist_state="session",
                                 format_func=lambda c: f"{c} · ({(c - 1) // out_w + 1}, {(c - 1) % out_w + 1})")
                if cells > 1
                else 1
            )  # fmt: skip
            i, j = divmod(cell - 1, out_w)
            numbered = np.arange(1, n_h * n_w + 1, dtype=float).reshape(n_h, n_w)
            padded = cv.pad(numbered, pad)
            seen = cv.window_cells(i, j, (ksz, ksz), (s_h, s_w), dil)
            g1, g2 = st.columns(2)
            g1.plotly_chart(grid(padded, f.t("conv.padded_input", cell=f"({i + 1}, {j + 1})"), seen),
                            key="sp_in")  # fmt: skip
            g2.plotly_chart(grid(np.zeros((out_h, out_w)), f.t("conv.output_grid", h=out_h, w=out_w), [(i, j)], fmt=""),
                            key="sp_out")  # fmt: skip
            st.caption(f.t("conv.cells_seen", cells=", ".join(f"{padded[r, q]:g}" for r, q in seen)))

if tabs[3].open:  # only the open tab is computed and sent
    with tabs[3]:
        st.markdown(f.t("conv.transposed_text"))
        options = {"k3s2": (3, 2), "k7s3": (7, 3), "k4s2": (4, 2), "k6s3": (6, 3)}
        choice = st.radio(f.t("conv.tr_preset"), list(options), horizontal=True, key="keep_tr_choice", persist_state="session",
                          format_func=lambda o: f"k = {options[o][0]}, s = {options[o][1]}")  # fmt: skip
        kt, stt = options[choice]
        n_in = st.slider(f.t("conv.tr_n"), 2, 8, 4 if kt < 7 else 8, key=f"keep_tr_n_{choice}", persist_state="session")
        counts = cv.transposed_overlap(n_in, kt, stt)
        coverage = cv.transposed_coverage(n_in, kt, stt)  # decided by k mod s, not by what a small map happens to show
        c1, c2 = st.columns(2)
        c1.plotly_chart(grid(counts, f.t("conv.tr_overlap", n=n_in, out=counts.shape[0]), colorscale="Viridis",
                             height=420), key="tr_overlap")  # fmt: skip
        if not coverage.uneven:
            c1.success(f.t("conv.tr_even", k=kt, s=stt, lo=coverage.lo))
        else:
            key = "conv.tr_uneven" if coverage.visible else "conv.tr_hidden"
            c1.warning(f.t(key, k=kt, s=stt, lo=coverage.lo, hi=coverage.hi, n=n_in))
        remedy = cv.resize_then_conv_overlap(n_in, 3, stt)
        c2.plotly_chart(grid(remedy, f.t("conv.tr_remedy", s=stt), colorscale="Viridis", height=420), key="tr_remedy")
        c2.caption(f.t("conv.tr_remedy_text"))

if tabs[4].open:  # only the open tab is computed and sent
    with tabs[4]:
        st.latex(r"X\cdot Y = \begin{pmatrix}x_1\\x_2\\x_3\end{pmatrix}(y_1\;y_2\;y_3) = "
                 r"\begin{pmatrix}x_1y_1 & x_1y_2 & x_1y_3\\ x_2y_1 & x_2y_2 & x_2y_3\\ x_3y_1 & x_3y_2 & x_3y_3\end{pmatrix}\quad(13)")  # fmt: skip
        presets = {"sobel": cv.outer(np.array([1.0, 2, 1]), np.array([-1.0, 0, 1])), "box_blur": cv.KERNEL_PRESETS["box_blur"],
                   "gaussian": cv.KERNEL_PRESETS["gaussian"], "sharpen": cv.SHARPEN}  # fmt: skip
        name = st.selectbox(f.t("conv.preset"), list(presets), key="keep_sep_preset", persist_state="session",
                            format_func=lambda k: f.t(f"conv.kernel.{'sobel_x' if k == 'sobel' else k}"), placeholder=f.t("common.choose"))  # fmt: skip
        ksep = matrix_editor(presets[name], f"sep_editor_{name}")
        c = st.columns(2)
        h_in = c[0].slider(f.t("conv.in_h"), 3, 30, 5, key="keep_sep_h", persist_state="session")
        w_in = c[1].slider(f.t("conv.in_w"), 3, 30, 5, key="keep_sep_w", persist_state="session")
        sep = cv.separability(ksep)
        st.markdown(
            f.t("conv.rank", rank=sep.rank, sv=sep_mark.join(cv.number(v, 3, dec) for v in sep.singular_values))
        )
        counts = cv.multiplications(h_in, w_in, *ksep.shape)
        st.dataframe(pd.DataFrame({f.t("conv.method"): [f.t("conv.direct"), f.t("conv.col_first"), f.t("conv.row_first")],
                                   f.t("conv.mults"): [counts["direct"], counts["column_first"], counts["row_first"]]}),
                     hide_index=True)  # fmt: skip
        if sep.separable:
            st.success(f.t("conv.separable"))
            scale = "" if sep.scale == 1 else true_minus(str(Fraction(sep.scale).limit_denominator(256))) + " · "
            vec = (
                "("
                + sep_mark.join(cv.number(v, 3, dec) for v in sep.column)
                + ")ᵀ · ("
                + sep_mark.join(cv.number(v, 3, dec) for v in sep.row)
                + ")"
            )
            st.markdown(f.t("conv.factors", product=f"{scale}{vec}"))
            c1, c2, c3 = st.columns(3)
            c1.plotly_chart(grid(sep.column[:, None], f.t("conv.column"), fmt="{:.3g}"),
                            key="sep_col")  # fmt: skip
            c2.plotly_chart(grid(sep.row[None, :], f.t("conv.row"), fmt="{:.3g}"), key="sep_row")
            c3.plotly_chart(grid(cv.outer(sep.column, sep.row), f.t("conv.outer"), fmt="{:.3g}"),
                            key="sep_outer")  # fmt: skip
            demo = np.random.default_rng(0).integers(0, 10, (h_in, w_in)).astype(float)
            direct = cv.conv2d(demo, ksep)
            two_pass = cv.separable_conv2d(demo, sep.column, sep.row, scale=sep.scale)
            st.markdown(f.t("conv.identical", diff=float(np.abs(direct - two_pass).max())))
        else:
            st.warning(f.t("conv.not_separable", rank=sep.rank))

if tabs[5].open:  # only the open tab is computed and sent
    with tabs[5]:
        st.markdown(f.t("conv.multi_text"))
        rng = np.random.default_rng(
            int(st.number_input(f.t("conv.image_seed"), 0, 9999, 1, key="keep_mc_seed", persist_state="session"))
        )
        rgb = rng.integers(0, 4, (3, 6, 6)).astype(float)
        filt = np.stack(
            [cv.KERNEL_PRESETS["sobel_x"], cv.KERNEL_PRESETS["box_blur"] * 9, cv.KERNEL_PRESETS["identity"]]
        )
        maps, total_map = cv.conv2d_multichannel(rgb, filt)
        st.image(upscale(np.transpose(rgb / 3, (1, 2, 0)), 24), caption=f.t("conv.rgb_image"), alt=f.t("alt.conv.rgb"))
        cols = st.columns(4)
        for ch, col in enumerate(cols[:3]):
            col.plotly_chart(grid(rgb[ch], f.t(f"conv.channel{ch}"), colorscale=["Reds", "Greens", "Blues"][ch]),
                             key=f"mc_in{ch}")  # fmt: skip
            col.plotly_chart(grid(filt[ch], f.t("conv.kernel_used")), key=f"mc_k{ch}")
            col.plotly_chart(grid(maps[ch], f.t("conv.channel_map")), key=f"mc_map{ch}")
        cols[3].plotly_chart(grid(total_map, f.t("conv.sum_map")), key="mc_sum")
        ref = cv.torch_reference(rgb[0], filt[0])
        cols[3].caption(f.t("conv.multi_check", ok="✓" if np.allclose(ref, maps[0]) else "✗"))

if tabs[6].open:  # only the open tab is computed and sent
    with tabs[6]:
        c = st.columns(3)
        kind = c[0].selectbox(f.t("conv.signal_kernel"), ["average", "gaussian", "difference"], key="keep_1d_kernel", persist_state="session",
                              format_func=lambda k: f.t(f"conv.k1d.{k}"), placeholder=f.t("common.choose"))  # fmt: skip
        stride1 = c[1].slider(f.t("conv.stride"), 1, 4, 1, key="keep_1d_stride", persist_state="session")
        seed1 = c[2].number_input(f.t("conv.signal_seed"), 0, 9999, 0, key="keep_1d_seed", persist_state="session")
        kernels_1d = {
            "average": np.full(7, 1 / 7),
            "gaussian": np.array([1, 4, 6, 4, 1]) / 16,
            "difference": np.array([1.0, -1.0]),
        }
        k1 = kernels_1d[kind]
        sig = cv.textbook_signal(200, np.random.default_rng(int(seed1)))
        y = cv.conv1d(
            sig, k1, stride=stride1, flip=True
        )  # the convolution of the formula below: the kernel is mirrored
        st.latex(r"h(x) = \sum_{k} f(k)\, g(x-k)")
        st.caption(f.t("conv.signal_flip"))
        st.markdown(f.t("conv.signal_text", k=sep_mark.join(f.num(v, ".3g") for v in k1), n=len(sig), m=len(y)))
        names = (f.t("conv.signal_in"), f.t("conv.signal_out"))
        fig = signals(sig, y, names, offset=(len(k1) - 1) / 2, stride=int(stride1), lang=f.lang)
        st.plotly_chart(fig, key="sig_plot")
        out_x = np.arange(len(y)) * int(stride1) + (len(k1) - 1) / 2  # output i sits at its window's centre
        table = pd.merge(pd.DataFrame({"x": np.arange(len(sig), dtype=float), names[0]: sig}),
                         pd.DataFrame({"x": out_x, names[1]: y}), on="x", how="outer")  # fmt: skip
        chart_table(f, table, key="sig_table")

if tabs[7].open:  # only the open tab is computed and sent
    with tabs[7]:
        st.markdown(f.t("conv.toy_text"))
        # inputs, encoder weights, decoder weights: one column each, so no field is left alone on a narrow screen
        groups = [[("x1", 2.0), ("x2", 6.0)], [("w11", 2.0), ("w12", 1.0)], [("w21", 0.3), ("w22", 0.7)]]
        vals = [number_field(column, lbl, v, f"keep_toy_{lbl}", f.lang)
                for column, group in zip(st.columns(3), groups) for lbl, v in group]  # fmt: skip
        r = cv.toy_autoencoder(*vals)
        x1, x2, w11, w12, w21, w22 = (tex_number(v, f.lang, factor=True) for v in vals)
        h = tex_number(r["h"], f.lang, factor=True)
        st.latex(
            rf"h = x_1 w_{{11}} + x_2 w_{{12}} = {x1}\cdot{w11} + {x2}\cdot{w12} = {tex_number(r['x1w11'], f.lang)} + {tex_number(r['x2w12'], f.lang, factor=True)} = {tex_number(r['h'], f.lang)}"
        )
        st.latex(
            rf"y_1 = w_{{21}} h = {w21}\cdot{h} = {tex_number(r['y1'], f.lang, '.4g')}, \qquad y_2 = w_{{22}} h = {w22}\cdot{h} = {tex_number(r['y2'], f.lang, '.4g')}"
        )
        if vals == [2.0, 6.0, 2.0, 1.0, 0.3, 0.7]:
            st.info(f.t("conv.toy_book", y2=r["y2"]))
